"""Warn a member privately: the notifications feature tells them (app and email)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.activity import service as activity
from app.activity import verbs
from app.models import Member
from app.moderation import audit, policy


async def warn(session: AsyncSession, moderator: Member, member: Member, reason: str) -> None:
    policy.check_can_act_on(moderator, member)
    await activity.record(
        session,
        verbs.MEMBER_WARNED,
        actor_id=moderator.id,
        recipient_id=member.id,
        subject=("member", member.id),
        data={"reason": reason},
    )
    await audit.log(
        session,
        actor=moderator,
        action="member.warned",
        target=("member", member.id),
        reason=reason,
        concerns=member.id,
    )
