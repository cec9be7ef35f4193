"""Reading notifications: the list, opening one, marking one or all as read, the API."""

from __future__ import annotations

from app.notifications import kinds
from app.notifications.schemas import PreferencesOut
from tests.notifications.helpers import make_topic, notifications_of, reply, unread_of


async def test_open_marks_read_and_leads_to_the_post(client, database, member_factory, login):
    author = await member_factory(locale="en")
    replier = await member_factory(locale="en")
    topic = await make_topic(database, author)
    post = await reply(database, replier, topic)
    [row] = await notifications_of(database, author)

    await login(client, author)
    opened = await client.get(f"/notifications/{row.id}/open")
    assert opened.status_code == 303
    assert opened.headers["location"] == f"/p/{post}"
    assert await unread_of(database, author) == 0
    home = await client.get("/")
    assert 'id="bell-count" hidden' in home.text


async def test_mark_one_and_all_read(client, database, member_factory, login):
    author = await member_factory(locale="en")
    replier = await member_factory(locale="en")
    topic = await make_topic(database, author)
    for _ in range(3):
        await reply(database, replier, topic)
    rows = await notifications_of(database, author)
    await login(client, author)

    done = await client.submit(f"/notifications/{rows[0].id}/read", {"next": "/notifications"})
    assert done.status_code == 303
    assert await unread_of(database, author) == 2
    # Reading it twice changes nothing.
    await client.submit(f"/notifications/{rows[0].id}/read")
    assert await unread_of(database, author) == 2

    unread_page = await client.get("/notifications?unread=1")
    assert unread_page.text.count('class="notification unread"') == 2

    done = await client.submit("/notifications/read-all")
    assert done.status_code == 303
    assert await unread_of(database, author) == 0
    page = await client.get("/notifications")
    assert 'class="notification unread"' not in page.text
    assert page.text.count('class="notification"') == 3


async def test_someone_elses_notification_is_not_found(client, database, member_factory, login):
    author = await member_factory(locale="en")
    other = await member_factory(locale="en")
    topic = await make_topic(database, author)
    await reply(database, other, topic)
    [row] = await notifications_of(database, author)
    await login(client, other)
    assert (await client.submit(f"/notifications/{row.id}/read")).status_code == 404
    assert (await client.get(f"/notifications/{row.id}/open")).status_code == 404
    assert (
        await client.send_json("POST", f"/api/v1/notifications/{row.id}/read")
    ).status_code == 404
    assert await unread_of(database, author) == 1


async def test_signed_out_visitors_are_sent_to_sign_in(client):
    page = await client.get("/notifications")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/signin")
    assert (await client.get("/api/v1/notifications")).status_code == 401


async def test_api_pages_with_a_cursor(client, database, member_factory, login):
    author = await member_factory(locale="en")
    replier = await member_factory(name="Replier", locale="en")
    topic = await make_topic(database, author, title="Coffee grinders")
    for _ in range(5):
        await reply(database, replier, topic)
    await login(client, author)

    first = (await client.get("/api/v1/notifications?limit=3")).json()
    assert first["unread"] == 5
    assert len(first["items"]) == 3
    assert first["items"][0]["text"] == "Replier replied in Coffee grinders"
    second = (
        await client.get(f"/api/v1/notifications?limit=3&cursor={first['next_cursor']}")
    ).json()
    assert len(second["items"]) == 2
    assert second["next_cursor"] is None
    ids = [item["id"] for item in first["items"] + second["items"]]
    assert ids == sorted(ids, reverse=True)

    read = await client.send_json("POST", f"/api/v1/notifications/{ids[0]}/read")
    assert read.json() == {"unread": 4}
    unread = (await client.get("/api/v1/notifications?unread=true")).json()
    assert len(unread["items"]) == 4
    assert (await client.send_json("POST", "/api/v1/notifications/read-all")).json() == {
        "unread": 0
    }
    bad = await client.get("/api/v1/notifications?limit=1000")
    assert bad.status_code == 422
    assert bad.json()["error"]["field"].endswith("limit")


async def test_preferences_turn_kinds_off_or_on(client, database, member_factory, login):
    author = await member_factory(locale="en")
    replier = await member_factory(locale="en")
    topic = await make_topic(database, author)
    await login(client, author)

    page = await client.get("/settings/notifications")
    assert "Replies to my topics and posts" in page.text
    saved = await client.submit(
        "/settings/notifications", {"reply": "off", "mention": "app", "digest": "weekly"}
    )
    assert saved.status_code == 303
    await reply(database, replier, topic)
    assert await notifications_of(database, author) == []
    await reply(database, replier, topic, mentions=[author.id])  # a mention is still on
    assert [row.kind for row in await notifications_of(database, author)] == ["mention"]

    prefs = (await client.get("/api/v1/notifications/preferences")).json()
    assert prefs["reply"] == "off"
    assert prefs["digest"] == "weekly"
    assert prefs["like"] == "app"
    changed = await client.send_json("PATCH", "/api/v1/notifications/preferences", {"reply": "app"})
    assert changed.json()["reply"] == "app"
    await reply(database, replier, topic)
    assert len(await notifications_of(database, author)) == 2

    bad = await client.submit("/settings/notifications", {"reply": "loudly"})
    assert bad.status_code == 422
    assert "Choose one of the offered values." in bad.text
    bad_api = await client.send_json("PATCH", "/api/v1/notifications/preferences", {"shout": "app"})
    assert bad_api.status_code == 422
    assert bad_api.json()["error"]["field"] == "body.shout"
    assert (await client.get("/api/v1/notifications/preferences")).json()["reply"] == "app"


def test_the_api_shape_covers_every_kind():
    assert set(PreferencesOut.model_fields) == kinds.KIND_NAMES | {kinds.DIGEST}
