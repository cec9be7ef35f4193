"""Lock, unlock, pin, unpin, move, close, reopen and split, each with an audit entry."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Category, Post, Role, Topic
from tests.moderation.conftest import audit_actions


async def _topic_action(http, topic_id, action, **extra):
    return await http.send_json(
        "POST", f"/api/v1/mod/topics/{topic_id}/actions", {"action": action, **extra}
    )


async def test_lock_pin_close_and_reopen(database, member_factory, staff, forum):
    author = await member_factory()
    topic = await forum.topic(author, await forum.category())
    mod, _ = await staff(Role.moderator)
    assert (await _topic_action(mod, topic.id, "lock")).json()["locked"] is True
    again = await _topic_action(mod, topic.id, "lock")
    assert again.status_code == 409
    assert (await _topic_action(mod, topic.id, "unlock")).json()["locked"] is False
    assert (await _topic_action(mod, topic.id, "pin")).json()["pinned"] is True
    assert (await _topic_action(mod, topic.id, "unpin")).json()["pinned"] is False
    no_reason = await _topic_action(mod, topic.id, "close")
    assert no_reason.status_code == 422
    closed = await _topic_action(mod, topic.id, "close", reason="Answered; see the FAQ")
    assert closed.json()["closed"] is True
    assert closed.json()["locked"] is True
    member_client, _ = await staff(Role.member)
    reply = await member_client.send_json(
        "POST", f"/api/v1/topics/{topic.id}/posts", {"body": "One more thing"}
    )
    assert reply.status_code == 403
    assert (await _topic_action(mod, topic.id, "reopen")).json()["closed"] is False
    assert await audit_actions(database) == [
        "topic.locked",
        "topic.unlocked",
        "topic.pinned",
        "topic.unpinned",
        "topic.closed",
        "topic.reopened",
    ]


async def test_move_keeps_category_counts(database, member_factory, staff, forum):
    author = await member_factory()
    home, away = await forum.category(), await forum.category()
    topic = await forum.topic(author, home)
    await forum.reply(author, topic)
    mod, _ = await staff(Role.moderator)
    moved = await _topic_action(mod, topic.id, "move", category_id=away.id, reason="Wrong place")
    assert moved.status_code == 200
    assert moved.json()["category_id"] == away.id
    async with database.transaction(write=False) as session:
        counts = {
            c.id: (c.topic_count, c.post_count)
            for c in (await session.execute(select(Category))).scalars()
        }
    assert counts == {home.id: (0, 0), away.id: (1, 2)}
    bad = await _topic_action(mod, topic.id, "move", category_id=999999)
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "category_id"


async def test_split_replies_into_a_new_topic(database, member_factory, staff, forum):
    author = await member_factory()
    other = await member_factory()
    category = await forum.category()
    topic = await forum.topic(author, category, title="Original")
    keep = await forum.reply(author, topic, body="On topic")
    off1 = await forum.reply(other, topic, body="Off topic one")
    off2 = await forum.reply(author, topic, body="Off topic two")
    mod, _ = await staff(Role.moderator)
    opening = await _topic_action(
        mod, topic.id, "split", post_ids=[keep.id - 1], title="Nope", reason="x"
    )
    assert opening.status_code == 422
    response = await _topic_action(
        mod, topic.id, "split", post_ids=[off2.id, off1.id], title="A new tangent", reason="Tangent"
    )
    assert response.status_code == 200
    new_id = response.json()["new_topic_id"]
    async with database.transaction(write=False) as session:
        new_topic = await session.get(Topic, new_id)
        old_topic = await session.get(Topic, topic.id)
        moved = list(
            (
                await session.execute(
                    select(Post.id, Post.number)
                    .where(Post.topic_id == new_id)
                    .order_by(Post.number)
                )
            ).all()
        )
    assert new_topic is not None
    assert old_topic is not None
    assert new_topic.title == "A new tangent"
    assert new_topic.author_id == other.id
    assert [tuple(row) for row in moved] == [(off1.id, 1), (off2.id, 2)]
    assert new_topic.reply_count == 1
    assert old_topic.reply_count == 1
    refreshed = await forum.get(Category, category.id)
    assert (refreshed.topic_count, refreshed.post_count) == (2, 4)
    member_client, _ = await staff(Role.member)
    shown = (await member_client.get(f"/api/v1/topics/{new_id}")).json()
    assert [p["id"] for p in shown["posts"]] == [off1.id, off2.id]
    assert await audit_actions(database) == ["topic.split"]
    # The old topic still takes replies, numbered after its old posts.
    await forum.reply(author, topic, body="Back on topic")


async def test_topic_tools_page_and_form(database, member_factory, staff, forum):
    author = await member_factory()
    topic = await forum.topic(author, await forum.category(), title="Tools here")
    await forum.reply(author, topic, body="A reply to split")
    mod, _ = await staff(Role.moderator)
    page = await mod.get(f"/mod/topics/{topic.id}")
    assert page.status_code == 200
    assert "Split replies into a new topic" in page.text
    response = await mod.submit(f"/mod/topics/{topic.id}", {"action": "pin", "reason": ""})
    assert response.status_code == 303
    assert "Unpin" in (await mod.get(f"/mod/topics/{topic.id}")).text
