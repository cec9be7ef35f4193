"""A category's topic and post counts follow its topics and replies, removed and restored, and
are moved when the transaction commits: on PostgreSQL a reply holds no lock on its category's
row while it records itself, so the replies of one category do not wait for one another."""

from __future__ import annotations

import pytest
from sqlalchemy import exc, select, text

from app.db import Database
from app.forums import service
from app.forums.schemas import ReplyIn
from app.models import Category, Member


async def _counts(database: Database, category_id: int) -> tuple[int, int]:
    async with database.transaction(write=False) as session:
        row = (
            await session.execute(
                select(Category.topic_count, Category.post_count).where(Category.id == category_id)
            )
        ).one()
    return int(row[0]), int(row[1])


async def test_counts_follow_topics_replies_removals_and_restores(
    client, login, forum, member_factory
):
    author = await member_factory()
    mod = await member_factory(role="moderator")
    category, other = await forum.category(), await forum.category()
    topic = await forum.topic(author, category)
    first = await forum.reply(author, topic)
    await forum.reply(author, topic)
    await forum.topic(author, other)
    assert await _counts(forum.database, category.id) == (1, 3)
    assert await _counts(forum.database, other.id) == (1, 1)

    await login(client, mod)
    assert (await client.send_json("DELETE", f"/api/v1/posts/{first.id}")).status_code == 204
    assert await _counts(forum.database, category.id) == (1, 2)
    restored = await client.send_json("POST", f"/api/v1/posts/{first.id}/restore")
    assert restored.json()["deleted"] is False
    assert await _counts(forum.database, category.id) == (1, 3)
    # What the category pages show.
    listed = {c["id"]: c for c in (await client.get("/api/v1/categories")).json()}
    assert (listed[category.id]["topic_count"], listed[category.id]["post_count"]) == (1, 3)


async def test_a_reply_leaves_its_categorys_row_unlocked_until_it_commits(
    database: Database, forum, member_factory
):
    if database.is_sqlite:
        pytest.skip("SQLite's write lock is the whole database's")
    author = await member_factory()
    category = await forum.category()
    topic = await forum.topic(author, category)
    writing = database.session(write=True)
    try:
        replier = await writing.get(Member, author.id)
        assert replier is not None
        await service.create_reply(writing, replier, topic.id, ReplyIn(body="Still writing"))
        # The reply is recorded (points, rollups, notifications) but not committed: another
        # transaction can take the category's row at once.
        try:
            async with database.transaction() as other:
                await other.execute(
                    text("SELECT id FROM categories WHERE id = :id FOR UPDATE NOWAIT"),
                    {"id": category.id},
                )
        except exc.DBAPIError as error:
            pytest.fail(f"the category's row was locked by the open reply: {error}")
        await writing.commit()
    finally:
        await writing.close()
    assert await _counts(database, category.id) == (1, 2)
