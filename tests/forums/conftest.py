"""Forum test helpers: categories, topics and replies made through the real services."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, text

from app.db import Database
from app.forums import service
from app.forums.schemas import CategoryIn, ReplyIn, TopicIn
from app.models import SEARCH_TABLE, CommunitySetting, Member

# Moderation throttles new members (seconds between posts, topics a day). These tests post
# quickly on purpose; the throttle has its own tests.
RELAXED_LIMITS = {
    "moderation.post_interval_seconds": 0,
    "moderation.new_member_post_interval_seconds": 0,
    "moderation.topics_per_day": 10_000,
    "moderation.new_member_topics_per_day": 10_000,
    "moderation.new_member_max_links": 100,
    "moderation.new_member_max_mentions": 100,
}


@pytest.fixture(autouse=True)
async def _relaxed_posting_limits(database: Database) -> None:
    async with database.transaction() as session:
        for key, value in RELAXED_LIMITS.items():
            session.add(CommunitySetting(key=key, value=value))


@pytest.fixture(autouse=True)
async def _empty_search_index(request: pytest.FixtureRequest) -> Any:
    """The FTS5 table is not part of the metadata the harness empties after each test."""
    yield
    if "app" not in request.fixturenames:
        return
    database: Database = request.getfixturevalue("app").state.database
    if database.is_sqlite:
        async with database.transaction() as session:
            await session.execute(text(f"DELETE FROM {SEARCH_TABLE}"))


class Forum:
    def __init__(self, database: Database) -> None:
        self.database = database
        self.counter = 0

    async def category(self, **values: Any) -> Any:
        self.counter += 1
        values.setdefault("slug", f"cat-{self.counter}")
        values.setdefault("name_en", f"Category {self.counter}")
        values.setdefault("name_ja", f"カテゴリ{self.counter}")
        async with self.database.transaction() as session:
            return await service.create_category(session, CategoryIn(**values))

    async def topic(
        self,
        author: Member,
        category: Any,
        title: str = "A topic about things",
        body: str = "The opening post.",
        tags: list[str] | None = None,
    ) -> Any:
        async with self.database.transaction() as session:
            fresh = await session.get(Member, author.id)
            assert fresh is not None
            topic, _post = await service.create_topic(
                session,
                fresh,
                TopicIn(category_id=category.id, title=title, body=body, tags=tags or []),
            )
            return topic

    async def reply(self, author: Member, topic: Any, body: str = "A reply.", **extra: Any) -> Any:
        async with self.database.transaction() as session:
            fresh = await session.get(Member, author.id)
            assert fresh is not None
            post, _context = await service.create_reply(
                session, fresh, topic.id, ReplyIn(body=body, **extra)
            )
            return post

    async def count(self, model: Any, *where: Any) -> int:
        async with self.database.transaction(write=False) as session:
            return int(
                await session.scalar(select(func.count()).select_from(model).where(*where)) or 0
            )

    async def get(self, model: Any, key: Any) -> Any:
        async with self.database.transaction(write=False) as session:
            return await session.get(model, key)

    async def rows(self, statement: Any) -> list[Any]:
        async with self.database.transaction(write=False) as session:
            return list((await session.execute(statement)).all())


@pytest.fixture
def forum(database: Database) -> Forum:
    return Forum(database)
