"""Q&A: votes, accepted answers, answer order, list filters."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.activity import verbs
from app.models import Activity, Post, Topic


async def _question(forum, member_factory):
    category = await forum.category(kind="question", slug="help")
    asker = await member_factory(name="Asker")
    question = await forum.topic(asker, category, title="How do I pair the device?")
    return category, asker, question


async def test_votes_change_and_not_on_own_posts(client, member_factory, login, forum):
    _category, asker, question = await _question(forum, member_factory)
    helper = await member_factory(name="Helper")
    answer = await forum.reply(helper, question, body="Hold the button for five seconds.")
    voter = await member_factory()
    await login(client, voter)

    up = await client.send_json("PUT", f"/api/v1/posts/{answer.id}/vote", {"value": 1})
    assert up.json() == {"post_id": answer.id, "my_vote": 1, "score": 1}
    down = await client.send_json("PUT", f"/api/v1/posts/{answer.id}/vote", {"value": -1})
    assert down.json()["score"] == -1
    back = await client.send_json("PUT", f"/api/v1/posts/{answer.id}/vote", {"value": 0})
    assert back.json()["score"] == 0
    bad = await client.send_json("PUT", f"/api/v1/posts/{answer.id}/vote", {"value": 5})
    assert bad.status_code == 422
    first = (await forum.rows(select(Post.id).where(Post.number == 1)))[0][0]
    await client.send_json("PUT", f"/api/v1/posts/{first}/vote", {"value": 1})
    assert (await forum.get(Topic, question.id)).score == 1

    casts = await forum.rows(
        select(Activity.recipient_id, Activity.data)
        .where(Activity.verb == verbs.VOTE_CAST)
        .order_by(Activity.id)
    )
    assert [(r, d["value"], d["previous"]) for r, d in casts] == [
        (helper.id, 1, 0),
        (helper.id, -1, 1),
        (helper.id, 0, -1),
        (asker.id, 1, 0),
    ]

    await login(client, helper)
    own = await client.send_json("PUT", f"/api/v1/posts/{answer.id}/vote", {"value": 1})
    assert own.status_code == 403
    form = await client.post(
        f"/p/{answer.id}/vote",
        data={"value": "1", "csrf_token": await client.csrf_token()},
    )
    assert form.status_code == 403


async def test_asker_accepts_and_changes_answer_then_order_and_filters(
    client, make_client, member_factory, login, forum
):
    category, asker, question = await _question(forum, member_factory)
    unanswered = await forum.topic(asker, category, title="Nobody answered this yet")
    helpers = [await member_factory(name=f"Helper {n}") for n in range(3)]
    answers = [
        await forum.reply(helper, question, body=f"Answer from helper {n}")
        for n, helper in enumerate(helpers)
    ]
    voters = [await member_factory() for _ in range(2)]
    for voter in voters:
        browser = make_client()
        await login(browser, voter)
        await browser.send_json("PUT", f"/api/v1/posts/{answers[2].id}/vote", {"value": 1})

    stranger = make_client()
    await login(stranger, helpers[0])
    denied = await stranger.send_json("PUT", f"/api/v1/posts/{answers[0].id}/accept")
    assert denied.status_code == 403

    await login(client, asker)
    first = (
        await forum.rows(select(Post.id).where(Post.topic_id == question.id, Post.number == 1))
    )[0][0]
    assert (await client.send_json("PUT", f"/api/v1/posts/{first}/accept")).status_code == 409
    accepted = await client.send_json("PUT", f"/api/v1/posts/{answers[0].id}/accept")
    assert accepted.json() == {"topic_id": question.id, "accepted_post_id": answers[0].id}

    page = await client.get(f"/t/{question.id}")
    order = [int(i) for i in re.findall(r'id="post-(\d+)"', page.text)]
    assert order == [first, answers[0].id, answers[2].id, answers[1].id]
    assert "Accepted answer" in page.text

    changed = await client.post(
        f"/p/{answers[1].id}/accept", data={"csrf_token": await client.csrf_token()}
    )
    assert changed.status_code == 303
    assert (await forum.get(Topic, question.id)).accepted_post_id == answers[1].id
    log = await forum.rows(
        select(Activity.verb, Activity.recipient_id, Activity.data)
        .where(Activity.verb.in_([verbs.ANSWER_ACCEPTED, verbs.ANSWER_UNACCEPTED]))
        .order_by(Activity.id)
    )
    assert [(v, r) for v, r, _d in log] == [
        (verbs.ANSWER_ACCEPTED, helpers[0].id),
        (verbs.ANSWER_UNACCEPTED, helpers[0].id),
        (verbs.ANSWER_ACCEPTED, helpers[1].id),
    ]
    assert log[0][2] == {"topic_id": question.id, "asker_id": asker.id}
    answered = await forum.rows(select(Activity.verb).where(Activity.verb == verbs.ANSWER_CREATED))
    assert len(answered) == 3

    solved = (await client.get("/api/v1/topics?category=help&status=solved")).json()["items"]
    assert [t["id"] for t in solved] == [question.id]
    assert solved[0]["solved"] is True
    assert solved[0]["reply_count"] == 3
    unsolved = (await client.get("/api/v1/topics?category=help&status=unsolved")).json()["items"]
    assert [t["id"] for t in unsolved] == [unanswered.id]
    none_yet = await client.get("/c/help?status=unanswered")
    assert "Nobody answered this yet" in none_yet.text
    assert "How do I pair the device?" not in none_yet.text

    mod = make_client()
    await login(mod, await member_factory(role="moderator"))
    undo = await mod.send_json("DELETE", f"/api/v1/posts/{answers[1].id}/accept")
    assert undo.json()["accepted_post_id"] is None


async def test_votes_only_in_questions(client, member_factory, login, forum):
    category = await forum.category()
    author = await member_factory()
    topic = await forum.topic(author, category)
    post = await forum.reply(author, topic)
    await login(client, await member_factory())
    response = await client.send_json("PUT", f"/api/v1/posts/{post.id}/vote", {"value": 1})
    assert response.status_code == 409
