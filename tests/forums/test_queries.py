"""The topic page and lists run a fixed number of SQL queries whatever the number of posts."""

from __future__ import annotations

from sqlalchemy import select, update

from app.models import Post
from tests.statements import counting


async def test_topic_page_and_lists_have_no_n_plus_one(
    client, member_factory, login, database, forum
):
    category = await forum.category(slug="counted")
    members = [await member_factory() for _ in range(4)]
    small = await forum.topic(members[0], category, title="Small topic", tags=["a"])
    await forum.reply(members[1], small)
    big = await forum.topic(members[0], category, title="Big topic", tags=["a", "b", "c"])
    for number in range(19):
        await forum.reply(members[number % 4], big, body=f"reply {number} @{members[0].handle}")
    reader = await member_factory()
    await login(client, reader)
    await client.get("/")  # the once-a-day visit is written on the first request

    counts = {}
    for topic in (small, big):
        for _ in range(2):  # a first and a repeat visit
            with counting(database) as statements:
                response = await client.get(f"/t/{topic.id}")
            assert response.status_code == 200
            counts.setdefault(topic.id, []).append(len(statements))
    assert counts[small.id] == counts[big.id]
    assert max(counts[big.id]) <= 12

    for _ in range(10):
        await forum.topic(members[1], category, title="More topics", tags=["x", "y"])
    with counting(database) as few:
        await client.get("/c/counted?sort=newest")
    with counting(database) as api:
        await client.get("/api/v1/topics")
    assert len(few) <= 8
    assert len(api) <= 6


async def test_each_viewer_in_turn_sees_their_own_likes_and_pending_posts(
    make_client, member_factory, login, forum, database
):
    """Pages are read with statements shared by every viewer of a kind: one after another,
    each viewer still gets their own likes and votes and only the posts they may see."""
    category = await forum.category(slug="turns")
    author = await member_factory()
    other = await member_factory()
    topic = await forum.topic(author, category, title="Whose likes are these")
    reply = await forum.reply(other, topic, body="Waiting for a moderator")
    async with database.transaction() as session:
        await session.execute(update(Post).where(Post.id == reply.id).values(needs_approval=True))
    poster = make_client()
    await login(poster, other)
    mod = make_client()
    await login(mod, await member_factory(role="moderator"))
    bystander = make_client()
    await login(bystander, await member_factory())
    first = await forum.rows(select(Post.id).where(Post.topic_id == topic.id, Post.number == 1))
    like = await bystander.send_json("PUT", f"/api/v1/posts/{first[0][0]}/like")
    assert like.status_code == 200

    async def seen(browser):
        items = (await browser.get(f"/api/v1/topics/{topic.id}/posts")).json()["items"]
        return [(item["number"], item["liked"]) for item in items]

    for _ in range(2):
        assert await seen(make_client()) == [(1, False)]
        assert await seen(bystander) == [(1, True)]
        assert await seen(poster) == [(1, False), (2, False)]
        assert await seen(mod) == [(1, False), (2, False)]
    page = (await poster.get(f"/t/{topic.id}")).text
    assert "Waiting for a moderator" in page
    assert "Waiting for a moderator" not in (await bystander.get(f"/t/{topic.id}")).text
