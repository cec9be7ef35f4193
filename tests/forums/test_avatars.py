"""Avatars beside members' names wherever the forum names them: posts, topic lists, search
results and notifications, in the pages and the API."""

from __future__ import annotations

import re

from tests.uploads.images import give_avatar


def _names(html: str) -> list[tuple[str | None, str]]:
    """Each member link's (avatar URL or None, display name), in page order."""
    return [
        (avatar or None, name)
        for avatar, name in re.findall(
            r'<a class="member-link" href="/u/[^"]+">'
            r'(?:<img class="avatar avatar-small" src="([^"]+)"[^>]*>)?([^<]+)</a>',
            html,
        )
    ]


async def test_posts_topic_lists_search_and_notifications_show_each_members_avatar(
    client, database, member_factory, login, forum
):
    hana = await member_factory(name="Hana Avatar", locale="en")
    kenji = await member_factory(name="Kenji Plain", locale="en")
    mei = await member_factory(name="Mei Avatar", locale="en")
    hana_url = await give_avatar(client, database, login, hana)
    mei_url = await give_avatar(client, database, login, mei)
    assert hana_url != mei_url
    category = await forum.category(slug="gear")
    topic = await forum.topic(hana, category, title="Tripod recommendations", body="Which one?")
    await forum.reply(kenji, topic, body="A carbon tripod.")
    await forum.reply(mei, topic, body="A travel tripod.")

    # Each post is headed by its own author's avatar; a member without one shows none.
    page = await client.get(f"/t/{topic.id}")
    assert page.status_code == 200
    shown = _names(page.text)
    for expected in ((hana_url, "Hana Avatar"), (None, "Kenji Plain"), (mei_url, "Mei Avatar")):
        assert expected in shown, expected
    assert all(avatar is None for avatar, name in shown if name == "Kenji Plain")

    # A topic row shows who started it and who posted last, each with their avatar.
    listing = _names((await client.get("/c/gear")).text)
    assert (hana_url, "Hana Avatar") in listing
    assert (mei_url, "Mei Avatar") in listing
    (api_topic,) = (await client.get("/api/v1/topics?category=gear")).json()["items"]
    assert api_topic["author"]["avatar_url"] == hana_url
    assert api_topic["last_poster"]["avatar_url"] == mei_url
    posts = (await client.get(f"/api/v1/topics/{topic.id}/posts")).json()["items"]
    assert [(p["author"]["display_name"], p["author"]["avatar_url"]) for p in posts] == [
        ("Hana Avatar", hana_url),
        ("Kenji Plain", None),
        ("Mei Avatar", mei_url),
    ]

    # Search results name their post's author the same way.
    found = _names((await client.get("/search?q=tripod")).text)
    assert (mei_url, "Mei Avatar") in found
    assert (None, "Kenji Plain") in found
    hits = (await client.get("/api/v1/search?q=travel")).json()["items"]
    assert [hit["author"]["avatar_url"] for hit in hits] == [mei_url]

    # Hana's notifications of the replies show who replied, with their avatar.
    await login(client, hana)
    bell = _names((await client.get("/notifications")).text)
    assert (mei_url, "Mei Avatar") in bell
    assert (None, "Kenji Plain") in bell

    # Taking the avatar away takes it off every page at once.
    await login(client, mei)
    removed = await client.submit("/settings/avatar/remove", {})
    assert removed.status_code == 303
    shown = _names((await client.get(f"/t/{topic.id}")).text)
    assert (None, "Mei Avatar") in shown
    assert (None, "Mei Avatar") in _names((await client.get("/c/gear")).text)
