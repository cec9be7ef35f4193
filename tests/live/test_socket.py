"""The WebSocket endpoint: who may connect, what they may subscribe to, and that events only
leave once their transaction has committed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from websockets.exceptions import ConnectionClosed, InvalidStatus

from app.activity import service as activity
from app.activity import verbs
from app.kit import clock
from app.live import broker
from app.models import Member, Notification
from tests.live.helpers import next_event, open_socket, subscribe
from tests.notifications.helpers import like, make_topic, record, reply


async def test_a_member_connects_and_hears_the_bell(
    live_server, database, member_factory, login, client
):
    author = await member_factory(locale="en")
    replier = await member_factory(name="Ken", locale="en")
    topic = await make_topic(database, author, title="Ramen")
    token = await login(client, author)

    async with open_socket(live_server, token) as socket:
        hello = await next_event(socket)
        assert hello == {"type": "hello", "unread": 0}
        await reply(database, replier, topic)
        event = await next_event(socket)
        assert event["channel"] == f"member:{author.id}"
        assert event["type"] == "notifications"
        assert event["unread"] == 1
        assert event["items"][0]["text"] == "Ken replied in Ramen"

        await client.submit("/notifications/read-all")
        assert (await next_event(socket))["unread"] == 0


async def test_likes_reach_the_author_live_as_one_growing_line(
    live_server, database, member_factory, login, client
):
    author = await member_factory(locale="en")
    fans = [await member_factory(name=f"Fan {i}", locale="en") for i in range(3)]
    topic = await make_topic(database, author, title="Latte art")
    # Nobody listens yet: the first like is stored and counted, and no event is built for it.
    assert not broker.may_reach(f"member:{author.id}")
    await like(database, fans[0], author, topic, 77)
    token = await login(client, author)

    async with open_socket(live_server, token) as socket:
        assert await next_event(socket) == {"type": "hello", "unread": 1}
        assert broker.may_reach(f"member:{author.id}")
        await like(database, fans[1], author, topic, 77)
        event = await next_event(socket)
        assert event["unread"] == 1  # the same unread row, grown
        assert event["items"][0]["text"] == "Fan 1 and 1 other liked your post in Latte art"
        await like(database, fans[2], author, topic, 78)
        event = await next_event(socket)
        assert event["unread"] == 2
        assert event["items"][0]["text"] == "Fan 2 liked your post in Latte art"
    assert not broker.may_reach(f"member:{author.id}")


async def test_wrong_origin_is_refused_before_the_handshake(
    live_server, member_factory, login, client
):
    member = await member_factory()
    token = await login(client, member)
    with pytest.raises(InvalidStatus) as refused:
        async with open_socket(live_server, token, origin="http://evil.example"):
            pass
    assert refused.value.response.status_code == 403


async def test_no_session_is_refused(live_server):
    with pytest.raises(InvalidStatus) as refused:
        async with open_socket(live_server, None):
            pass
    assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus):
        async with open_socket(live_server, "not-a-real-session-token"):
            pass


async def test_a_suspended_member_is_refused_and_disconnected(
    live_server, database, member_factory, login, client
):
    member = await member_factory()
    token = await login(client, member)
    async with open_socket(live_server, token) as socket:
        await next_event(socket)
        await broker.disconnect_member(member.id)
        with pytest.raises(ConnectionClosed) as closed:
            await next_event(socket)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1008

    async with database.transaction() as session:
        fresh = await session.get(Member, member.id)
        assert fresh is not None
        fresh.suspended_until = clock.now() + timedelta(days=1)
    with pytest.raises(InvalidStatus):
        async with open_socket(live_server, token):
            pass


async def test_topic_channels_follow_visibility(
    live_server, database, member_factory, login, client
):
    staff = await member_factory(role="moderator", locale="en")
    member = await member_factory(locale="en")
    open_topic = await make_topic(database, staff, title="Open")
    staff_topic = await make_topic(database, staff, title="Staff", visibility="staff")
    token = await login(client, member)

    async with open_socket(live_server, token) as socket:
        await next_event(socket)
        refused = await subscribe(socket, f"topic:{staff_topic.id}")
        assert refused == {"type": "refused", "channel": f"topic:{staff_topic.id}"}
        missing = await subscribe(socket, "topic:999999")
        assert missing["type"] == "refused"
        other = await subscribe(socket, f"member:{staff.id}")
        assert other["type"] == "refused"
        assert (await subscribe(socket, "leaderboard"))["type"] == "subscribed"
        assert (await subscribe(socket, f"topic:{open_topic.id}"))["type"] == "subscribed"

        post = await reply(database, staff, open_topic)
        event = await next_event(socket)
        assert event == {
            "channel": f"topic:{open_topic.id}",
            "type": "post.created",
            "topic_id": open_topic.id,
            "post_id": post,
            "author_id": staff.id,
        }


async def reply_then_fail(database, replier, author, topic_id) -> None:
    async with database.transaction() as session:
        await activity.record(
            session,
            verbs.POST_CREATED,
            actor_id=replier.id,
            recipient_id=author.id,
            subject=("post", 1),
            data={"topic_id": topic_id, "mentions": [], "quoted": []},
        )
        raise RuntimeError("the action failed after recording")


async def test_events_leave_only_after_commit(live_server, database, member_factory, login, client):
    author = await member_factory(locale="en")
    replier = await member_factory(locale="en")
    topic = await make_topic(database, author, title="Rolled back")
    token = await login(client, author)

    async with open_socket(live_server, token) as socket:
        await next_event(socket)
        with pytest.raises(RuntimeError):
            await reply_then_fail(database, replier, author, topic.id)
        await record(
            database,
            verbs.POST_CREATED,
            actor_id=replier.id,
            recipient_id=author.id,
            subject=("post", 2),
            data={"topic_id": topic.id, "mentions": [], "quoted": []},
        )
        event = await next_event(socket)
        # The first event is the committed one: the rolled-back reply sent nothing.
        assert event["unread"] == 1
        assert [item["id"] for item in event["items"]] == [event["items"][0]["id"]]
        async with database.transaction(write=False) as session:
            rows = (await session.execute(select(Notification.id))).scalars().all()
        assert rows == [event["items"][0]["id"]]
