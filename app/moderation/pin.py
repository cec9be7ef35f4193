"""Pin a topic to the top of its category, or unpin it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.kit.errors import Conflict
from app.kit.i18n import gettext as _
from app.models import Member, Topic
from app.moderation import topics


async def set_pinned(
    session: AsyncSession, moderator: Member, topic: Topic, pinned: bool, reason: str
) -> None:
    if topic.pinned == pinned:
        raise Conflict(
            _("This topic is already pinned.") if pinned else _("This topic is not pinned.")
        )
    before = topics.topic_state(topic)
    topic.pinned = pinned
    await session.flush()
    await topics.record(
        session, moderator, topic, "topic.pinned" if pinned else "topic.unpinned", reason, before
    )
