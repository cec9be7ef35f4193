"""Posting limits (429 with Retry-After), the watched-word list (Japanese too), approvals."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Post, Role
from app.moderation.words import Rule, normalize, screen


async def _settings(http, **values):
    response = await http.send_json("PATCH", "/api/v1/admin/moderation/settings", values)
    assert response.status_code == 200, response.text
    return response.json()


async def _topic(http, category_id, title="Hello there", body="First words"):
    return await http.send_json(
        "POST", "/api/v1/topics", {"category_id": category_id, "title": title, "body": body}
    )


async def _reply(http, topic_id, body):
    return await http.send_json("POST", f"/api/v1/topics/{topic_id}/posts", {"body": body})


async def test_new_members_wait_longer_between_posts(staff, forum, member_factory):
    admin, _ = await staff(Role.admin)
    await _settings(
        admin, post_interval_seconds=5, new_member_post_interval_seconds=30, new_member_days=3
    )
    category = await forum.category()
    newbie, _ = await staff(Role.member)
    first = await _topic(newbie, category.id)
    assert first.status_code == 201
    refused = await _reply(newbie, first.json()["topic"]["id"], "Too soon")
    assert refused.status_code == 429
    assert 25 <= int(refused.headers["Retry-After"]) <= 30
    assert "Try again in" in refused.json()["error"]["message"]
    # Staff are never limited.
    mod, _ = await staff(Role.moderator)
    assert (await _topic(mod, category.id)).status_code == 201
    assert (await _reply(mod, first.json()["topic"]["id"], "Quick reply")).status_code == 201


async def test_topics_per_day_and_links_for_new_members(staff, forum):
    admin, _ = await staff(Role.admin)
    await _settings(admin, new_member_topics_per_day=1, new_member_max_links=1)
    category = await forum.category()
    newbie, _ = await staff(Role.member)
    links = await _topic(newbie, category.id, body="See https://a.example and https://b.example")
    assert links.status_code == 422
    assert links.json()["error"]["field"] == "body"
    assert "at most 1 link" in links.json()["error"]["message"]
    assert (await _topic(newbie, category.id, body="One https://a.example")).status_code == 201
    second = await _topic(newbie, category.id, title="Another one")
    assert second.status_code == 429
    assert int(second.headers["Retry-After"]) > 3600


def test_matching_ignores_width_and_case_and_respects_english_words():
    rules = [
        Rule("バカ", normalize("バカ"), "replace", ""),
        Rule("spam", normalize("spam"), "replace", "***"),
        Rule("ガス", normalize("ガス"), "replace", "〇〇"),
    ]
    text, action = screen("お前はﾊﾞｶだ、ばか、SPAM と ＳＰＡＭ、spammer、ｶﾞｽ漏れ", rules)
    assert action == "replace"
    assert text == "お前は■■■だ、ばか、*** と ***、spammer、〇〇漏れ"
    assert screen("nothing here", rules) == ("nothing here", None)


async def test_word_list_blocks_holds_and_replaces_japanese(database, staff, forum):
    admin, _ = await staff(Role.admin)
    for pattern, action, replacement in (
        ("死ね", "block", ""),
        ("副業", "hold", ""),
        ("ばか", "replace", "＊＊"),
    ):
        added = await admin.send_json(
            "POST",
            "/api/v1/admin/words",
            {"pattern": pattern, "action": action, "replacement": replacement},
        )
        assert added.status_code == 201
    duplicate = await admin.send_json(
        "POST", "/api/v1/admin/words", {"pattern": "バカ", "action": "block"}
    )
    assert duplicate.status_code == 201  # katakana and hiragana are different words
    category = await forum.category()
    writer, _writer_member = await staff(Role.member)
    blocked = await _topic(writer, category.id, title="質問があります", body="もう死ねばいいのに")
    assert blocked.status_code == 422
    assert blocked.json()["error"]["field"] == "body"
    assert "死ね" in blocked.json()["error"]["message"]
    blocked_title = await _topic(writer, category.id, title="ﾊﾞｶな話をしよう", body="普通の本文")
    assert blocked_title.status_code == 422
    assert blocked_title.json()["error"]["field"] == "title"

    replaced = await _topic(
        writer, category.id, title="雑談スレッドです", body="ＢＡＫＡじゃなくて、ばかだね"
    )
    assert replaced.status_code == 201
    assert replaced.json()["posts"][0]["cooked"].count("＊＊") == 1

    held = await _topic(writer, category.id, title="おすすめの話題", body="簡単な副業で稼げます")
    assert held.status_code == 201
    held_id = held.json()["topic"]["id"]
    reader, _ = await staff(Role.member)
    assert (await reader.get(f"/api/v1/topics/{held_id}")).status_code == 404
    assert (await writer.get(f"/api/v1/topics/{held_id}")).status_code == 200
    mod, _ = await staff(Role.moderator)
    queue = (await mod.get("/api/v1/mod/queue")).json()["items"]
    assert [(item["topic_id"], item["awaiting_approval"]) for item in queue] == [(held_id, True)]
    approved = await mod.send_json(
        "POST", f"/api/v1/mod/posts/{queue[0]['post_id']}/actions", {"action": "approve"}
    )
    assert approved.status_code == 200
    assert approved.json()["awaiting_approval"] is False
    assert (await reader.get(f"/api/v1/topics/{held_id}")).status_code == 200
    # A held reply answers its author with the post as they see it; nobody else sees it yet.
    held_reply = await _reply(writer, held_id, "副業の話です")
    assert held_reply.status_code == 201
    reply = held_reply.json()
    assert (reply["topic_id"], reply["number"], reply["source"]) == (held_id, 2, "副業の話です")
    assert "副業の話です" in reply["cooked"]
    assert (await reader.get(f"/api/v1/posts/{reply['id']}")).status_code == 404
    assert (await writer.get(f"/api/v1/posts/{reply['id']}")).json()["id"] == reply["id"]
    words = (await admin.get("/api/v1/admin/words")).json()
    assert [w["pattern"] for w in words] == ["死ね", "副業", "ばか", "バカ"]
    removed = await admin.send_json("DELETE", f"/api/v1/admin/words/{words[0]['id']}")
    assert removed.status_code == 204
    assert (await _topic(writer, category.id, title="Fine again", body="死ね")).status_code == 201


async def test_first_posts_wait_for_approval(database, staff, forum, member_factory):
    admin, _ = await staff(Role.admin)
    await _settings(admin, approve_first_posts=1)
    author = await member_factory()
    category = await forum.category()
    topic = await forum.topic(author, category)  # held: the author's first post
    reply = await forum.reply(author, topic, body="Held too: nothing approved yet")
    reader, _ = await staff(Role.member)
    assert (await reader.get(f"/api/v1/topics/{topic.id}")).status_code == 404
    mod, _ = await staff(Role.moderator)
    first_post = (await mod.get("/api/v1/mod/queue")).json()["items"][0]["post_id"]
    await mod.send_json("POST", f"/api/v1/mod/posts/{first_post}/actions", {"action": "approve"})
    shown = (await reader.get(f"/api/v1/topics/{topic.id}")).json()
    assert [p["id"] for p in shown["posts"]] == [first_post]
    rejected = await mod.send_json(
        "POST", f"/api/v1/mod/posts/{reply.id}/actions", {"action": "reject", "reason": "Spam"}
    )
    assert rejected.json()["deleted"] is True
    third = await forum.reply(author, topic, body="Now trusted")
    async with database.transaction(write=False) as session:
        post = await session.get(Post, third.id)
        assert post is not None
        assert post.needs_approval is False
        assert (await session.execute(select(Post.id))).all()


async def test_settings_form_and_word_form_validate(staff):
    admin, _ = await staff(Role.admin)
    page = await admin.get("/admin/moderation")
    assert page.status_code == 200
    assert "Watched words" in page.text
    bad = await admin.submit("/admin/moderation", {"flag_threshold": "zero"})
    assert bad.status_code == 422
    wrong = await admin.send_json(
        "PATCH", "/api/v1/admin/moderation/settings", {"flag_threshold": 0}
    )
    assert wrong.status_code == 422
    assert wrong.json()["error"]["field"] == "body.flag_threshold"
    added = await admin.submit("/admin/words", {"pattern": "ｽﾊﾟﾑ", "action": "hold"})
    assert added.status_code == 303
    assert "ｽﾊﾟﾑ" in (await admin.get("/admin/moderation")).text
