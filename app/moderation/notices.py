"""Telling a member privately what moderation decided about them or their post.

The notice is written in the member's own language (not the moderator's) and goes through
the notifications feature under the "warnings from moderators" preference.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Member


async def tell(
    session: AsyncSession,
    member_id: int,
    message: Callable[[], str],
    *,
    subject: tuple[str, int] | None = None,
) -> None:
    """``message`` (a sentence with the moderator's reason) is called in the member's
    locale, so its gettext speaks their language."""
    from app.notifications import kinds
    from app.notifications.service import Target, in_locale, notify

    member = await session.get(Member, member_id)
    if member is None:
        return
    with in_locale(member):
        text = message()
    await notify(
        session,
        [Target(member_id, kinds.WARNING)],
        actor_id=None,
        subject=subject,
        # The list shows "reason" under the headline: the whole sentence goes there.
        data={"reason": text},
    )
