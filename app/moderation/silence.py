"""Silence a member for a while: they read, but cannot post, flag, like or vote."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.activity import service as activity
from app.activity import verbs
from app.kit import clock
from app.kit.errors import Conflict
from app.kit.i18n import format_when
from app.kit.i18n import gettext as _
from app.models import Member
from app.moderation import audit, notices, policy


def member_state(member: Member) -> dict[str, object]:
    return {
        "role": member.role,
        "silenced_until": member.silenced_until.isoformat() if member.silenced_until else None,
        "suspended_until": member.suspended_until.isoformat() if member.suspended_until else None,
    }


async def silence(
    session: AsyncSession, moderator: Member, member: Member, hours: int, reason: str
) -> None:
    policy.check_can_act_on(moderator, member)
    before = member_state(member)
    until = clock.now() + timedelta(hours=hours)
    member.silenced_until = until
    member.silence_reason = reason
    await session.flush()
    await activity.record(
        session,
        verbs.MEMBER_SILENCED,
        actor_id=moderator.id,
        recipient_id=member.id,
        subject=("member", member.id),
        data={"reason": reason, "until": until.isoformat()},
    )
    await notices.tell(
        session,
        member.id,
        lambda: _(
            "A moderator silenced you until %(when)s: you can read, but not post, flag or "
            "react. Reason: %(reason)s",
            when=format_when(until),
            reason=reason,
        ),
        subject=("member", member.id),
    )
    await audit.log(
        session,
        actor=moderator,
        action="member.silenced",
        target=("member", member.id),
        reason=reason,
        before=before,
        after=member_state(member),
        concerns=member.id,
        data={"hours": hours},
    )


async def unsilence(session: AsyncSession, moderator: Member, member: Member, reason: str) -> None:
    policy.check_can_act_on(moderator, member)
    if not policy.is_silenced(member):
        raise Conflict(_("This member is not silenced."))
    before = member_state(member)
    member.silenced_until = None
    member.silence_reason = ""
    await session.flush()
    await notices.tell(
        session,
        member.id,
        lambda: _("A moderator lifted your silence. You can take part again."),
        subject=("member", member.id),
    )
    await audit.log(
        session,
        actor=moderator,
        action="member.unsilenced",
        target=("member", member.id),
        reason=reason,
        before=before,
        after=member_state(member),
        concerns=member.id,
    )
