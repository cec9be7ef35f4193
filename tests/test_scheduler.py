"""Time-driven work: a scheduled campaign opens and closes by itself, a survey made ahead is
announced on its day, once, however many processes tick at the same moment."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select, update

from app.kit import clock
from app.models import Campaign, Notification, NpsSurvey, Role
from app.scheduler import tick
from tests.campaigns.helpers import campaign_payload


async def _notices(database, member) -> list[str]:
    async with database.transaction(write=False) as session:
        rows = await session.execute(
            select(Notification.kind).where(Notification.member_id == member.id)
        )
        return list(rows.scalars())


async def _state(database, campaign_id: int) -> str:
    async with database.transaction(write=False) as session:
        return str(await session.scalar(select(Campaign.state).where(Campaign.id == campaign_id)))


async def test_a_scheduled_campaign_opens_and_closes_with_no_visitor(
    client, database, member_factory, login
):
    operator = await member_factory(role=Role.operator, locale="en")
    fans = [await member_factory(locale="en") for _ in range(3)]
    await login(client, operator)
    now = clock.now()
    created = await client.send_json(
        "POST",
        "/api/v1/campaigns",
        campaign_payload(
            starts_at=(now + timedelta(days=1)).isoformat(),
            ends_at=(now + timedelta(days=8)).isoformat(),
        ),
    )
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    scheduled = await client.send_json("POST", f"/api/v1/campaigns/{campaign_id}/schedule")
    assert scheduled.status_code == 200, scheduled.text
    assert scheduled.json()["state"] == "scheduled"

    # Nothing is due yet: a tick changes nothing and tells nobody.
    assert (await tick(database)).campaigns_moved == 0
    assert await _notices(database, fans[0]) == []

    # Its start comes. Two processes tick at the same moment: it opens once, each fan hears once.
    async with database.transaction() as session:
        await session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id)
            .values(starts_at=clock.now() - timedelta(minutes=1))
        )
    results = await asyncio.gather(tick(database), tick(database))
    assert sum(result.campaigns_moved for result in results) == 1
    assert await _state(database, campaign_id) == "open"
    for fan in fans:
        assert await _notices(database, fan) == ["campaign"]

    # Its end comes: the next tick closes it.
    async with database.transaction() as session:
        await session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id)
            .values(ends_at=clock.now() - timedelta(minutes=1))
        )
    assert (await tick(database)).campaigns_moved == 1
    assert await _state(database, campaign_id) == "closed"


async def test_a_survey_made_ahead_is_announced_by_the_tick_once(
    client, database, member_factory, login
):
    operator = await member_factory(role=Role.operator)
    fan = await member_factory(locale="en")
    await login(client, operator)
    tomorrow = clock.community_day() + timedelta(days=1)
    created = await client.send_json(
        "POST",
        "/api/v1/ops/surveys",
        {
            "title": "Autumn survey",
            "subject": "Kizuna Coffee",
            "reason_question": "Why?",
            "audience": "everyone",
            "opens_on": tomorrow.isoformat(),
            "closes_on": (tomorrow + timedelta(days=7)).isoformat(),
        },
    )
    assert created.status_code == 201, created.text
    assert (await tick(database)).surveys_announced == 0
    assert await _notices(database, fan) == []

    async with database.transaction() as session:
        await session.execute(
            update(NpsSurvey)
            .where(NpsSurvey.id == created.json()["id"])
            .values(opens_at=clock.now() - timedelta(minutes=1))
        )
    results = await asyncio.gather(tick(database), tick(database))
    assert sum(result.surveys_announced for result in results) == 1
    assert await _notices(database, fan) == ["survey"]
    assert (await tick(database)).surveys_announced == 0
