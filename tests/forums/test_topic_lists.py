"""Topic lists that read their topics in more than one way, depending on what they hold: a
tag's topics (common or rare tags), a "top" list's period (long or short) and the unanswered
questions (their own partial indexes). Each way must list the same topics in the same order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.forums import queries
from app.kit import clock
from app.models import Post, Topic


@pytest.mark.parametrize("reading", ["common", "rare"])
async def test_a_tag_list_is_the_same_for_a_common_and_a_rare_tag(
    client, make_client, member_factory, login, forum, monkeypatch, reading
):
    # Which way a tag is read depends on its share of the community's topics; both are
    # taken here on the same topics.
    monkeypatch.setattr(queries, "_tag_reading", lambda _tagged, _topics: reading)
    open_category = await forum.category(slug="open")
    staff_only = await forum.category(slug="back-office", visibility="staff")
    author = await member_factory()
    tagged = [
        await forum.topic(author, open_category, title=f"Tagged {n:02d}", tags=["camera"])
        for n in range(33)
    ]
    await forum.topic(author, open_category, title="Another tag", tags=["lens"])
    moderator = await member_factory(role="moderator")
    await forum.topic(moderator, staff_only, title="Staff notes", tags=["camera"])
    await forum.reply(author, tagged[3])  # now the most recently active

    expected = [tagged[3].title] + [t.title for t in reversed(tagged) if t is not tagged[3]]
    first = (await client.get("/api/v1/topics?tag=camera")).json()
    assert len(first["items"]) == 30
    second = (await client.get(f"/api/v1/topics?tag=camera&cursor={first['next_cursor']}")).json()
    assert [t["title"] for t in first["items"] + second["items"]] == expected
    assert second["next_cursor"] is None

    page = await client.get("/tags/CAMERA")
    assert page.status_code == 200
    assert "Tagged 32" in page.text
    assert "Staff notes" not in page.text
    assert "Another tag" not in page.text

    top = (await client.get("/api/v1/topics?tag=camera&sort=top")).json()["items"]
    assert len(top) == 30
    assert {t["title"] for t in top} <= set(expected)

    staff = make_client()
    await login(staff, moderator)
    seen = (await staff.get("/api/v1/topics?tag=camera")).json()["items"]
    assert "Staff notes" in [t["title"] for t in seen]

    # A tag nobody has used lists nothing.
    nothing = await client.get("/api/v1/topics?tag=never-used")
    assert nothing.status_code == 200
    assert nothing.json()["items"] == []
    assert "Tagged" not in (await client.get("/tags/never-used")).text


async def test_top_lists_of_short_and_long_periods(client, member_factory, login, forum):
    """A week is read by date, a month and a year along the "top" index (most liked first);
    each keeps only the period's topics, most liked first."""
    category = await forum.category()
    author = await member_factory()
    fans = [await member_factory() for _ in range(3)]
    ages = {
        "Days-old topic": 2,
        "Weeks-old topic": 20,
        "Months-old topic": 200,
        "Years-old topic": 500,
    }
    likes = {"Days-old topic": 0, "Weeks-old topic": 1, "Months-old topic": 2, "Years-old topic": 3}
    topics = {title: await forum.topic(author, category, title=title) for title in ages}
    for title, topic in topics.items():
        post_id = (
            await forum.rows(select(Post.id).where(Post.topic_id == topic.id, Post.number == 1))
        )[0][0]
        for fan in fans[: likes[title]]:
            await login(client, fan)
            liked = await client.send_json("PUT", f"/api/v1/posts/{post_id}/like")
            assert liked.status_code == 200
    async with forum.database.transaction() as session:
        for title, days in ages.items():
            await session.execute(
                update(Topic)
                .where(Topic.id == topics[title].id)
                .values(created_at=clock.now() - timedelta(days=days))
            )

    async def top(period: str) -> list[str]:
        items = (await client.get(f"/api/v1/topics?sort=top&period={period}")).json()["items"]
        return [t["title"] for t in items]

    assert await top("day") == []
    assert await top("week") == ["Days-old topic"]
    assert await top("month") == ["Weeks-old topic", "Days-old topic"]
    assert await top("year") == ["Months-old topic", "Weeks-old topic", "Days-old topic"]
    assert await top("all") == [
        "Years-old topic",
        "Months-old topic",
        "Weeks-old topic",
        "Days-old topic",
    ]
    page = (await client.get(f"/c/{category.slug}?sort=top&period=year")).text
    assert (
        page.index("Months-old topic")
        < page.index("Weeks-old topic")
        < page.index("Days-old topic")
    )
    assert "Years-old topic" not in page


async def test_the_unanswered_questions_leave_the_list_with_their_first_reply(
    client, member_factory, forum
):
    questions = await forum.category(slug="help", kind="question")
    talk = await forum.category(slug="talk")
    asker, helper = await member_factory(), await member_factory()
    older = await forum.topic(asker, questions, title="Older question")
    newer = await forum.topic(asker, questions, title="Newer question")
    await forum.topic(asker, talk, title="A discussion nobody replied to")

    async def unanswered(where: str) -> list[str]:
        items = (await client.get(f"/api/v1/topics?status=unanswered{where}")).json()["items"]
        return [t["title"] for t in items]

    assert await unanswered("") == ["Newer question", "Older question"]
    assert await unanswered("&category=help") == ["Newer question", "Older question"]
    await forum.reply(helper, newer)
    assert await unanswered("") == ["Older question"]
    assert await unanswered("&category=help") == ["Older question"]
    page = (await client.get("/?status=unanswered")).text
    assert "Older question" in page
    assert "Newer question" not in page
    assert older.id != newer.id
