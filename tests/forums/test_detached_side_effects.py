"""A request's score refresh runs after it, not in it (app/db.py ``after_commit(detached=True)``):
the answer and the connection are free at once, even while the refresh waits for its turn
among the writers, and the refresh still lands."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import select

from app.analytics import service as analytics
from app.db import settle_detached
from app.models import AnalyticsMemberScore
from tests.factories import sign_in_as


async def test_a_like_answers_before_its_score_refresh_runs(
    app, member_factory, forum, database, monkeypatch
):
    category = await forum.category()
    author = await member_factory(name="Aiko")
    fan = await member_factory(name="Ben")
    topic = await forum.topic(author, category, body="Worth a like.")
    await settle_detached()
    refresh_pending = analytics.refresh_pending
    go_on = asyncio.Event()

    async def held_refresh(database_: object) -> int:
        await go_on.wait()  # as if other writers held the lock for a long time
        return await refresh_pending(database_)

    # A plain client: the tests' Client waits for the side effects after each request.
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as browser:
        await sign_in_as(database, browser, fan)
        token = (await browser.get("/")).text.split('name="csrf-token" content="')[1].split('"')[0]
        post_id = (await browser.get(f"/api/v1/topics/{topic.id}")).json()["posts"][0]["id"]
        await settle_detached()
        monkeypatch.setattr(analytics, "refresh_pending", held_refresh)
        liked = await asyncio.wait_for(
            browser.put(f"/api/v1/posts/{post_id}/like", headers={"X-CSRF-Token": token}), 10
        )
    assert liked.status_code == 200
    assert liked.json()["like_count"] == 1
    assert (await _score(database, author.id)).dirty  # the refresh has not run yet

    go_on.set()
    await settle_detached()
    refreshed = await _score(database, author.id)
    assert not refreshed.dirty
    assert refreshed.reach == 1  # Ben's like reached Aiko


async def _score(database, member_id: int) -> AnalyticsMemberScore:
    async with database.transaction(write=False) as session:
        return (
            await session.execute(
                select(AnalyticsMemberScore).where(AnalyticsMemberScore.member_id == member_id)
            )
        ).scalar_one()
