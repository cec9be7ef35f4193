"""Suspend a member for a while: every session and live connection ends at once, and they
cannot sign in (the sign-in form tells them until when) until it ends or is lifted."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from app.activity import service as activity
from app.activity import verbs
from app.kit import clock
from app.kit.errors import Conflict
from app.kit.i18n import format_when
from app.kit.i18n import gettext as _
from app.live.broker import disconnect_member_after_commit
from app.models import AuthSession, Member
from app.moderation import audit, notices, policy
from app.moderation.silence import member_state


async def suspend(
    session: AsyncSession, moderator: Member, member: Member, hours: int, reason: str
) -> None:
    policy.check_can_act_on(moderator, member)
    before = member_state(member)
    until = clock.now() + timedelta(hours=hours)
    member.suspended_until = until
    member.suspend_reason = reason
    await session.flush()
    await session.execute(delete(AuthSession).where(AuthSession.member_id == member.id))
    disconnect_member_after_commit(session, member.id)
    await activity.record(
        session,
        verbs.MEMBER_SUSPENDED,
        actor_id=moderator.id,
        recipient_id=member.id,
        subject=("member", member.id),
        data={"reason": reason, "until": until.isoformat()},
    )
    await notices.tell(
        session,
        member.id,
        lambda: _(
            "A moderator suspended your account until %(when)s. Reason: %(reason)s",
            when=format_when(until),
            reason=reason,
        ),
        subject=("member", member.id),
    )
    await audit.log(
        session,
        actor=moderator,
        action="member.suspended",
        target=("member", member.id),
        reason=reason,
        before=before,
        after=member_state(member),
        concerns=member.id,
        data={"hours": hours},
    )


async def unsuspend(session: AsyncSession, moderator: Member, member: Member, reason: str) -> None:
    policy.check_can_act_on(moderator, member)
    if not policy.is_suspended(member):
        raise Conflict(_("This member is not suspended."))
    before = member_state(member)
    member.suspended_until = None
    member.suspend_reason = ""
    await session.flush()
    await notices.tell(
        session,
        member.id,
        lambda: _("A moderator lifted your suspension. You can sign in again."),
        subject=("member", member.id),
    )
    await audit.log(
        session,
        actor=moderator,
        action="member.unsuspended",
        target=("member", member.id),
        reason=reason,
        before=before,
        after=member_state(member),
        concerns=member.id,
    )
