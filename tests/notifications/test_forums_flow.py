"""End to end through the forums' own pages: a reply, a mention and likes made over HTTP
reach the right people's bells, and a member-only category never leaks."""

from __future__ import annotations

import re

from tests.notifications.helpers import make_topic, notifications_of, unread_of

POST_ID = re.compile(r"#post-(\d+)$")


async def start_topic(client, category_id: int, title: str) -> int:
    made = await client.submit(
        "/t/new",
        {"category_id": str(category_id), "title": title, "body": "What do you all think?"},
    )
    assert made.status_code == 303, made.text
    return int(made.headers["location"].split("/")[2])


async def post_reply(client, topic_id: int, body: str) -> int:
    done = await client.submit(f"/t/{topic_id}/reply", {"body": body})
    assert done.status_code == 303, done.text
    match = POST_ID.search(done.headers["location"])
    assert match
    return int(match.group(1))


async def test_reply_mention_and_likes_over_http(make_client, database, member_factory, login):
    aiko = await member_factory(name="Aiko", locale="en")
    ken = await member_factory(name="Ken", locale="en")
    yuki = await member_factory(name="Yuki", locale="en")
    fans = [await member_factory(name=f"Fan {i}", locale="en") for i in range(3)]
    seed = await make_topic(database, aiko)  # a public category to post in
    browsers = {}
    for member in (aiko, ken, yuki, *fans):
        browsers[member.id] = make_client()
        await login(browsers[member.id], member)

    topic_id = await start_topic(browsers[aiko.id], seed.category_id, "Favourite roast?")
    reply_id = await post_reply(
        browsers[ken.id], topic_id, f"Dark roast, and @{yuki.handle} agrees with me."
    )

    aiko_rows = await notifications_of(database, aiko)
    assert [row.kind for row in aiko_rows] == ["reply"]
    assert [row.kind for row in await notifications_of(database, yuki)] == ["mention"]
    assert await notifications_of(database, ken) == []
    page = await browsers[aiko.id].get("/notifications")
    assert "replied in Favourite roast?" in page.text

    for fan in fans:
        liked = await browsers[fan.id].submit(f"/p/{reply_id}/like")
        assert liked.status_code in (200, 303)
    ken_rows = await notifications_of(database, ken)
    assert len(ken_rows) == 1
    assert ken_rows[0].actor_count == 3
    assert await unread_of(database, ken) == 1
    page = await browsers[ken.id].get("/notifications")
    assert "and 2 others liked your post in Favourite roast?" in page.text

    opened = await browsers[ken.id].get(f"/notifications/{ken_rows[0].id}/open")
    assert opened.headers["location"] == f"/p/{reply_id}"
    follow = await browsers[ken.id].get(opened.headers["location"])
    assert follow.status_code == 303
    assert follow.headers["location"].endswith(f"#post-{reply_id}")


async def test_members_only_category_does_not_leak(make_client, database, member_factory, login):
    staff = await member_factory(role="moderator", name="Mod", locale="en")
    member = await member_factory(name="Hana", locale="en")
    hidden = await make_topic(database, staff, visibility="staff")
    browser = make_client()
    await login(browser, staff)
    topic_id = await start_topic(browser, hidden.category_id, "Secret launch plans")
    await post_reply(browser, topic_id, f"Should we tell @{member.handle}?")
    assert await notifications_of(database, member) == []
    member_browser = make_client()
    await login(member_browser, member)
    page = await member_browser.get("/notifications")
    assert "Secret launch plans" not in page.text
