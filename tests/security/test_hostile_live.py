"""Hostile text reaching a reader live: a member whose name and reply are XSS vectors replies
while the topic's author has it open. Pushed events carry plain text and ids only (the page
sets the text with ``textContent``, static/js/live.js), never markup; the post itself is a
server-rendered fragment the page fetches for the push, and it comes back inert."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.live.helpers import TIMEOUT, next_event, open_socket, subscribe
from tests.security.corpus import OWASP_STYLE, markup_problems, single_line


async def _until(
    socket: Any, wanted: set[str], seen: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Read events (kept in ``seen``) until one of each wanted type arrived, in any order."""
    found: dict[str, dict[str, Any]] = {}

    async def read() -> dict[str, dict[str, Any]]:
        while set(found) != wanted:
            event = await next_event(socket)
            seen.append(event)
            if event.get("type") in wanted:
                found[event["type"]] = event
        return found

    return await asyncio.wait_for(read(), TIMEOUT)


async def test_pushed_notifications_and_fetched_posts_are_inert(
    live_server, signed_in, make_client, login
):
    admin, _ = await signed_in("admin")
    category = await admin.send_json(
        "POST", "/api/v1/categories", {"slug": "live-xss", "name_en": "Live XSS"}
    )
    assert category.status_code == 201, category.text
    author, _member = await signed_in("member")
    topic = await author.send_json(
        "POST",
        "/api/v1/topics",
        {"category_id": category.json()["id"], "title": "Open on my screen", "body": "Hello."},
    )
    assert topic.status_code == 201, topic.text
    topic_id = topic.json()["topic"]["id"]
    token = author.cookies.get("kizuna_session")
    assert token

    seen: list[dict[str, Any]] = []
    async with open_socket(live_server, token) as socket:
        await next_event(socket)
        assert (await subscribe(socket, f"topic:{topic_id}"))["type"] == "subscribed"
        for payload in OWASP_STYLE[:10]:
            replier, _ = await signed_in("member")
            named = await replier.send_json(
                "PATCH", "/api/v1/me", {"display_name": single_line(payload, 60) or "x"}
            )
            assert named.status_code in (200, 422), named.text
            reply = await replier.send_json(
                "POST", f"/api/v1/topics/{topic_id}/posts", {"body": payload}
            )
            assert reply.status_code == 201, reply.text
            events = await _until(socket, {"post.created", "notifications"}, seen)
            created = events["post.created"]
            assert events["notifications"]["items"], events
            fragment = await author.get(
                f"/t/{topic_id}/posts/{created['post_id']}", headers={"HX-Request": "true"}
            )
            assert fragment.status_code == 200
            assert markup_problems(fragment.text) == [], payload

    notices = [
        item for event in seen if event["type"] == "notifications" for item in event["items"]
    ]
    assert len(notices) == 10
    for item in notices:
        # Plain text, not markup: the hostile name arrives verbatim (so it is not HTML that
        # was escaped once and could be unescaped), with nothing else that a page could render.
        assert set(item) == {"id", "kind", "text", "url"}, item
        assert item["url"].startswith("/notifications/"), item
    assert any("<script>" in item["text"] for item in notices)
    for event in seen:
        assert not {"html", "body", "cooked"} & set(event), event
