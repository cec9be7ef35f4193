"""Close a topic (no more replies, with a reason shown to readers) or reopen it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.kit import clock
from app.kit.errors import Conflict
from app.kit.i18n import gettext as _
from app.models import Member, Topic
from app.moderation import topics


async def close_topic(session: AsyncSession, moderator: Member, topic: Topic, reason: str) -> None:
    if topic.closed_at is not None:
        raise Conflict(_("This topic is already closed."))
    before = topics.topic_state(topic)
    topic.closed_at = clock.now()
    topic.closed_reason = reason
    # A closed topic takes no replies: the forums' reply check already honours ``locked``.
    topic.locked = True
    await session.flush()
    title = topic.title
    await topics.record(
        session,
        moderator,
        topic,
        "topic.closed",
        reason,
        before,
        tell=lambda: _(
            "A moderator closed your topic “%(title)s”. Reason: %(reason)s",
            title=title,
            reason=reason,
        ),
    )


async def reopen_topic(session: AsyncSession, moderator: Member, topic: Topic, reason: str) -> None:
    if topic.closed_at is None:
        raise Conflict(_("This topic is not closed."))
    before = topics.topic_state(topic)
    topic.closed_at = None
    topic.closed_reason = ""
    topic.locked = False
    await session.flush()
    await topics.record(session, moderator, topic, "topic.reopened", reason, before)
