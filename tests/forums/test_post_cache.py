"""Rendered posts are kept per process (app/forums/rendering.py): whatever changes a post, its
author's badges or the reader, the page shows what it would show without the cache."""

from __future__ import annotations

import re

from sqlalchemy import update

from app.models import Member, Rank

_META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def _article(page: str, post_id: int) -> str:
    match = re.search(rf'<article class="[^"]*"\s+id="post-{post_id}".*?</article>', page, re.S)
    assert match, f"post {post_id} is on the page"
    return match.group(0)


async def test_likes_edits_and_rank_changes_show_at_once(
    client, make_client, member_factory, login, forum, database
):
    category = await forum.category()
    author = await member_factory(name="Aiko")
    fan = await member_factory(name="Ben")
    topic = await forum.topic(author, category, body="First version of the post.")
    post_id = (await client.get(f"/api/v1/topics/{topic.id}")).json()["posts"][0]["id"]

    before = _article((await client.get(f"/t/{topic.id}")).text, post_id)
    assert "0 likes" in before
    assert "First version of the post." in before

    fan_browser = make_client()
    await login(fan_browser, fan)
    liked = await fan_browser.send_json("PUT", f"/api/v1/posts/{post_id}/like")
    assert liked.status_code == 200, liked.text
    assert "1 like" in _article((await client.get(f"/t/{topic.id}")).text, post_id)

    author_browser = make_client()
    await login(author_browser, author)
    edited = await author_browser.send_json(
        "PATCH", f"/api/v1/posts/{post_id}", {"body": "Second version, **edited**."}
    )
    assert edited.status_code == 200, edited.text
    after_edit = _article((await client.get(f"/t/{topic.id}")).text, post_id)
    assert "<strong>edited</strong>" in after_edit
    assert "First version" not in after_edit
    assert "edited</span>" in after_edit  # the anonymous reader sees the mark, not the history

    async with database.transaction() as session:
        rank = Rank(name_en="Starter", name_ja="スターター", threshold=0, colour="#336699")
        session.add(rank)
        await session.flush()
        await session.execute(update(Member).where(Member.id == author.id).values(rank_id=rank.id))
    assert "Starter" in _article((await client.get(f"/t/{topic.id}")).text, post_id)
    async with database.transaction() as session:  # an admin renames the rank
        await session.execute(update(Rank).where(Rank.id == rank.id).values(name_en="Trailblazer"))
    renamed = _article((await client.get(f"/t/{topic.id}")).text, post_id)
    assert "Trailblazer" in renamed
    assert "Starter" not in renamed


async def test_each_reader_gets_their_own_buttons_and_csrf_token(
    client, make_client, member_factory, login, forum
):
    category = await forum.category()
    author = await member_factory()
    readers = [await member_factory(), await member_factory()]
    topic = await forum.topic(author, category)
    post_id = (await client.get(f"/api/v1/topics/{topic.id}")).json()["posts"][0]["id"]

    anonymous = _article((await client.get(f"/t/{topic.id}")).text, post_id)
    assert "csrf_token" not in anonymous
    assert "/edit" not in anonymous
    assert "/flag" not in anonymous

    author_browser = make_client()
    await login(author_browser, author)
    own = _article((await author_browser.get(f"/t/{topic.id}")).text, post_id)
    assert f"/p/{post_id}/edit" in own
    assert "/flag" not in own

    tokens = set()
    for reader in readers:
        browser = make_client()
        await login(browser, reader)
        page = (await browser.get(f"/t/{topic.id}")).text
        article = _article(page, post_id)
        assert f"/posts/{post_id}/flag" in article
        assert "/edit" not in article
        meta = _META_CSRF.search(page)
        assert meta
        in_post = set(re.findall(r'name="csrf_token" value="([^"]+)"', article))
        assert in_post == {meta.group(1)}, "the like form carries this reader's token"
        tokens |= in_post
        # The token in the kept post works: the like goes through as a plain form post.
        liked = await browser.post(f"/p/{post_id}/like", data={"csrf_token": meta.group(1)})
        assert liked.status_code in (200, 303), liked.text
    assert len(tokens) == 2
    assert "2 likes" in _article((await client.get(f"/t/{topic.id}")).text, post_id)
