"""Topic-list rows are kept per process (app/forums/rendering.py): whatever changes a topic, its
people's badges or the reader's relation to it, the list shows what it would show without the
cache."""

from __future__ import annotations

import re

from sqlalchemy import select, update

from app.models import Category, Member, Post, Rank, Topic


def _row(page: str, topic_id: int) -> str:
    match = re.search(
        rf'<tr class="topic-row[^"]*">(?:(?!</tr>).)*?/t/{topic_id}".*?</tr>', page, re.S
    )
    assert match, f"topic {topic_id} is listed"
    return match.group(0)


def _likes(row: str) -> int:
    match = re.search(r'<span class="sr-only">Likes </span>(\d+)', row)
    assert match, row
    return int(match.group(1))


async def test_likes_replies_and_rank_renames_show_at_once(
    client, make_client, member_factory, login, forum, database
):
    category = await forum.category()
    author = await member_factory(name="Aiko")
    fan = await member_factory(name="Ben")
    topic = await forum.topic(author, category, title="Kept rows stay true")
    post_id = (await client.get(f"/api/v1/topics/{topic.id}")).json()["posts"][0]["id"]

    for path in ("/", f"/c/{category.slug}"):
        assert _likes(_row((await client.get(path)).text, topic.id)) == 0

    fan_browser = make_client()
    await login(fan_browser, fan)
    liked = await fan_browser.send_json("PUT", f"/api/v1/posts/{post_id}/like")
    assert liked.status_code == 200, liked.text
    await forum.reply(fan, topic, body="Me too!")
    for path in ("/", f"/c/{category.slug}"):
        row = _row((await client.get(path)).text, topic.id)
        assert _likes(row) == 1
        assert '<span class="sr-only">Replies </span>1<' in row
        assert "Ben" in row  # the last poster

    async with database.transaction() as session:
        rank = Rank(name_en="Starter", name_ja="スターター", threshold=0, colour="#336699")
        session.add(rank)
        await session.flush()
        await session.execute(update(Member).where(Member.id == author.id).values(rank_id=rank.id))
    assert "Starter" in _row((await client.get("/")).text, topic.id)
    async with database.transaction() as session:  # an admin renames the rank
        await session.execute(update(Rank).where(Rank.id == rank.id).values(name_en="Trailblazer"))
    renamed = _row((await client.get("/")).text, topic.id)
    assert "Trailblazer" in renamed
    assert "Starter" not in renamed


async def test_each_reader_and_list_gets_its_own_row(
    client, make_client, member_factory, login, forum
):
    category = await forum.category(name_en="Cameras", name_ja="カメラ")
    author = await member_factory()
    reader = await member_factory()
    topic = await forum.topic(author, category, title="Which lens first?")

    # The home page names the category; the category's own list does not repeat it.
    assert "Cameras" in _row((await client.get("/")).text, topic.id)
    assert "Cameras" not in _row((await client.get(f"/c/{category.slug}")).text, topic.id)

    browser = make_client()
    await login(browser, reader)
    assert "badge new" in _row((await browser.get("/")).text, topic.id)
    assert "badge new" not in _row((await client.get("/")).text, topic.id)
    await browser.get(f"/t/{topic.id}")  # read it
    assert "badge new" not in _row((await browser.get("/")).text, topic.id)

    await forum.reply(author, topic, body="Any prime lens is a good start.")
    unread = _row((await browser.get("/")).text, topic.id)
    assert "1 unread" in unread
    assert "unread" not in _row((await client.get("/")).text, topic.id)

    japanese = _row((await client.get("/", headers={"Accept-Language": "ja"})).text, topic.id)
    assert "カメラ" in japanese
    assert "Cameras" not in japanese


async def test_rows_show_tags_in_name_order_and_follow_a_retag(
    client, member_factory, login, forum, database
):
    """A list reads each topic's tags with the topic (one aggregated column, no query of its
    own) and shows them sorted by name; a retagged topic's row shows its new tags at once."""
    category = await forum.category(slug="tagged-rows")
    author = await member_factory()
    topic = await forum.topic(author, category, tags=["zoom", "lens", "写真", "camera-bag"])
    bare = await forum.topic(author, category, title="No tags here")

    def tags(row: str) -> list[str]:
        return re.findall(r'class="tag" href="/tags/[^"]+">#([^<]+)<', row)

    for path in ("/", f"/c/{category.slug}", "/tags/lens"):
        page = (await client.get(path)).text
        assert tags(_row(page, topic.id)) == sorted(["zoom", "lens", "写真", "camera-bag"])
    assert tags(_row((await client.get("/")).text, bare.id)) == []

    async with database.transaction() as session:
        post_id = await session.scalar(select(Post.id).where(Post.topic_id == topic.id))
    await login(client, author)
    edited = await client.submit(
        f"/p/{post_id}/edit", {"title": topic.title, "body": "Still about lenses", "tags": "news"}
    )
    assert edited.status_code == 303
    for path in ("/", f"/c/{category.slug}"):
        assert tags(_row((await client.get(path)).text, topic.id)) == ["news"]
    assert f"/t/{topic.id}" not in (await client.get("/tags/lens")).text


async def test_a_topic_page_and_a_category_page_follow_their_rows(
    client, member_factory, forum, database
):
    """A read session keeps the topic and category it loads by their rows (SQLite): a retitle,
    a lock, a category's new name and a category closed to members show on the next view, and
    a category made staff-only answers 404 at once."""
    category = await forum.category(slug="kept-pages", name_en="Cameras")
    author = await member_factory()
    topic = await forum.topic(author, category, title="Old title")
    page = (await client.get(f"/t/{topic.id}")).text
    assert "Old title" in page
    assert "Cameras" in page
    assert "Cameras" in (await client.get("/c/kept-pages")).text

    async with database.transaction() as session:
        await session.execute(
            update(Topic).where(Topic.id == topic.id).values(title="New title", locked=True)
        )
        await session.execute(
            update(Category).where(Category.id == category.id).values(name_en="Lenses")
        )
    page = (await client.get(f"/t/{topic.id}")).text
    assert "New title" in page
    assert "Old title" not in page
    assert "Lenses" in page
    assert '<span class="badge locked">Locked</span>' in page
    listing = (await client.get("/c/kept-pages")).text
    assert "Lenses" in listing
    assert "Cameras" not in listing

    async with database.transaction() as session:
        await session.execute(
            update(Category).where(Category.id == category.id).values(visibility="staff")
        )
    assert (await client.get(f"/t/{topic.id}")).status_code == 404
    assert (await client.get("/c/kept-pages")).status_code == 404
