"""Search: Japanese and English, filters, highlighting, and only what the searcher may see."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.models import Post


async def test_japanese_search_finds_japanese_posts_long_and_short_terms(
    client, member_factory, forum
):
    category = await forum.category(slug="travel")
    author = await member_factory()
    topic = await forum.topic(
        author, category, title="旅行の思い出", body="東京タワーの夜景がとてもきれいでした。"
    )
    await forum.reply(author, topic, body="大阪城にも行きました。")
    await forum.topic(author, category, title="Camera settings", body="Shutter speed tips")

    for term, expected in [
        ("東京タワー", "東京タワー"),
        ("東京", "東京"),
        ("夜景", "夜景"),
        ("大阪城", "大阪城"),
        ("思い出", "思い出"),
    ]:
        items = (await client.get("/api/v1/search", params={"q": term})).json()["items"]
        assert items, term
        assert f"<mark>{expected}</mark>" in items[0]["snippet_html"] + items[0]["title_html"]
    both = (await client.get("/api/v1/search", params={"q": "東京 夜景"})).json()["items"]
    assert len(both) == 1
    none = (await client.get("/api/v1/search", params={"q": "東京 大阪城"})).json()["items"]
    assert none == []

    english = (await client.get("/api/v1/search", params={"q": "SHUTTER"})).json()["items"]
    assert [hit["topic_title"] for hit in english] == ["Camera settings"]
    assert "<mark>Shutter</mark>" in english[0]["snippet_html"]
    page = await client.get("/search", params={"q": "東京"})
    assert "<mark>東京</mark>" in page.text


async def test_highlighting_escapes_before_marking(client, member_factory, forum):
    category = await forum.category()
    author = await member_factory()
    await forum.topic(author, category, title="Markup in text", body="Try `<b>bold</b>` tags")
    items = (await client.get("/api/v1/search", params={"q": "bold"})).json()["items"]
    snippet = items[0]["snippet_html"]
    assert "&lt;b&gt;<mark>bold</mark>&lt;/b&gt;" in snippet
    mark = (await client.get("/api/v1/search", params={"q": "<mark>"})).json()["items"]
    assert mark == []


async def test_filters_category_tag_author_solved(client, member_factory, login, forum):
    talk = await forum.category(slug="talk")
    help_ = await forum.category(slug="help", kind="question")
    hana = await member_factory(name="Hana")
    alex = await member_factory(name="Alex")
    await forum.topic(hana, talk, title="Battery life report", body="battery lasts", tags=["power"])
    question = await forum.topic(alex, help_, title="Battery question", body="battery drains")
    await forum.topic(alex, help_, title="Another battery question", body="battery again")
    answer = await forum.reply(hana, question, body="Update the firmware for battery.")
    await login(client, alex)
    await client.send_json("PUT", f"/api/v1/posts/{answer.id}/accept")

    def titles(response):
        return sorted({hit["topic_title"] for hit in response.json()["items"]})

    assert titles(await client.get("/api/v1/search?q=battery&category=talk")) == [
        "Battery life report"
    ]
    assert titles(await client.get("/api/v1/search?q=battery&tag=power")) == ["Battery life report"]
    assert titles(await client.get(f"/api/v1/search?q=battery&author={hana.handle}")) == [
        "Battery life report",
        "Battery question",
    ]
    assert titles(await client.get("/api/v1/search?q=battery&solved=true")) == ["Battery question"]
    assert titles(await client.get("/api/v1/search?q=battery&solved=false")) == [
        "Another battery question"
    ]


async def test_removed_posts_leave_the_results(client, member_factory, login, forum):
    category = await forum.category()
    author = await member_factory()
    topic = await forum.topic(author, category, title="Keep this", body="ordinary words")
    reply = await forum.reply(author, topic, body="vanishing sentence here")
    assert (await client.get("/api/v1/search?q=vanishing")).json()["items"]
    await login(client, author)
    assert (await client.send_json("DELETE", f"/api/v1/posts/{reply.id}")).status_code == 204
    assert (await client.get("/api/v1/search?q=vanishing")).json()["items"] == []
    (post_id,) = (await forum.rows(select(Post.id).where(Post.number == 1)))[0]
    edited = await client.send_json(
        "PATCH", f"/api/v1/posts/{post_id}", {"body": "fresh wording", "title": "Renamed topic"}
    )
    assert edited.status_code == 200
    assert (await client.get("/api/v1/search?q=ordinary")).json()["items"] == []
    hits = (await client.get("/api/v1/search?q=renamed")).json()["items"]
    assert [h["topic_title"] for h in hits] == ["Renamed topic"]


async def test_search_results_page_with_a_cursor(client, member_factory, forum):
    category = await forum.category()
    author = await member_factory()
    topic = await forum.topic(author, category, title="Many mentions", body="limited edition 0")
    for number in range(1, 25):
        await forum.reply(author, topic, body=f"limited edition {number}")
    first = await client.get("/search", params={"q": "limited edition"})
    assert first.status_code == 200
    assert first.text.count('class="snippet"') == 20
    match = re.search(r'href="(/search\?[^"]*cursor=[^"]+)"', first.text)
    assert match
    second = await client.get(match.group(1).replace("&amp;", "&"))
    assert second.text.count('class="snippet"') == 5
    api = (await client.get("/api/v1/search", params={"q": "limited edition"})).json()
    more = await client.get(
        "/api/v1/search", params={"q": "limited edition", "cursor": api["next_cursor"]}
    )
    assert len(more.json()["items"]) == 5
    assert not {h["post_id"] for h in api["items"]} & {h["post_id"] for h in more.json()["items"]}


async def test_search_reaches_past_many_newer_matches_the_searcher_may_not_see(
    client, member_factory, login, forum, database
):
    """Full-text candidates are read newest first in batches (CANDIDATE_BATCH); when the
    newest hundreds of matches are in a staff-only category, a visitor still gets the
    older public match, and staff get the newest matches with a working next page."""
    from app.forums import search
    from app.forums.schemas import ReplyIn
    from app.forums.service import create_reply
    from app.models import Member

    public = await forum.category(slug="open", visibility="everyone")
    staff_only = await forum.category(slug="backroom", visibility="staff")
    author = await member_factory(role="moderator")
    await forum.topic(author, public, title="Lantern festival", body="Paper lanterns at dusk")
    hidden_topic = await forum.topic(author, staff_only, title="Planning", body="lantern stock")
    newer = search.CANDIDATE_BATCH + 50
    async with database.transaction() as session:
        fresh = await session.get(Member, author.id)
        assert fresh is not None
        for index in range(newer):
            await create_reply(session, fresh, hidden_topic.id, ReplyIn(body=f"lantern {index}"))

    items = (await client.get("/api/v1/search", params={"q": "lantern"})).json()["items"]
    assert [item["topic_title"] for item in items] == ["Lantern festival"]
    page = await client.get("/search", params={"q": "lantern"})
    assert "<mark>Lantern</mark> festival" in page.text
    assert "Planning" not in page.text

    await login(client, author)
    first = (await client.get("/api/v1/search", params={"q": "lantern"})).json()
    assert len(first["items"]) == search.RESULTS_PER_PAGE
    numbers = [item["number"] for item in first["items"]]
    assert numbers == sorted(numbers, reverse=True)
    assert numbers[0] == newer + 1
    seen = {item["post_id"] for item in first["items"]}
    cursor = first["next_cursor"]
    while cursor:
        more = (
            await client.get("/api/v1/search", params={"q": "lantern", "cursor": cursor})
        ).json()
        assert not seen & {item["post_id"] for item in more["items"]}
        seen |= {item["post_id"] for item in more["items"]}
        cursor = more["next_cursor"]
    assert len(seen) == newer + 2  # every reply, the hidden opening post and the public one


async def test_quotes_wildcards_and_backslashes_are_searched_as_written(
    client, member_factory, forum
):
    """A term's quotes, % and _ and backslashes are matched as themselves, short or long (the
    patterns are written into the SQL as escaped literals on PostgreSQL)."""
    category = await forum.category()
    author = await member_factory()
    bodies = {
        "discount": "Members get 100% off the tote",
        "points": "I won 1000 points today",
        "quote": "Ask O'Reilly at the desk",
        "path": r"Saved under C:\temp\new before sync",
        "snake": "Call it snake_case in the docs",
        "other": "Call it snakeXcase elsewhere",
    }
    for title, body in bodies.items():
        await forum.topic(author, category, title=f"Note {title}", body=body)

    async def found(term: str) -> set[str]:
        response = await client.get("/api/v1/search", params={"q": term})
        assert response.status_code == 200, term
        return {hit["topic_title"].removeprefix("Note ") for hit in response.json()["items"]}

    assert await found("100%") == {"discount"}
    assert await found("%") == {"discount"}
    assert await found("O'Reilly") == {"quote"}
    assert await found("'") == {"quote"}
    assert await found("snake_case") == {"snake"}
    assert await found("_") == {"snake"}
    assert await found(r"C:\temp") == {"path"}
    assert await found("\\") == {"path"}
    assert await found("' OR 1=1 --") == set()
