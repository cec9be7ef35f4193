"""A small fixed community for the analytics tests, built by recording activities directly."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import update

from app.activity import service as activity
from app.db import Database
from app.kit import clock
from app.models import Category, Member, Topic


def at(day: date, hour: int = 12) -> datetime:
    """Noon UTC: the same calendar day in Asia/Tokyo (the community's time zone)."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def days_ago(n: int, hour: int = 3) -> datetime:
    return at(clock.community_day() - timedelta(days=n), hour)


async def record(
    database: Database, verb: str, actor: Member | None, when: datetime, **kwargs: Any
) -> None:
    async with database.transaction() as session:
        await activity.record(
            session, verb, actor_id=actor.id if actor else None, occurred_at=when, **kwargs
        )


async def set_joined(database: Database, member: Member, when: datetime) -> None:
    async with database.transaction() as session:
        await session.execute(update(Member).where(Member.id == member.id).values(created_at=when))


async def make_question(database: Database, asker: Member, when: datetime) -> int:
    async with database.transaction() as session:
        category = await session.get(Category, 1)
        if category is None:
            category = Category(id=1, slug="qa", name_en="Q&A", kind="question")
            session.add(category)
            await session.flush()
        topic = Topic(
            category_id=1,
            author_id=asker.id,
            title="How?",
            kind="question",
            created_at=when,
            last_posted_at=when,
        )
        session.add(topic)
        await session.flush()
        await activity.record(
            session,
            "topic.created",
            actor_id=asker.id,
            subject=("topic", topic.id),
            data={"category_id": 1, "topic_id": topic.id, "kind": "question"},
            occurred_at=when,
        )
        return topic.id
