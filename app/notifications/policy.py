"""Who may be told about what. Topic visibility is the forums' rule; we only ask it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit.sql import loaded, read_prebuilt
from app.models import Category, Member, Topic

if TYPE_CHECKING:
    from app.forums.policy import Gated, TopicState
    from app.moderation.policy import Viewer


@dataclass(frozen=True)
class TopicFacts:
    """What a notification about a topic needs, loaded once for all its recipients."""

    id: int
    title: str
    category: Gated
    topic: TopicState


def _facts_query(_insert: Any) -> Any:
    from app.forums.policy import topic_gate_columns

    return (
        select(Topic.title, *topic_gate_columns())
        .join(Category, Category.id == Topic.category_id)
        .where(Topic.id == bindparam("p_topic"))
    )


async def topic_facts(session: AsyncSession, topic_id: int | None) -> TopicFacts | None:
    if topic_id is None:
        return None
    # The write paths that notify have usually loaded the topic and its category already;
    # a like reads only columns (app.forums.service), and so does this.
    topic = loaded(session, Topic, topic_id)
    category = loaded(session, Category, topic.category_id) if topic is not None else None
    if topic is not None and category is not None:
        return TopicFacts(id=topic.id, title=topic.title, category=category, topic=topic)
    from app.forums.policy import topic_gate_of

    rows = await read_prebuilt(
        session, "notifications.topic_facts", _facts_query, {"p_topic": topic_id}
    )
    if not rows:
        return None
    title, *columns = rows[0]
    topic_state, gate = topic_gate_of(columns)
    return TopicFacts(id=topic_id, title=title, category=gate, topic=topic_state)


def can_see(member: Viewer, facts: TopicFacts) -> bool:
    # Imported when needed: app.forums imports notification helpers, not the other way round.
    from app.forums.policy import can_see_topic

    return can_see_topic(member, facts.category, facts.topic)


async def visible_topic_ids(
    session: AsyncSession, member: Member, topic_ids: Iterable[int]
) -> set[int]:
    """The topics among ``topic_ids`` that ``member`` may see now (live subscriptions)."""
    allowed: set[int] = set()
    for topic_id in topic_ids:
        facts = await topic_facts(session, topic_id)
        if facts is not None and can_see(member, facts):
            allowed.add(topic_id)
    return allowed


def is_suspended(member: Member) -> bool:
    """Moderation decides suspensions; a suspended member gets no live connection."""
    try:
        from app.moderation import policy as moderation_policy
    except ImportError:
        return False
    check = getattr(moderation_policy, "is_suspended", None)
    return bool(check(member)) if callable(check) else False
