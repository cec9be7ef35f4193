"""Hidden content: gone for members (pages, API, lists), shown to staff with a banner; and
silenced members cannot post, like or vote."""

from __future__ import annotations

from app.models import Role


async def _hide(mod, post_id, reason="Off-topic rant"):
    response = await mod.send_json(
        "POST", f"/api/v1/mod/posts/{post_id}/actions", {"action": "hide", "reason": reason}
    )
    assert response.status_code == 200


async def test_hidden_reply_is_invisible_to_members_and_bannered_for_staff(
    member_factory, staff, forum, client
):
    author = await member_factory()
    topic = await forum.topic(author, await forum.category(), title="Visible topic")
    reply = await forum.reply(author, topic, body="A hidden remark")
    mod, _ = await staff(Role.moderator)
    await _hide(mod, reply.id)
    member_client, _ = await staff(Role.member)
    for http in (member_client, client):
        api = (await http.get(f"/api/v1/topics/{topic.id}")).json()
        assert reply.id not in [p["id"] for p in api["posts"]]
        assert "A hidden remark" not in (await http.get(f"/t/{topic.id}")).text
        assert (await http.get(f"/api/v1/posts/{reply.id}")).status_code == 404
    page = await mod.get(f"/t/{topic.id}")
    assert "A hidden remark" in page.text
    assert "Hidden from members: Off-topic rant" in page.text


async def test_hidden_opening_post_hides_the_topic_from_lists(member_factory, staff, forum):
    author = await member_factory()
    category = await forum.category()
    topic = await forum.topic(author, category, title="Spammy topic title")
    mod, _ = await staff(Role.moderator)
    opening = (await mod.get(f"/api/v1/topics/{topic.id}")).json()["posts"][0]["id"]
    await _hide(mod, opening, reason="Spam")
    member_client, _ = await staff(Role.member)
    listed = (await member_client.get("/api/v1/topics")).json()
    assert topic.id not in [t["id"] for t in listed["items"]]
    assert (await member_client.get(f"/api/v1/topics/{topic.id}")).status_code == 404
    staff_list = (await mod.get("/api/v1/topics")).json()
    assert topic.id in [t["id"] for t in staff_list["items"]]
    assert "hidden from members" in (await mod.get(f"/t/{topic.id}")).text


async def test_silenced_member_cannot_post_like_or_vote(member_factory, staff, forum):
    author = await member_factory()
    topic = await forum.topic(author, await forum.category())
    question = await forum.topic(
        author, await forum.category(kind="question"), title="How do I brew tea?"
    )
    member_client, member = await staff(Role.member)
    mod, _ = await staff(Role.moderator)
    await mod.send_json(
        "POST", f"/api/v1/mod/members/{member.id}/silence", {"hours": 24, "reason": "Spam"}
    )
    post_id = (await member_client.get(f"/api/v1/topics/{topic.id}")).json()["posts"][0]["id"]
    question_post = (await member_client.get(f"/api/v1/topics/{question.id}")).json()["posts"][0]
    attempts = [
        await member_client.send_json(
            "POST", f"/api/v1/topics/{topic.id}/posts", {"body": "Let me in"}
        ),
        await member_client.send_json(
            "POST",
            "/api/v1/topics",
            {"category_id": topic.category_id, "title": "New thing", "body": "Hello"},
        ),
        await member_client.send_json("PUT", f"/api/v1/posts/{post_id}/like"),
        await member_client.send_json(
            "PUT", f"/api/v1/posts/{question_post['id']}/vote", {"value": 1}
        ),
    ]
    for response in attempts:
        assert response.status_code == 403, response.text
        assert response.json()["error"]["message"].startswith("You are silenced until")
