"""Who may be told about what. Topic visibility is the forums' rule; we only ask it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit.sql import loaded
from app.models import Category, Member, Topic


@dataclass(frozen=True)
class TopicFacts:
    """What a notification about a topic needs, loaded once for all its recipients."""

    id: int
    title: str
    category: Category
    topic: Topic


async def topic_facts(session: AsyncSession, topic_id: int | None) -> TopicFacts | None:
    if topic_id is None:
        return None
    # The write paths that notify have usually loaded the topic and its category already.
    topic = loaded(session, Topic, topic_id)
    category = loaded(session, Category, topic.category_id) if topic is not None else None
    if topic is not None and category is not None:
        return TopicFacts(id=topic.id, title=topic.title, category=category, topic=topic)
    row = (
        await session.execute(
            select(Topic, Category)
            .join(Category, Category.id == Topic.category_id)
            .where(Topic.id == topic_id)
        )
    ).one_or_none()
    if row is None:
        return None
    topic, category = row
    return TopicFacts(id=topic.id, title=topic.title, category=category, topic=topic)


def can_see(member: Member, facts: TopicFacts) -> bool:
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
