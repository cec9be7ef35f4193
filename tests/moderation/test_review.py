"""The review queue and its actions: each tells the author, settles flags, and moves points."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Flag, Notification, Post, Role
from tests.moderation.conftest import activities, audit_actions, fresh


async def _flagged(database, member_factory, staff, forum, flags=1):
    author = await member_factory(name="Author", locale="en")
    topic = await forum.topic(author, await forum.category(), title="Tea and cakes")
    reply = await forum.reply(author, topic, body="Some rude words here")
    flaggers = []
    for _ in range(flags):
        http, member = await staff(Role.member)
        response = await http.send_json(
            "POST", f"/api/v1/posts/{reply.id}/flags", {"reason": "inappropriate"}
        )
        assert response.status_code == 201
        flaggers.append((http, member))
    return author, topic, reply, flaggers


async def _act(http, post_id, action, reason="Rule 3: be kind", **extra):
    return await http.send_json(
        "POST",
        f"/api/v1/mod/posts/{post_id}/actions",
        {"action": action, "reason": reason, **extra},
    )


async def _notes(database, member_id):
    async with database.transaction(write=False) as session:
        rows = await session.execute(
            select(Notification).where(Notification.member_id == member_id)
        )
        return [(n.kind, n.data.get("reason", "")) for n in rows.scalars()]


async def test_queue_groups_flags_per_post_with_author_history(
    database, member_factory, staff, forum
):
    author, _topic, reply, _flaggers = await _flagged(database, member_factory, staff, forum, 2)
    mod, _ = await staff(Role.moderator)
    queue = (await mod.get("/api/v1/mod/queue")).json()
    assert [item["post_id"] for item in queue["items"]] == [reply.id]
    item = queue["items"][0]
    assert len(item["flags"]) == 2
    assert {f["reason"] for f in item["flags"]} == {"inappropriate"}
    assert item["author"]["id"] == author.id
    assert item["history"]["posts"] == 2
    page = await mod.get("/mod")
    assert page.status_code == 200
    assert "Some rude words here" in page.text
    assert "Inappropriate" in page.text


async def test_keep_rejects_flags_restores_and_tells_everyone(
    database, member_factory, staff, forum
):
    author, _topic, reply, flaggers = await _flagged(database, member_factory, staff, forum, 3)
    points_hidden = (await fresh(database, author)).lifetime_points
    mod, _ = await staff(Role.moderator)
    response = await _act(mod, reply.id, "keep", reason="Nothing wrong here")
    assert response.status_code == 200
    assert response.json()["hidden"] is False
    assert (await fresh(database, author)).lifetime_points == points_hidden + 2
    resolved = await activities(database, "flag.resolved")
    assert sorted(a.recipient_id for a in resolved) == sorted(m.id for _h, m in flaggers)
    assert {a.data["outcome"] for a in resolved} == {"rejected"}
    assert (await fresh(database, flaggers[0][1])).flags_rejected == 1
    assert await activities(database, "post.restored")
    assert ("flag_resolved", "Nothing wrong here") in await _notes(database, flaggers[0][1].id)
    assert (await mod.get("/api/v1/mod/queue")).json()["items"] == []
    assert await audit_actions(database) == ["post.auto_hidden", "post.kept"]


async def test_hide_accepts_flags_and_reverses_points(database, member_factory, staff, forum):
    author, _topic, reply, flaggers = await _flagged(database, member_factory, staff, forum)
    before = (await fresh(database, author)).lifetime_points
    mod, _ = await staff(Role.moderator)
    response = await _act(mod, reply.id, "hide")
    assert response.json()["hidden"] is True
    assert (await fresh(database, author)).lifetime_points == before - 2
    accepted = await activities(database, "flag.accepted")
    assert [a.actor_id for a in accepted] == [flaggers[0][1].id]
    assert (await fresh(database, flaggers[0][1])).flags_accepted == 1
    assert any(
        kind == "warning" and "Rule 3: be kind" in text
        for kind, text in await _notes(database, author.id)
    )
    async with database.transaction(write=False) as session:
        statuses = [f.status for f in (await session.execute(select(Flag))).scalars()]
    assert statuses == ["accepted"]
    assert await audit_actions(database) == ["post.hidden"]
    # Restoring brings the post and its points back.
    restored = await _act(mod, reply.id, "restore", reason="On second thought")
    assert restored.json()["hidden"] is False
    assert (await fresh(database, author)).lifetime_points == before
    assert await audit_actions(database) == ["post.hidden", "post.restored"]


async def test_delete_and_edit_need_a_reason_and_tell_the_author(
    database, member_factory, staff, forum
):
    author, _topic, reply, _flaggers = await _flagged(database, member_factory, staff, forum)
    mod, _ = await staff(Role.moderator)
    blank = await _act(mod, reply.id, "delete", reason=" ")
    assert blank.status_code == 422
    assert blank.json()["error"]["field"] == "reason"
    edited = await _act(mod, reply.id, "edit", reason="Removed a link", body="Some kind words")
    assert edited.status_code == 200
    async with database.transaction(write=False) as session:
        post = await session.get(Post, reply.id)
        assert post is not None
        assert post.source == "Some kind words"
    deleted = await _act(mod, reply.id, "delete", reason="Spam after all")
    assert deleted.json()["deleted"] is True
    notes = [text for _kind, text in await _notes(database, author.id)]
    assert any("edited your post" in text for text in notes)
    assert any("deleted your post" in text and "Spam after all" in text for text in notes)
    assert await audit_actions(database) == ["post.edited", "post.deleted"]
    removed = await activities(database, "post.removed")
    assert len(removed) == 1
    assert removed[0].data["by_staff"] is True


async def test_review_form_works_without_javascript(database, member_factory, staff, forum):
    _author, _topic, reply, _flaggers = await _flagged(database, member_factory, staff, forum)
    mod, _ = await staff(Role.moderator)
    response = await mod.submit(
        f"/mod/posts/{reply.id}?next=/mod", {"action": "hide", "reason": "Off-topic"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/mod"
    page = await mod.get("/mod")
    assert "Nothing to review" in page.text


async def test_the_author_is_told_in_their_own_language(database, member_factory, staff, forum):
    author = await member_factory(locale="ja")
    topic = await forum.topic(author, await forum.category(), title="お茶の話")
    reply = await forum.reply(author, topic, body="宣伝です")
    mod, _ = await staff(Role.moderator)
    response = await _act(mod, reply.id, "hide", reason="宣伝は禁止です")
    assert response.status_code == 200
    texts = [text for _kind, text in await _notes(database, author.id)]
    assert texts == [
        "モデレーターが「お茶の話」でのあなたの投稿を非表示にしました。理由: 宣伝は禁止です"
    ]
