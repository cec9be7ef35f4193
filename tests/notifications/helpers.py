"""Building blocks for notification tests: a topic to talk about, and activities recorded the
way the forums, points and moderation features record them (the agreed data shapes)."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import func, select

from app.activity import service as activity
from app.activity import verbs
from app.db import Database
from app.models import Category, Member, Notification, OutboxMail, Topic

_slugs = itertools.count(1)
_posts = itertools.count(1000)


async def make_topic(
    database: Database,
    author: Member,
    *,
    title: str = "Best ramen in Sapporo?",
    visibility: str = "everyone",
    min_rank_threshold: int | None = None,
) -> Topic:
    async with database.transaction() as session:
        category = Category(
            slug=f"cat-{next(_slugs)}",
            name_en="General",
            visibility=visibility,
            min_rank_threshold=min_rank_threshold,
        )
        session.add(category)
        await session.flush()
        topic = Topic(category_id=category.id, author_id=author.id, title=title)
        session.add(topic)
        await session.flush()
        return topic


def post_id() -> int:
    return next(_posts)


async def record(database: Database, verb: str, **kwargs: Any) -> None:
    async with database.transaction() as session:
        await activity.record(session, verb, **kwargs)


async def reply(
    database: Database,
    actor: Member,
    topic: Topic,
    *,
    mentions: list[int] | None = None,
    quoted: list[int] | None = None,
    reply_to: int | None = None,
    verb: str = verbs.POST_CREATED,
) -> int:
    new_post = post_id()
    await record(
        database,
        verb,
        actor_id=actor.id,
        recipient_id=topic.author_id if topic.author_id != actor.id else None,
        subject=("post", new_post),
        data={
            "topic_id": topic.id,
            "category_id": topic.category_id,
            "mentions": mentions or [],
            "quoted": quoted or [],
            "reply_to_member_id": reply_to,
        },
    )
    return new_post


async def like(
    database: Database,
    actor: Member,
    author: Member,
    topic: Topic,
    post: int,
    *,
    undo: bool = False,
) -> None:
    await record(
        database,
        verbs.LIKE_UNDONE if undo else verbs.LIKE_GIVEN,
        actor_id=actor.id,
        recipient_id=author.id,
        subject=("post", post),
        data={"topic_id": topic.id, "category_id": topic.category_id},
    )


async def notifications_of(database: Database, member: Member) -> list[Notification]:
    async with database.transaction(write=False) as session:
        rows = await session.execute(
            select(Notification)
            .where(Notification.member_id == member.id)
            .order_by(Notification.id)
        )
        return list(rows.scalars())


async def unread_of(database: Database, member: Member) -> int:
    async with database.transaction(write=False) as session:
        value = await session.scalar(
            select(Member.unread_notifications).where(Member.id == member.id)
        )
        return int(value or 0)


async def mails_to(database: Database, address: str) -> list[OutboxMail]:
    async with database.transaction(write=False) as session:
        rows = await session.execute(
            select(OutboxMail).where(OutboxMail.to_address == address).order_by(OutboxMail.id)
        )
        return list(rows.scalars())


async def count(database: Database, model: Any, *where: Any) -> int:
    async with database.transaction(write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)
