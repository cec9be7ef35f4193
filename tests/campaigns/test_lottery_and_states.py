"""States, the reproducible lottery, notifications of results, and points for taking part."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.campaigns import lottery
from app.models import Campaign, CampaignEntry, PointRule, Role
from tests.campaigns.helpers import activities, create_campaign, member_row


async def _enter_many(
    make_client: Any, login: Any, member_factory: Any, campaign_id: int, n: int
) -> list[int]:
    ids = []
    for _ in range(n):
        fan_client = make_client()
        fan = await member_factory()
        await login(fan_client, fan)
        response = await fan_client.send_json(
            "POST", f"/api/v1/campaigns/{campaign_id}/entries", {}
        )
        assert response.status_code == 201, response.text
        ids.append(fan.id)
    return ids


async def test_lottery_is_reproducible_and_everyone_is_told(
    client: Any, make_client: Any, member_factory: Any, login: Any, database: Any
) -> None:
    operator = await member_factory(role=Role.operator)
    await login(client, operator)
    campaign_id = await create_campaign(client, kind="event", selection="lottery", capacity=2)
    members = await _enter_many(make_client, login, member_factory, campaign_id, 5)
    early = await client.send_json("POST", f"/api/v1/campaigns/{campaign_id}/draw", {})
    assert early.status_code == 409  # only after the close
    assert (
        await client.send_json("POST", f"/api/v1/campaigns/{campaign_id}/close")
    ).status_code == 200
    too_soon = await client.send_json("POST", f"/api/v1/campaigns/{campaign_id}/announce")
    assert too_soon.status_code == 409
    drawn = await client.send_json(
        "POST", f"/api/v1/campaigns/{campaign_id}/draw", {"seed": "kizuna-2026"}
    )
    assert drawn.status_code == 200
    winners = drawn.json()["winners"]
    entries = (await client.get(f"/api/v1/campaigns/{campaign_id}/entries")).json()
    entry_ids = [entry["id"] for entry in entries]
    # Anyone with the seed draws the same winners: random.Random(seed) over sorted entry ids.
    assert (
        winners
        == lottery.draw(entry_ids, "kizuna-2026", 2)
        == lottery.draw(list(reversed(entry_ids)), "kizuna-2026", 2)
    )
    assert len(winners) == 2
    assert (
        await client.send_json("POST", f"/api/v1/campaigns/{campaign_id}/draw", {})
    ).status_code == 409
    page = await client.get(f"/ops/campaigns/{campaign_id}")
    assert "kizuna-2026" in page.text
    announced = await client.send_json("POST", f"/api/v1/campaigns/{campaign_id}/announce")
    assert announced.json()["state"] == "announced"
    selected = await activities(database, "campaign.selected")
    others = await activities(database, "campaign.not_selected")
    by_entry = {entry["id"]: entry["member_id"] for entry in entries}
    assert sorted(a.actor_id or 0 for a in selected) == sorted(by_entry[w] for w in winners)
    assert sorted(a.actor_id or 0 for a in selected + others) == sorted(members)
    assert all(a.data["campaign_id"] == campaign_id for a in selected + others)


def test_different_seeds_draw_independently() -> None:
    pool = list(range(1, 101))
    assert lottery.draw(pool, "a", 10) == lottery.draw(pool, "a", 10)
    assert lottery.draw(pool, "a", 10) != lottery.draw(pool, "b", 10)
    assert lottery.draw([3, 1], "a", 10) == [1, 3]


async def test_points_for_entering_and_being_selected(
    client: Any, make_client: Any, member_factory: Any, login: Any, database: Any
) -> None:
    async with database.transaction() as session:
        session.add(PointRule(verb="campaign.entered", actor_points=10))
        session.add(PointRule(verb="campaign.selected", actor_points=25))
    operator, fan = await member_factory(role=Role.operator), await member_factory()
    await login(client, operator)
    campaign_id = await create_campaign(client, kind="event", capacity=5)
    fan_client = make_client()
    await login(fan_client, fan)
    before = await member_row(database, fan.id)
    response = await fan_client.send_json("POST", f"/api/v1/campaigns/{campaign_id}/entries", {})
    assert response.status_code == 201
    after = await member_row(database, fan.id)
    assert after.lifetime_points - before.lifetime_points == 35
    # Announcing does not pay the seat twice.
    await client.send_json("POST", f"/api/v1/campaigns/{campaign_id}/close")
    await client.send_json("POST", f"/api/v1/campaigns/{campaign_id}/announce")
    assert (await member_row(database, fan.id)).lifetime_points == after.lifetime_points


async def test_scheduled_campaigns_open_and_close_by_themselves(
    client: Any, make_client: Any, member_factory: Any, login: Any, database: Any
) -> None:
    operator, fan = await member_factory(role=Role.operator), await member_factory()
    await login(client, operator)
    now = datetime.now(UTC)
    future = await create_campaign(
        client,
        open_now=False,
        starts_at=(now + timedelta(days=1)).isoformat(),
        ends_at=(now + timedelta(days=2)).isoformat(),
    )
    scheduled = await client.send_json("POST", f"/api/v1/campaigns/{future}/schedule")
    assert scheduled.json()["state"] == "scheduled"
    fan_client = make_client()
    await login(fan_client, fan)
    assert (await fan_client.get(f"/campaigns/{future}")).status_code == 404
    # Time passes: the start has come and then the end.
    async with database.transaction() as session:
        row = (await session.execute(select(Campaign).where(Campaign.id == future))).scalar_one()
        row.starts_at = now - timedelta(minutes=5)
    await fan_client.get("/campaigns")  # notices the due campaign and opens it after the page
    assert (await fan_client.get(f"/campaigns/{future}")).status_code == 200
    assert [a.data["campaign_id"] for a in await activities(database, "campaign.opened")] == [
        future
    ]
    async with database.transaction() as session:
        row = (await session.execute(select(Campaign).where(Campaign.id == future))).scalar_one()
        row.ends_at = now - timedelta(minutes=1)
    await fan_client.get("/campaigns")
    closed = (await fan_client.get(f"/api/v1/campaigns/{future}")).json()
    assert closed["state"] == "closed"
    late = await fan_client.send_json("POST", f"/api/v1/campaigns/{future}/entries", {})
    assert late.status_code == 409
    async with database.transaction() as session:
        assert (await session.execute(select(CampaignEntry))).scalars().all() == []
