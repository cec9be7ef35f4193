"""The community-wide rollup rows are written at commit, in one order, so two transactions that
reach them in opposite orders both succeed (on PostgreSQL they used to deadlock: an answer
switched by one asker against a first accept by another, on a new community day)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from app.activity import verbs
from app.activity.service import record
from app.db import Database
from app.kit import clock
from app.models import AnalyticsActive, AnalyticsDaily


async def _blocked_backends(database: Database) -> int:
    async with database.transaction(write=False) as session:
        return int(
            await session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            or 0
        )


async def test_crossing_first_activities_of_a_day_both_commit(database: Database, member_factory):
    if database.is_sqlite:
        pytest.skip("SQLite writes one transaction at a time: nothing can cross")
    asker = await member_factory(locale="en")
    other_asker = await member_factory(locale="en")
    # Each asker's own answerer: the two transactions share no member (whose row lock would
    # make them take turns from the start).
    answerers = {asker.id: await member_factory(locale="en")}
    answerers[other_asker.id] = await member_factory(locale="en")
    # A day nobody has been active on yet: each member's activity is their first of it.
    moment = clock.now() + timedelta(days=3)
    day = clock.community_day(moment)

    def by(actor: int) -> dict[str, object]:
        return {
            "actor_id": actor,
            "recipient_id": answerers[actor].id,
            "subject": ("post", actor),
            "data": {"topic_id": 1},
            "occurred_at": moment,
        }

    first, second = database.session(write=True), database.session(write=True)
    try:
        # The switch begins: the day's "unaccepted", and the asker's first activity of the day.
        await record(first, verbs.ANSWER_UNACCEPTED, **by(asker.id))

        async def first_accept() -> None:
            await record(second, verbs.ANSWER_ACCEPTED, **by(other_asker.id))
            await second.commit()

        accepting = asyncio.create_task(first_accept())
        # Give the other transaction every chance to take (or queue for) the rows it needs.
        for _ in range(200):
            if accepting.done() or await _blocked_backends(database):
                break
            await asyncio.sleep(0.01)
        # The switch ends: the day's "accepted".
        await record(first, verbs.ANSWER_ACCEPTED, **by(asker.id))
        await first.commit()
        await accepting
    finally:
        await first.close()
        await second.close()

    async with database.transaction(write=False) as session:
        counts = dict(
            (
                await session.execute(
                    select(AnalyticsDaily.verb, AnalyticsDaily.count).where(
                        AnalyticsDaily.day == day
                    )
                )
            ).all()
        )
        active = await session.scalar(
            select(AnalyticsActive.members).where(AnalyticsActive.day == day)
        )
    assert counts == {verbs.ANSWER_UNACCEPTED: 1, verbs.ANSWER_ACCEPTED: 2}
    # Both askers were active that day (the answerers only received).
    assert active == 2
