"""Live updates wired into features: a member's points and rank, the leaderboard, and new posts
in the topic being read (fetched by each reader, with that reader's rights and language)."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, update
from websockets.asyncio.client import ClientConnection

from app.db import Database
from app.models import Member, Post, Role
from app.points import service as points
from tests.forums.conftest import (  # noqa: F401  (autouse fixtures for forum posting)
    Forum,
    _empty_search_index,
    _relaxed_posting_limits,
)
from tests.live.helpers import TIMEOUT, next_event, open_socket, subscribe

Event = dict[str, Any]


@pytest.fixture
def forum(database: Database) -> Forum:
    return Forum(database)


@pytest.fixture(autouse=True)
async def _rules_and_ranks(database: Database) -> None:
    async with database.transaction() as session:
        await points.seed_defaults(session)


async def wait_for(socket: ClientConnection, wanted: Callable[[Event], bool]) -> Event:
    """The first event that matches, skipping others (the bell, the leaderboard...)."""

    async def read() -> Event:
        while True:
            event = await next_event(socket)
            if wanted(event):
                return event

    return await asyncio.wait_for(read(), TIMEOUT)


async def lifetime_points(database: Database, member: Member) -> int:
    async with database.transaction(write=False) as session:
        value = await session.scalar(select(Member.lifetime_points).where(Member.id == member.id))
    return int(value or 0)


async def first_post_id(forum: Forum, topic: Any) -> int:
    rows = await forum.rows(select(Post.id).where(Post.topic_id == topic.id, Post.number == 1))
    return int(rows[0][0])


def header_points(html: str, member: Member) -> int:
    found = re.search(rf'data-points-of="{member.id}" data-points="lifetime">(\d+)<', html)
    assert found is not None, "the header shows the member's points"
    return int(found.group(1))


async def test_a_like_pushes_the_new_balance_and_moves_the_leaderboard(
    live_server, database, client, make_client, member_factory, login, forum
):
    author = await member_factory(name="Aiko", locale="en")
    fan = await member_factory(name="Ken", locale="en")
    topic = await forum.topic(author, await forum.category(), title="Ramen")
    post_id = await first_post_id(forum, topic)
    token = await login(client, author)
    board = await client.get("/leaderboard")
    assert 'data-live-channel="leaderboard"' in board.text
    before = await lifetime_points(database, author)
    assert header_points((await client.get("/points")).text, author) == before

    async with open_socket(live_server, token) as socket:
        await next_event(socket)
        assert (await subscribe(socket, "leaderboard"))["type"] == "subscribed"
        fan_client = make_client()
        await login(fan_client, fan)
        liked = await fan_client.submit(f"/p/{post_id}/like")
        assert liked.status_code in (200, 303)

        mine = await wait_for(socket, lambda e: e.get("type") == "points")
        assert mine["channel"] == f"member:{author.id}"
        assert mine["member_id"] == author.id
        assert mine["lifetime_points"] == before + 1 == await lifetime_points(database, author)
        assert mine["celebration"] is None
        moved = await wait_for(socket, lambda e: e.get("channel") == "leaderboard")
        # Only a signal: the page fetches the board again as its reader.
        assert moved == {"channel": "leaderboard", "type": "leaderboard.changed"}

    page = await client.get("/points")
    assert header_points(page.text, author) == before + 1
    assert 'hx-trigger="live-points"' in page.text


async def pay_then_fail(database: Database, member: Member) -> None:
    async with database.transaction() as session:
        await points.append(session, points.Entry(member.id, 40, 40, "test", "t", "a"))
        raise RuntimeError("the action failed after paying")


async def test_a_rolled_back_award_pushes_nothing(
    live_server, database, client, member_factory, login
):
    member = await member_factory(locale="en")
    token = await login(client, member)
    await client.get("/")
    before = await lifetime_points(database, member)

    async with open_socket(live_server, token) as socket:
        await next_event(socket)
        with pytest.raises(RuntimeError):
            await pay_then_fail(database, member)
        async with database.transaction() as session:
            await points.append(session, points.Entry(member.id, 3, 3, "test", "t", "b"))
        event = await wait_for(socket, lambda e: e.get("type") == "points")
        assert event["lifetime_points"] == before + 3


async def test_a_rank_up_is_celebrated_live_in_the_members_language_once(
    live_server, database, client, make_client, member_factory, login
):
    admin = await member_factory(role=Role.admin, locale="en")
    fan = await member_factory(name="Yuki", locale="ja")
    token = await login(client, fan)
    other_browser = make_client()
    await login(other_browser, fan)
    # Both browsers learn the current rank quietly on their first page.
    for browser in (client, other_browser):
        assert "おめでとうございます" not in (await browser.get("/")).text
    admin_client = make_client()
    await login(admin_client, admin)

    async with open_socket(live_server, token) as socket:
        await next_event(socket)
        adjusted = await admin_client.submit(
            "/admin/points/adjust",
            {
                "handle": fan.handle,
                "amount": "60",
                "reason": "Meet-up host",
                "request_id": secrets.token_hex(8),
            },
        )
        assert adjusted.status_code == 303
        event = await wait_for(socket, lambda e: e.get("type") == "points")
        assert event["lifetime_points"] == await lifetime_points(database, fan)
        assert event["celebration"] is not None
        assert "レギュラー" in event["celebration"]
        assert "おめでとうございます" in event["celebration"]
        # The bell hears the rank notification too.
        bell = await wait_for(socket, lambda e: e.get("type") == "notifications")
        assert bell["unread"] >= 1

    # The page that celebrated live tells the server, so its next page does not repeat it...
    done = await client.post(
        "/points/celebrated", headers={"X-CSRF-Token": await client.csrf_token()}
    )
    assert done.status_code == 204
    assert "おめでとうございます" not in (await client.get("/")).text
    # ...while a browser that was not open celebrates on its next page, once.
    assert "おめでとうございます" in (await other_browser.get("/")).text
    assert "おめでとうございます" not in (await other_browser.get("/")).text


async def test_a_new_post_reaches_readers_rendered_for_each_of_them(
    live_server, database, client, make_client, member_factory, login, forum
):
    author = await member_factory(name="Aiko", locale="en")
    reader = await member_factory(name="Sora", locale="ja")
    replier = await member_factory(name="Ken", locale="en")
    moderator = await member_factory(role=Role.moderator, locale="en")
    category = await forum.category()
    topic = await forum.topic(author, category, title="Ramen")
    token = await login(client, reader)
    page = await client.get(f"/t/{topic.id}")
    assert f'data-live-channel="topic:{topic.id}"' in page.text
    assert f'data-live-posts="/t/{topic.id}/posts/"' in page.text

    replier_client = make_client()
    await login(replier_client, replier)
    async with open_socket(live_server, token) as socket:
        await next_event(socket)
        assert (await subscribe(socket, f"topic:{topic.id}"))["type"] == "subscribed"
        replied = await replier_client.submit(
            f"/t/{topic.id}/reply", {"body": "Try the **miso** one."}
        )
        assert replied.status_code == 303
        event = await wait_for(socket, lambda e: e.get("type") == "post.created")

    assert event["channel"] == f"topic:{topic.id}"
    assert set(event) == {"channel", "type", "topic_id", "post_id", "author_id"}
    post_id = event["post_id"]
    fetched = await client.get(f"/t/{topic.id}/posts/{post_id}", headers={"HX-Request": "true"})
    assert fetched.status_code == 200
    assert f'id="post-{post_id}"' in fetched.text
    assert "<strong>miso</strong>" in fetched.text
    assert "いいね" in fetched.text  # the reader's language, not the author's
    assert "<html" not in fetched.text
    # A post of another topic, and a topic the reader may not see, answer 404.
    other = await forum.topic(author, category, title="Soba")
    assert (await client.get(f"/t/{other.id}/posts/{post_id}")).status_code == 404
    staff_only = await forum.category(visibility="staff")
    secret = await forum.topic(moderator, staff_only, title="Staff room")
    secret_post = await first_post_id(forum, secret)
    assert (await client.get(f"/t/{secret.id}/posts/{secret_post}")).status_code == 404


async def test_a_post_awaiting_approval_is_fetched_only_by_who_may_see_it(
    database, client, make_client, member_factory, login, forum
):
    author = await member_factory(locale="en")
    reader = await member_factory(locale="en")
    moderator = await member_factory(role=Role.moderator, locale="en")
    topic = await forum.topic(author, await forum.category(), title="Ramen")
    post = await forum.reply(author, topic, body="Waiting for a moderator")
    # What moderation's screening does to a new member's risky post.
    async with database.transaction() as session:
        await session.execute(update(Post).where(Post.id == post.id).values(needs_approval=True))

    url = f"/t/{topic.id}/posts/{post.id}"
    await login(client, reader)
    assert (await client.get(url)).status_code == 404
    for who in (author, moderator):
        browser = make_client()
        await login(browser, who)
        seen = await browser.get(url, headers={"HX-Request": "true"})
        assert seen.status_code == 200
        assert "Waiting for a moderator" in seen.text
