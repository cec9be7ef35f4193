"""Topics and replies through the pages and the API: create, list, limits, bad input."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.activity import verbs
from app.models import Activity, Post, Tag, Topic


async def test_member_starts_a_topic_and_it_shows_on_latest_and_in_its_category(
    client, member_factory, login, forum
):
    category = await forum.category(name_en="Product talk", slug="talk")
    author = await member_factory(name="Hana")
    await login(client, author)

    response = await client.submit(
        "/t/new",
        {
            "category_id": str(category.id),
            "title": "新しいカメラの使い心地",
            "body": "**Great** camera, see [site](https://example.com).",
            "tags": "camera, 写真",
        },
    )
    assert response.status_code == 303
    page = await client.get(response.headers["location"])
    assert page.status_code == 200
    assert "新しいカメラの使い心地" in page.text
    assert "<strong>Great</strong>" in page.text
    assert 'rel="nofollow ugc noopener"' in page.text
    assert "#写真" in page.text

    latest = await client.get("/")
    assert "新しいカメラの使い心地" in latest.text
    in_category = await client.get("/c/talk")
    assert "新しいカメラの使い心地" in in_category.text
    tagged = await client.get("/tags/camera")
    assert "新しいカメラの使い心地" in tagged.text

    activities = await forum.rows(select(Activity.verb, Activity.actor_id, Activity.data))
    assert [(v, a) for v, a, _d in activities if v == verbs.TOPIC_CREATED] == [
        (verbs.TOPIC_CREATED, author.id)
    ]
    data = next(d for v, _a, d in activities if v == verbs.TOPIC_CREATED)
    assert data["category_id"] == category.id
    assert data["kind"] == "discussion"
    assert await forum.count(Tag) == 2


async def test_limits_and_bad_input_store_nothing(client, member_factory, login, forum):
    category = await forum.category()
    await login(client, await member_factory())
    base = {"category_id": str(category.id), "title": "A fine title", "body": "Body"}
    cases = [
        ({"title": "ab"}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"body": "   "}, "body"),
        ({"body": "x" * 50_001}, "body"),
        ({"tags": " ".join(f"t{i}" for i in range(11))}, "tags"),
        ({"tags": "x" * 31}, "tags"),
        ({"tags": "bad<tag>"}, "tags"),
        ({"category_id": "999999"}, "category_id"),
        ({"category_id": ""}, "category_id"),
    ]
    for change, field in cases:
        response = await client.submit("/t/new", {**base, **change})
        assert response.status_code == 422, change
        assert f'id="e-{field}"' in response.text, change
    assert await forum.count(Topic) == 0

    api = await client.send_json(
        "POST", "/api/v1/topics", {"category_id": category.id, "title": "no", "body": "x"}
    )
    assert api.status_code == 422
    assert api.json()["error"]["field"] == "body.title"
    api = await client.send_json(
        "POST",
        "/api/v1/topics",
        {
            "category_id": category.id,
            "title": "Fine title",
            "body": "x",
            "tags": ["a"] * 1 + [f"t{i}" for i in range(10)],
        },
    )
    assert api.status_code == 422
    assert api.json()["error"]["field"] == "body.tags"
    assert await forum.count(Topic) == 0


async def test_forbidden_hidden_locked_and_deleted_targets_get_clear_errors(
    client, member_factory, login, forum
):
    open_category = await forum.category()
    staff_posting = await forum.category(posting="staff")
    staff_only = await forum.category(visibility="staff")
    member = await member_factory()
    mod = await member_factory(role="moderator")
    await login(client, member)

    hidden = await client.send_json(
        "POST",
        "/api/v1/topics",
        {"category_id": staff_only.id, "title": "Hello there", "body": "x"},
    )
    assert hidden.status_code == 422
    assert hidden.json()["error"]["field"] == "category_id"
    forbidden = await client.send_json(
        "POST",
        "/api/v1/topics",
        {"category_id": staff_posting.id, "title": "Hello there", "body": "x"},
    )
    assert forbidden.status_code == 403
    assert "staff" in forbidden.json()["error"]["message"]
    page = await client.submit(
        "/t/new", {"category_id": str(staff_posting.id), "title": "Hello there", "body": "x"}
    )
    assert page.status_code == 403
    assert "Only staff may post in this category." in page.text

    locked = await forum.topic(mod, open_category, title="Locked one")
    async with forum.database.transaction() as session:
        (await session.get(Topic, locked.id)).locked = True
    reply = await client.send_json("POST", f"/api/v1/topics/{locked.id}/posts", {"body": "hi"})
    assert reply.status_code == 403
    assert "locked" in reply.json()["error"]["message"]
    form = await client.submit(f"/t/{locked.id}/reply", {"body": "hi"})
    assert form.status_code == 403
    assert "locked" in form.text

    gone = await forum.topic(member, open_category, title="Soon deleted")
    first_post = (await forum.rows(select(Post.id).where(Post.topic_id == gone.id)))[0][0]
    removed = await client.send_json("DELETE", f"/api/v1/posts/{first_post}")
    assert removed.status_code == 204
    assert (await client.get(f"/t/{gone.id}")).status_code == 404  # it went with its first post
    assert (await forum.get(Topic, gone.id)).deleted_at is not None
    late = await client.send_json("POST", f"/api/v1/topics/{gone.id}/posts", {"body": "late"})
    assert late.status_code == 404
    missing = await client.send_json("POST", "/api/v1/topics/987654/posts", {"body": "x"})
    assert missing.status_code == 404
    assert await forum.count(Post) == 2


async def test_reply_updates_counters_and_records_mentions_and_quotes(
    client, member_factory, login, forum
):
    category = await forum.category()
    asker = await member_factory(name="Asker")
    friend = await member_factory(name="Friend")
    replier = await member_factory(name="Replier")
    topic = await forum.topic(asker, category)
    first = (await forum.rows(select(Post.id).where(Post.topic_id == topic.id)))[0][0]
    await login(client, replier)

    quote_page = await client.get(f"/t/{topic.id}?reply_to={first}&quote={first}")
    assert f"[quote={first}]" in quote_page.text

    body = (
        f"Hi @{friend.handle} and @nobody_here\n\n"
        f"[quote={first}]\nThe opening post.\n[/quote]\n\nAgreed."
    )
    response = await client.submit(
        f"/t/{topic.id}/reply", {"body": body, "reply_to_post_id": str(first)}
    )
    assert response.status_code == 303
    page = await client.get(f"/t/{topic.id}")
    assert f'href="/u/{friend.handle}"' in page.text
    assert 'class="quote"' in page.text
    assert "@nobody_here" in page.text
    assert 'href="/u/nobody_here"' not in page.text

    stored = await forum.get(Topic, topic.id)
    assert (stored.reply_count, stored.post_count, stored.last_poster_id) == (1, 2, replier.id)
    (activity,) = await forum.rows(
        select(Activity.recipient_id, Activity.data).where(Activity.verb == verbs.POST_CREATED)
    )
    recipient, data = activity
    assert recipient == asker.id
    assert data["mentions"] == [friend.id]
    assert data["quoted"] == [asker.id]
    assert data["reply_to_member_id"] == asker.id
    assert data["topic_id"] == topic.id
    assert data["category_id"] == category.id

    listing = (await client.get("/api/v1/topics")).json()["items"][0]
    assert listing["reply_count"] == 1
    assert listing["last_poster"]["id"] == replier.id

    wrong = await client.send_json(
        "POST", f"/api/v1/topics/{topic.id}/posts", {"body": "x", "reply_to_post_id": 999999}
    )
    assert wrong.status_code == 422
    assert wrong.json()["error"]["field"] == "reply_to_post_id"


async def test_edit_keeps_history_for_author_and_staff_only(
    client, make_client, member_factory, login, forum
):
    category = await forum.category()
    author = await member_factory()
    other = await member_factory()
    mod = await member_factory(role="moderator")
    topic = await forum.topic(author, category, title="Original title", body="First words")
    post_id = (await forum.rows(select(Post.id).where(Post.topic_id == topic.id)))[0][0]
    await login(client, author)

    response = await client.submit(
        f"/p/{post_id}/edit", {"title": "Better title", "body": "Second words", "tags": "news"}
    )
    assert response.status_code == 303
    page = await client.get(f"/t/{topic.id}")
    assert "Better title" in page.text
    assert "Second words" in page.text
    history = await client.get(f"/p/{post_id}/revisions")
    assert history.status_code == 200
    assert "First words" in history.text
    assert "Original title" in history.text
    api = await client.get(f"/api/v1/posts/{post_id}/revisions")
    assert [r["source"] for r in api.json()] == ["First words"]

    stranger = make_client()
    await login(stranger, other)
    assert (await stranger.get(f"/p/{post_id}/revisions")).status_code == 404
    denied = await stranger.send_json("PATCH", f"/api/v1/posts/{post_id}", {"body": "hijack"})
    assert denied.status_code == 403
    staff = make_client()
    await login(staff, mod)
    assert (await staff.get(f"/p/{post_id}/revisions")).status_code == 200
    source = (await staff.get(f"/api/v1/posts/{post_id}")).json()["source"]
    assert source == "Second words"
    assert (await stranger.get(f"/api/v1/posts/{post_id}")).json()["source"] is None


async def test_author_deletes_a_reply_softly(client, member_factory, login, forum):
    category = await forum.category()
    author = await member_factory()
    replier = await member_factory()
    topic = await forum.topic(author, category)
    post = await forum.reply(replier, topic, body="Regrettable words")
    await login(client, replier)

    response = await client.submit(f"/p/{post.id}/delete", {"reason": "typo"})
    assert response.status_code == 303
    page = await client.get(f"/t/{topic.id}")
    assert "Regrettable words" not in page.text
    assert "This post was removed." in page.text
    stored = await forum.get(Post, post.id)
    assert stored is not None
    assert stored.deleted_at is not None
    assert (await forum.get(Topic, topic.id)).reply_count == 0
    (row,) = await forum.rows(
        select(Activity.actor_id, Activity.recipient_id, Activity.data).where(
            Activity.verb == verbs.POST_REMOVED
        )
    )
    assert row[0] == replier.id
    assert row[1] == replier.id
    assert row[2] == {"topic_id": topic.id, "reason": "typo", "by_staff": False}
    edit = await client.send_json("PATCH", f"/api/v1/posts/{post.id}", {"body": "again"})
    assert edit.status_code == 409


async def test_moderator_pins_locks_removes_and_restores(client, member_factory, login, forum):
    category = await forum.category(slug="news")
    author = await member_factory()
    mod = await member_factory(role="moderator")
    older = await forum.topic(author, category, title="Older topic")
    await forum.topic(author, category, title="Newer topic")
    reply = await forum.reply(author, older, body="Off-topic reply")
    await login(client, mod)

    assert (await client.submit(f"/t/{older.id}/moderate", {"pinned": "true"})).status_code == 303
    page = (await client.get("/c/news")).text
    assert page.index("Older topic") < page.index("Newer topic")
    patch = await client.send_json("PATCH", f"/api/v1/topics/{older.id}", {"locked": True})
    assert patch.json()["locked"] is True

    removed = await client.send_json("DELETE", f"/api/v1/posts/{reply.id}?reason=spam")
    assert removed.status_code == 204
    assert (await client.get(f"/api/v1/posts/{reply.id}")).json()["deleted"] is True
    (data,) = await forum.rows(select(Activity.data).where(Activity.verb == verbs.POST_REMOVED))
    assert data[0]["by_staff"] is True
    restored = await client.send_json("POST", f"/api/v1/posts/{reply.id}/restore")
    assert restored.json()["deleted"] is False
    assert await forum.count(Activity, Activity.verb == verbs.POST_RESTORED) == 1
    assert (await forum.get(Topic, older.id)).reply_count == 1


async def test_topic_lists_page_with_keyset_cursors_and_sort(client, member_factory, forum):
    category = await forum.category(slug="busy")
    author = await member_factory()
    for number in range(35):
        await forum.topic(author, category, title=f"Topic number {number:02d}")

    first = (await client.get("/api/v1/topics?sort=newest")).json()
    assert len(first["items"]) == 30
    assert first["items"][0]["title"] == "Topic number 34"
    second = (await client.get(f"/api/v1/topics?sort=newest&cursor={first['next_cursor']}")).json()
    assert [t["title"] for t in second["items"]] == [
        f"Topic number {n:02d}" for n in range(4, -1, -1)
    ]
    assert second["next_cursor"] is None

    page = await client.get("/c/busy")
    match = re.search(r'hx-get="(/c/busy\?cursor=[^"]+)"', page.text)
    assert match
    more = await client.get(match.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"})
    assert more.status_code == 200
    assert "<html" not in more.text
    assert more.text.count('class="topic-row') == 5

    # The tabs and the next page keep what was chosen and leave the defaults out of the links.
    top = (await client.get("/c/busy?sort=top&period=week")).text
    links = re.findall(r'href="(/c/busy[^"]*)"', top)
    assert {"/c/busy", "/c/busy?sort=newest", "/c/busy?sort=top&amp;period=week"} <= set(links)
    assert "/c/busy?sort=top&amp;period=month" in links
    assert "/c/busy?sort=top" in links  # all time
    assert re.search(r'hx-get="/c/busy\?sort=top&amp;period=week&amp;cursor=[^"]+"', top)

    bad = await client.get("/api/v1/topics?cursor=nonsense")
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "cursor"

    # A like count in a cursor is a 32-bit column on PostgreSQL and an id is 64 bits: a forged
    # cursor beyond either is an invalid link on both databases, in the API and the page.
    for cursor in ("9999999999.1", "1.99999999999999999999999", "-2147483649.1"):
        forged = await client.get(f"/api/v1/topics?sort=top&cursor={cursor}")
        assert forged.status_code == 422, cursor
        assert forged.json()["error"]["field"] == "cursor"
        page = await client.get(f"/c/busy?sort=top&cursor={cursor}")
        assert page.status_code == 422, cursor
        assert "This page link is not valid" in page.text


async def test_most_liked_in_a_period(client, member_factory, login, forum):
    category = await forum.category()
    author = await member_factory()
    fans = [await member_factory() for _ in range(2)]
    quiet = await forum.topic(author, category, title="Quiet topic")
    loved = await forum.topic(author, category, title="Loved topic")
    post_id = (await forum.rows(select(Post.id).where(Post.topic_id == loved.id)))[0][0]
    for fan in fans:
        await login(client, fan)
        assert (await client.send_json("PUT", f"/api/v1/posts/{post_id}/like")).status_code == 200
    top = (await client.get("/api/v1/topics?sort=top&period=week")).json()["items"]
    assert [t["title"] for t in top] == ["Loved topic", "Quiet topic"]
    assert top[0]["like_count"] == 2
    assert quiet.id == top[1]["id"]


async def test_bad_removal_reason_is_a_field_error_not_a_crash(
    client, forum, member_factory, login
):
    author = await member_factory()
    topic = await forum.topic(author, await forum.category())
    post = await forum.reply(author, topic)
    await login(client, author)
    response = await client.send_json("DELETE", f"/api/v1/posts/{post.id}?reason=bad%00reason")
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "reason"
    assert "control or invisible" in response.json()["error"]["message"]
    assert (await client.get(f"/api/v1/posts/{post.id}")).status_code == 200


async def test_topic_page_lists_its_tags_in_name_order(client, member_factory, forum):
    """The topic page reads its tags with the topic (one aggregated column) and shows them
    sorted by name, as the tag list has always been; a topic without tags shows none."""
    category = await forum.category()
    author = await member_factory()
    tagged = await forum.topic(author, category, tags=["zoom", "lens", "写真", "camera-bag"])
    bare = await forum.topic(author, category, title="No tags here")

    page = await client.get(f"/t/{tagged.id}")
    assert page.status_code == 200
    shown = re.findall(r'class="tag" href="/tags/[^"]+">#([^<]+)<', page.text)
    assert shown == sorted(["zoom", "lens", "写真", "camera-bag"])
    plain = await client.get(f"/t/{bare.id}")
    assert 'class="tag"' not in plain.text


async def test_a_topic_address_that_is_not_an_id_is_a_missing_page(client, forum):
    for path in ("/t/abc", "/t/-1", "/t/1.5", "/t/%D9%A3", "/t/99999999999999999999999"):
        page = await client.get(path, headers={"Accept": "text/html"})
        assert page.status_code == 404, path
        assert "text/html" in page.headers["content-type"]
