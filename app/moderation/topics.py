"""What the topic actions share: loading the topic and writing its audit entry."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Member, Topic
from app.moderation import audit, notices


def topic_state(topic: Topic) -> dict[str, object]:
    return {
        "locked": topic.locked,
        "pinned": topic.pinned,
        "closed": topic.closed_at is not None,
        "category_id": topic.category_id,
    }


async def record(
    session: AsyncSession,
    moderator: Member,
    topic: Topic,
    action: str,
    reason: str,
    before: dict[str, object],
    *,
    tell: Callable[[], str] | None = None,
    data: dict[str, object] | None = None,
) -> None:
    after = topic_state(topic)
    if data:
        after.update(data)
    if tell is not None:
        await notices.tell(session, topic.author_id, tell, subject=("topic", topic.id))
    await audit.log(
        session,
        actor=moderator,
        action=action,
        target=("topic", topic.id),
        reason=reason,
        before=before,
        after=after,
        concerns=topic.author_id,
    )
