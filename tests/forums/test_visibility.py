"""Who sees what: anonymous visitors, members, members below and above a rank, staff."""

from __future__ import annotations

from sqlalchemy import select, update

from app.forums import policy
from app.models import Category, Member, Post


async def _world(forum, member_factory):
    author = await member_factory(role="admin")
    places = {
        "open": await forum.category(slug="open", visibility="everyone"),
        "members": await forum.category(slug="members", visibility="members"),
        "rank": await forum.category(slug="rank", visibility="min_rank", min_rank_threshold=100),
        "staff": await forum.category(slug="staff", visibility="staff"),
    }
    topics = {}
    for name, category in places.items():
        topics[name] = await forum.topic(
            author, category, title=f"Secretword topic in {name}", body=f"Secretword body {name}"
        )
    return places, topics


async def _seen(client, topics) -> set[str]:
    listing = (await client.get("/api/v1/topics")).json()["items"]
    titles = {t["title"] for t in listing}
    latest = (await client.get("/")).text
    searched = {
        h["topic_title"] for h in (await client.get("/api/v1/search?q=Secretword")).json()["items"]
    }
    categories = {c["slug"] for c in (await client.get("/api/v1/categories")).json()}
    seen = set()
    for name, topic in topics.items():
        page = (await client.get(f"/t/{topic.id}")).status_code
        api = (await client.get(f"/api/v1/topics/{topic.id}")).status_code
        category_page = (await client.get(f"/c/{name}")).status_code
        in_list = topic.title in titles
        assert in_list == (topic.title in latest)
        assert in_list == (topic.title in searched)
        assert in_list == (name in categories)
        assert {page, api, category_page} == ({200} if in_list else {404})
        if in_list:
            seen.add(name)
    return seen


async def test_each_kind_of_viewer_sees_exactly_what_the_category_allows(
    client, make_client, member_factory, login, database, forum
):
    _places, topics = await _world(forum, member_factory)
    assert await _seen(make_client(), topics) == {"open"}

    member = await member_factory()
    browser = make_client()
    await login(browser, member)
    assert await _seen(browser, topics) == {"open", "members"}

    async with database.transaction() as session:
        await session.execute(
            update(Member).where(Member.id == member.id).values(lifetime_points=100)
        )
    assert await _seen(browser, topics) == {"open", "members", "rank"}

    mod = make_client()
    await login(mod, await member_factory(role="moderator"))
    assert await _seen(mod, topics) == {"open", "members", "rank", "staff"}


async def test_posts_in_hidden_categories_stay_hidden_from_post_links_and_likes(
    client, member_factory, login, forum
):
    _places, topics = await _world(forum, member_factory)
    (post_id,) = (await forum.rows(select(Post.id).where(Post.topic_id == topics["staff"].id)))[0]
    await login(client, await member_factory())
    assert (await client.get(f"/p/{post_id}")).status_code == 404
    assert (await client.get(f"/api/v1/posts/{post_id}")).status_code == 404
    assert (await client.send_json("PUT", f"/api/v1/posts/{post_id}/like")).status_code == 404
    quote = await client.send_json(
        "POST",
        f"/api/v1/topics/{topics['open'].id}/posts",
        {"body": f"[quote={post_id}]\nleak?\n[/quote]"},
    )
    assert quote.status_code == 201
    assert f"/p/{post_id}" not in quote.json()["cooked"]


async def test_can_see_topic_for_other_features(member_factory, forum, database):
    places, _topics = await _world(forum, member_factory)
    member = await member_factory()
    async with database.transaction(write=False) as session:
        rank = await session.get(Category, places["rank"].id)
        staff = await session.get(Category, places["staff"].id)
        fresh = await session.get(Member, member.id)
    assert policy.can_see_topic(None, await forum.get(Category, places["open"].id))
    assert not policy.can_see_topic(None, await forum.get(Category, places["members"].id))
    assert not policy.can_see_topic(fresh, rank)
    fresh.lifetime_points = 150
    assert policy.can_see_topic(fresh, rank)
    assert not policy.can_see_topic(fresh, staff)
