from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.activity import verbs
from app.kit import clock
from app.models import Activity


async def _verbs(database, member_id: int) -> list[str]:
    async with database.transaction(write=False) as session:
        return list(
            (
                await session.execute(
                    select(Activity.verb)
                    .where(Activity.actor_id == member_id)
                    .order_by(Activity.id)
                )
            ).scalars()
        )


async def test_sign_up_and_one_visit_per_day(client, member_factory, login, database, monkeypatch):
    member = await member_factory()
    assert await _verbs(database, member.id) == [verbs.SIGNED_UP]
    await login(client, member)
    for _ in range(3):
        assert (await client.get("/")).status_code == 200
    await client.submit("/settings", {"display_name": "Busy", "handle": member.handle})
    assert await _verbs(database, member.id) == [verbs.SIGNED_UP, verbs.VISITED]

    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: real_now() + timedelta(days=1))
    await client.get("/")
    await client.get("/signin")
    assert await _verbs(database, member.id) == [verbs.SIGNED_UP, verbs.VISITED, verbs.VISITED]
    async with database.transaction(write=False) as session:
        days = (
            (
                await session.execute(
                    select(Activity.day).where(Activity.verb == verbs.VISITED).order_by(Activity.id)
                )
            )
            .scalars()
            .all()
        )
    assert days[1] - days[0] == timedelta(days=1)


async def test_concurrent_first_requests_record_one_visit(
    make_client, member_factory, login, database
):
    import asyncio

    member = await member_factory()
    browsers = [make_client() for _ in range(8)]
    for browser in browsers:
        await login(browser, member)
    await asyncio.gather(*(browser.get("/") for browser in browsers))
    assert (await _verbs(database, member.id)).count(verbs.VISITED) == 1


async def test_a_burst_of_first_visits_does_not_exhaust_the_pool(
    make_client, member_factory, login, database
):
    """More simultaneous first-visits-of-the-day than the pool has connections: each request
    must hold at most one connection at a time, or they all wait on each other."""
    import asyncio

    members = [await member_factory() for _ in range(24)]
    browsers = []
    for member in members:
        browser = make_client()
        await login(browser, member)
        browsers.append(browser)
    responses = await asyncio.wait_for(asyncio.gather(*(b.get("/") for b in browsers)), timeout=25)
    assert [r.status_code for r in responses] == [200] * len(members)
    for member in members:
        assert (await _verbs(database, member.id)).count(verbs.VISITED) == 1
