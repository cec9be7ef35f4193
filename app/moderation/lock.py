"""Lock a topic (only staff may reply) or unlock it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.kit.errors import Conflict
from app.kit.i18n import gettext as _
from app.models import Member, Topic
from app.moderation import topics


async def set_locked(
    session: AsyncSession, moderator: Member, topic: Topic, locked: bool, reason: str
) -> None:
    if topic.locked == locked:
        raise Conflict(
            _("This topic is already locked.") if locked else _("This topic is not locked.")
        )
    before = topics.topic_state(topic)
    topic.locked = locked
    await session.flush()
    title = topic.title
    await topics.record(
        session,
        moderator,
        topic,
        "topic.locked" if locked else "topic.unlocked",
        reason,
        before,
        tell=(lambda: _("A moderator locked your topic “%(title)s”.", title=title))
        if locked
        else None,
    )
