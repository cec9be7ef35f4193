"""Flags: weights, the threshold that hides a post at once, caps, and who may flag."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Flag, Notification, Post, Role
from tests.moderation.conftest import activities, audit_actions, fresh


async def _flag(http, post_id, reason="spam", message=""):
    return await http.send_json(
        "POST", f"/api/v1/posts/{post_id}/flags", {"reason": reason, "message": message}
    )


async def test_flags_reach_the_threshold_hide_the_post_and_tell_the_author(
    database, member_factory, staff, forum
):
    author = await member_factory(name="Author", locale="en")
    category = await forum.category()
    topic = await forum.topic(author, category, title="Buy cheap things")
    reply = await forum.reply(author, topic, body="Visit my shop")
    author_points = (await fresh(database, author)).lifetime_points
    assert author_points > 0

    flaggers = [await staff(Role.member) for _ in range(3)]
    first = await _flag(flaggers[0][0], reply.id)
    assert first.status_code == 201
    assert 1.0 <= first.json()["weight"] < 1.1  # a newcomer: accuracy 1/2, hardly any points
    assert first.json()["post_hidden"] is False
    assert (await _flag(flaggers[1][0], reply.id)).json()["post_hidden"] is False
    third = await _flag(flaggers[2][0], reply.id, reason="inappropriate")
    assert third.json()["post_hidden"] is True

    async with database.transaction(write=False) as session:
        post = await session.get(Post, reply.id)
        assert post is not None
        assert post.hidden_at is not None
        assert post.hidden_by_id is None
        notes = list(
            (
                await session.execute(
                    select(Notification).where(Notification.member_id == author.id)
                )
            ).scalars()
        )
    assert any("hidden because members flagged it" in n.data.get("reason", "") for n in notes)
    assert [a.recipient_id for a in await activities(database, "post.hidden")] == [author.id]
    assert len(await activities(database, "post.removed")) == 1
    # The reply's points (2 for a reply) were taken back.
    assert (await fresh(database, author)).lifetime_points == author_points - 2
    assert await audit_actions(database) == ["post.auto_hidden"]


async def test_one_flag_per_member_own_posts_and_bad_input(member_factory, staff, forum):
    author = await member_factory()
    topic = await forum.topic(author, await forum.category())
    http, _member = await staff(Role.member)
    post_id = (await http.get(f"/api/v1/topics/{topic.id}")).json()["posts"][0]["id"]
    assert (await _flag(http, post_id)).status_code == 201
    again = await _flag(http, post_id)
    assert again.status_code == 409
    assert again.json()["error"]["message"] == "You have already flagged this post."

    other = await _flag(http, 999_999)
    assert other.status_code == 404
    vague = await http.send_json(
        "POST", f"/api/v1/topics/{topic.id}/flags", {"reason": "other", "message": " "}
    )
    assert vague.status_code == 422
    assert vague.json()["error"]["field"] == "message"
    wrong = await http.send_json("POST", f"/api/v1/posts/{post_id}/flags", {"reason": "meh"})
    assert wrong.status_code == 422
    assert wrong.json()["error"]["field"] == "body.reason"


async def test_members_cannot_flag_their_own_posts(member_factory, make_client, login, forum):
    author = await member_factory()
    topic = await forum.topic(author, await forum.category())
    http = make_client()
    await login(http, author)
    response = await http.send_json("POST", f"/api/v1/topics/{topic.id}/flags", {"reason": "spam"})
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "You cannot flag your own post."


async def test_daily_flag_cap_says_when_to_come_back(database, member_factory, staff, forum):
    admin_client, _admin = await staff(Role.admin)
    changed = await admin_client.send_json(
        "PATCH", "/api/v1/admin/moderation/settings", {"flags_per_day": 2, "flag_threshold": 50}
    )
    assert changed.status_code == 200
    assert changed.json()["flags_per_day"] == 2
    author = await member_factory()
    topic = await forum.topic(author, await forum.category())
    replies = [await forum.reply(author, topic, body=f"Reply {n}") for n in range(3)]
    http, _member = await staff(Role.member)
    assert (await _flag(http, replies[0].id)).status_code == 201
    assert (await _flag(http, replies[1].id)).status_code == 201
    capped = await _flag(http, replies[2].id)
    assert capped.status_code == 429
    assert int(capped.headers["Retry-After"]) > 3600
    assert "You have used today's flags" in capped.json()["error"]["message"]
    async with database.transaction(write=False) as session:
        count = len(list((await session.execute(select(Flag))).scalars()))
    assert count == 2


async def test_weight_grows_with_accuracy_and_rank_and_staff_flags_hide_at_once(
    database, member_factory, staff, forum
):
    author = await member_factory()
    topic = await forum.topic(author, await forum.category())
    reply = await forum.reply(author, topic)
    veteran_client, veteran = await staff(Role.member)
    async with database.transaction() as session:
        loaded = await session.get(type(veteran), veteran.id)
        assert loaded is not None
        loaded.flags_accepted = 8
        loaded.lifetime_points = 1000
    response = await _flag(veteran_client, reply.id)
    # accuracy (8+1)/(8+0+2) = 0.9, rank factor 2: 2 x 0.9 x 2 = 3.6 >= the default 3.
    assert response.json()["weight"] == 3.6
    assert response.json()["post_hidden"] is True

    other = await forum.reply(author, topic, body="Another one")
    mod_client, _mod = await staff(Role.moderator)
    assert (await _flag(mod_client, other.id)).json()["post_hidden"] is True
