"""Read tracking, new/unread markers, jump to first unread, view counts, likes."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from app.activity import verbs
from app.config import get_settings
from app.forums import service as forums
from app.forums.queries import POSTS_PER_PAGE
from app.kit import clock
from app.models import Activity, AnalyticsTopicDaily, Post, Topic, TopicRead, TopicView


async def test_unread_markers_and_jump_to_first_unread(client, member_factory, login, forum):
    category = await forum.category()
    author = await member_factory()
    reader = await member_factory()
    topic = await forum.topic(author, category, title="Long running thread")
    for number in range(POSTS_PER_PAGE + 5):
        await forum.reply(author, topic, body=f"Reply body {number}")
    await login(client, reader)

    listing = (await client.get("/api/v1/topics")).json()["items"][0]
    assert listing["is_new"] is True
    assert listing["unread_count"] == 0
    first_visit = await client.get(f"/t/{topic.id}")
    assert "Reply body 0" in first_visit.text
    assert "data-first-unread" not in first_visit.text
    read = await forum.get(TopicRead, (reader.id, topic.id))
    assert read.last_read_number == POSTS_PER_PAGE

    listing = (await client.get("/api/v1/topics")).json()["items"][0]
    assert listing["is_new"] is False
    assert listing["unread_count"] == 6
    html = (await client.get("/")).text
    assert "6 unread" in html

    second_visit = await client.get(f"/t/{topic.id}")
    first_unread = POSTS_PER_PAGE + 1
    marked = re.search(r'id="post-(\d+)"\s+data-first-unread', second_visit.text)
    assert marked
    (number,) = (await forum.rows(select(Post.number).where(Post.id == int(marked.group(1)))))[0]
    assert number == first_unread
    assert "Reply body 0<" not in second_visit.text  # it opened near the unread posts
    assert (
        await forum.get(TopicRead, (reader.id, topic.id))
    ).last_read_number == POSTS_PER_PAGE + 6
    listing = (await client.get("/api/v1/topics")).json()["items"][0]
    assert listing["unread_count"] == 0

    # Going back to the first page does not mark the later posts unread again.
    assert (await client.get(f"/t/{topic.id}?cursor=0")).status_code == 200
    assert (
        await forum.get(TopicRead, (reader.id, topic.id))
    ).last_read_number == POSTS_PER_PAGE + 6
    # A post number no topic could reach (beyond PostgreSQL's 32-bit column) is a bad link,
    # and reading nothing marks nothing.
    for forged in ("2147483648", "-99999999999", "99999999999999999999999"):
        refused = await client.get(f"/t/{topic.id}?cursor={forged}")
        assert refused.status_code == 422, forged
        assert "This page link is not valid" in refused.text
    assert (
        await forum.get(TopicRead, (reader.id, topic.id))
    ).last_read_number == POSTS_PER_PAGE + 6
    listing = (await client.get("/api/v1/topics")).json()["items"][0]
    assert listing["unread_count"] == 0


async def test_views_count_once_per_visitor_per_day(
    client, make_client, member_factory, login, forum
):
    category = await forum.category()
    author = await member_factory()
    topic = await forum.topic(author, category)
    await login(client, author)
    for _ in range(3):
        assert (await client.get(f"/t/{topic.id}")).status_code == 200
    visitor = make_client("10.0.0.2")
    for _ in range(2):
        await visitor.get(f"/t/{topic.id}")
    other_visitor = make_client("10.0.0.3")
    await other_visitor.get(f"/t/{topic.id}")
    assert (await forum.get(Topic, topic.id)).view_count == 3
    rows = await forum.rows(select(TopicView.member_id))
    assert sorted((r[0] or 0) for r in rows) == [0, 0, author.id]
    assert (await client.get("/api/v1/topics")).json()["items"][0]["view_count"] == 3


async def test_likes_once_not_own_and_undo(client, member_factory, login, forum):
    category = await forum.category()
    author = await member_factory()
    fan = await member_factory()
    topic = await forum.topic(author, category)
    post = await forum.reply(author, topic, body="Likeable")

    await login(client, author)
    own = await client.send_json("PUT", f"/api/v1/posts/{post.id}/like")
    assert own.status_code == 403

    await login(client, fan)
    first = await client.send_json("PUT", f"/api/v1/posts/{post.id}/like")
    again = await client.send_json("PUT", f"/api/v1/posts/{post.id}/like")
    assert first.json() == {"post_id": post.id, "liked": True, "like_count": 1}
    assert again.json()["like_count"] == 1
    partial = await client.post(
        f"/p/{post.id}/unlike",
        data={"csrf_token": await client.csrf_token()},
        headers={"HX-Request": "true"},
    )
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert 'aria-pressed="false"' in partial.text
    assert (await forum.get(Topic, topic.id)).like_count == 0
    given = await forum.rows(
        select(Activity.verb, Activity.actor_id, Activity.recipient_id, Activity.data).where(
            Activity.verb.in_([verbs.LIKE_GIVEN, verbs.LIKE_UNDONE])
        )
    )
    assert [(v, a, r) for v, a, r, _d in given] == [
        (verbs.LIKE_GIVEN, fan.id, author.id),
        (verbs.LIKE_UNDONE, fan.id, author.id),
    ]
    assert given[0][3] == {"topic_id": topic.id, "category_id": category.id}


async def test_likes_follow_the_posts_moderation_and_removal(
    client, make_client, database, member_factory, login, forum
):
    category = await forum.category()
    author = await member_factory()
    topic = await forum.topic(author, category)
    hidden, pending, removed, open_ = [
        await forum.reply(author, topic, body=f"Post {name}")
        for name in ("hidden", "pending", "removed", "open")
    ]
    now = clock.now()
    async with database.transaction() as session:
        await session.execute(update(Post).where(Post.id == hidden.id).values(hidden_at=now))
        await session.execute(update(Post).where(Post.id == pending.id).values(needs_approval=True))
        await session.execute(update(Post).where(Post.id == removed.id).values(deleted_at=now))

    fan = await member_factory()
    await login(client, fan)

    def like(post_id: int) -> Any:
        return client.send_json("PUT", f"/api/v1/posts/{post_id}/like")

    assert (await like(hidden.id)).status_code == 404
    assert (await like(pending.id)).status_code == 404
    gone = await like(removed.id)
    assert gone.status_code == 409
    assert "removed" in gone.text
    assert (await like(open_.id)).json()["like_count"] == 1
    taken_back = await client.send_json("DELETE", f"/api/v1/posts/{open_.id}/like")
    assert taken_back.json() == {"post_id": open_.id, "liked": False, "like_count": 0}
    again = await client.send_json("DELETE", f"/api/v1/posts/{open_.id}/like")
    assert again.json()["like_count"] == 0

    moderator = make_client("10.0.0.9")
    await login(moderator, await member_factory(role="moderator"))
    seen = await moderator.send_json("PUT", f"/api/v1/posts/{hidden.id}/like")
    assert seen.json() == {"post_id": hidden.id, "liked": True, "like_count": 1}
    counts = await forum.rows(select(Post.id, Post.like_count).where(Post.topic_id == topic.id))
    assert {post_id: count for post_id, count in counts if count} == {hidden.id: 1}
    assert (await forum.get(Topic, topic.id)).like_count == 1


async def _topic_with_replies(forum: Any, member_factory: Any, replies: int) -> Topic:
    author = await member_factory()
    topic = await forum.topic(author, await forum.category())
    for number in range(replies):
        await forum.reply(author, topic, body=f"Reply body {number}")
    return topic


async def test_a_late_write_for_an_earlier_page_leaves_the_read_marker(
    database, member_factory, forum
):
    """Two tabs: the first page's visit, written after the last page's (its request was
    slower), neither moves the read marker back nor counts the reader twice."""
    reader = await member_factory()
    topic = await _topic_with_replies(forum, member_factory, 5)
    for read_up_to in (6, 2):
        async with database.transaction() as session:
            await forums.record_visits(
                session,
                [forums.Visit(topic.id, f"m:{reader.id}", reader.id, read_up_to, clock.now())],
            )
    assert (await forum.get(TopicRead, (reader.id, topic.id))).last_read_number == 6
    assert (await forum.get(Topic, topic.id)).view_count == 1


async def test_a_crowd_of_new_visitors_is_counted_once_each(make_client, member_factory, forum):
    """Visitors arriving while others' views are being written join the next batch: every
    visitor counts once, in the topic's count and in the day's rollup, however the visits
    interleave."""
    category = await forum.category()
    author = await member_factory()
    topic = await forum.topic(author, category)
    visitors = [make_client(f"10.0.1.{number}") for number in range(24)]
    pages = await asyncio.gather(
        *(visitor.get(f"/t/{topic.id}") for visitor in visitors for _ in range(2))
    )
    assert {page.status_code for page in pages} == {200}
    assert (await forum.get(Topic, topic.id)).view_count == 24
    assert len(await forum.rows(select(TopicView.visitor_key))) == 24
    (views,) = (
        await forum.rows(
            select(AnalyticsTopicDaily.views).where(AnalyticsTopicDaily.topic_id == topic.id)
        )
    )[0]
    assert views == 24


async def test_a_batch_of_visits_counts_each_visitor_on_the_day_of_the_visit(
    database, member_factory, forum
):
    """One batch holding a visitor twice, a member reading two pages, and visits either side
    of midnight: one view per visitor and day, each day's rollup its own, the marker at the
    furthest post read."""
    reader = await member_factory()
    topic = await _topic_with_replies(forum, member_factory, 5)
    midnight = datetime.combine(
        clock.community_day(), time(), tzinfo=ZoneInfo(get_settings().community_timezone)
    ).astimezone(UTC)
    before, after = midnight - timedelta(seconds=1), midnight + timedelta(seconds=1)
    member = f"m:{reader.id}"
    async with database.transaction() as session:
        await forums.record_visits(
            session,
            [
                forums.Visit(topic.id, "a:one", None, 0, before),
                forums.Visit(topic.id, member, reader.id, 6, before),
                forums.Visit(topic.id, "a:one", None, 0, before),
                forums.Visit(topic.id, member, reader.id, 3, after),
                forums.Visit(topic.id, "a:one", None, 0, after),
            ],
        )
    assert (await forum.get(Topic, topic.id)).view_count == 4
    daily = await forum.rows(
        select(AnalyticsTopicDaily.day, AnalyticsTopicDaily.views)
        .where(AnalyticsTopicDaily.topic_id == topic.id)
        .order_by(AnalyticsTopicDaily.day)
    )
    assert [tuple(row) for row in daily] == [
        (clock.community_day(before), 2),
        (clock.community_day(after), 2),
    ]
    assert (await forum.get(TopicRead, (reader.id, topic.id))).last_read_number == 6


async def test_a_view_that_cannot_be_written_costs_only_its_own(
    database, member_factory, forum, caplog
):
    """A batch holding a visit whose topic is gone (deleted after its page was sent) writes
    the others' views one by one; only the lost one is logged."""
    topic = await _topic_with_replies(forum, member_factory, 0)
    gone = topic.id + 1000
    await asyncio.gather(
        *(
            forums._write_visits(forums.Visit(topic_id, visitor, None, 0, clock.now()))
            for topic_id, visitor in ((topic.id, "a:first"), (gone, "a:lost"), (topic.id, "a:late"))
        )
    )
    assert (await forum.get(Topic, topic.id)).view_count == 2
    assert sorted(r[0] for r in await forum.rows(select(TopicView.visitor_key))) == [
        "a:first",
        "a:late",
    ]
    assert [record.getMessage() for record in caplog.records if record.levelname == "ERROR"] == [
        f"writing a view of topic {gone} failed"
    ]
