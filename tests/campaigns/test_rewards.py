"""Rewards: spendable points only, pending -> fulfilled/refused (refund), and no negative stock
or balance even when many redemptions arrive at the same moment."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from app.models import PointLedgerEntry, Redemption, Reward, Role
from tests.campaigns.helpers import give_points, make_rank, member_row


async def _reward(client: Any, **overrides: Any) -> int:
    payload = {"name_en": "Tote bag", "name_ja": "トートバッグ", "cost": 100, "stock": 5}
    payload.update(overrides)
    response = await client.send_json("POST", "/api/v1/rewards", payload)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def test_redeem_fulfil_and_refuse_with_refund(
    client: Any, make_client: Any, member_factory: Any, login: Any, database: Any
) -> None:
    operator, fan = await member_factory(role=Role.operator), await member_factory()
    await give_points(database, fan, 250)
    await login(client, operator)
    reward_id = await _reward(client)
    fan_client = make_client()
    await login(fan_client, fan)
    first = await fan_client.send_json("POST", f"/api/v1/rewards/{reward_id}/redemptions")
    assert first.status_code == 201
    assert first.json()["status"] == "pending"
    assert first.json()["spendable_points"] == 150
    second = await fan_client.submit(f"/rewards/{reward_id}/redeem")
    assert second.status_code == 303
    short = await fan_client.submit(f"/rewards/{reward_id}/redeem")
    assert short.status_code == 409
    assert "You do not have enough points" in short.text
    member = await member_row(database, fan.id)
    assert (member.lifetime_points, member.spendable_points) == (250, 50)
    mine = (await fan_client.get("/api/v1/me/redemptions")).json()
    fulfilled = await client.send_json("POST", f"/api/v1/redemptions/{mine[1]['id']}/fulfil")
    assert fulfilled.json()["status"] == "fulfilled"
    refused = await client.send_json(
        "POST", f"/api/v1/redemptions/{mine[0]['id']}/refuse", {"note": "Sold out in your area"}
    )
    assert refused.json()["status"] == "refused"
    again = await client.send_json("POST", f"/api/v1/redemptions/{mine[0]['id']}/refuse")
    assert again.status_code == 409
    member = await member_row(database, fan.id)
    assert (member.lifetime_points, member.spendable_points) == (250, 150)
    rewards = (await fan_client.get("/api/v1/rewards")).json()
    assert rewards[0]["stock"] == 4  # two taken, one given back
    page = await fan_client.get("/rewards")
    assert "Sold out in your area" in page.text
    assert "Refused" in page.text
    assert "/points/guide" in page.text  # rank benefits live on the points guide


async def test_minimum_rank_and_stock(
    client: Any, make_client: Any, member_factory: Any, login: Any, database: Any
) -> None:
    operator, fan = await member_factory(role=Role.operator), await member_factory()
    gold = await make_rank(database, "Gold", 500)
    await give_points(database, fan, 300)
    await login(client, operator)
    gold_only = await _reward(client, min_rank_id=gold, name_en="Gold mug")
    empty = await _reward(client, stock=0, name_en="Gone")
    fan_client = make_client()
    await login(fan_client, fan)
    ranked = await fan_client.send_json("POST", f"/api/v1/rewards/{gold_only}/redemptions")
    assert ranked.status_code == 409
    assert "rank" in ranked.json()["error"]["message"]
    gone = await fan_client.send_json("POST", f"/api/v1/rewards/{empty}/redemptions")
    assert gone.status_code == 409
    assert "out of stock" in gone.json()["error"]["message"]
    assert (await member_row(database, fan.id)).spendable_points == 300
    bad = await client.send_json(
        "POST", "/api/v1/rewards", {"name_en": "x", "cost": 0, "stock": -1}
    )
    assert bad.status_code == 422


async def test_concurrent_redemptions_never_oversell_or_overspend(
    client: Any, make_client: Any, member_factory: Any, login: Any, database: Any
) -> None:
    operator = await member_factory(role=Role.operator)
    await login(client, operator)
    reward_id = await _reward(client, stock=3, cost=100)
    rich = await member_factory()
    await give_points(database, rich, 1000)
    poor = await member_factory()
    await give_points(database, poor, 250)  # enough for two
    clients = []
    for member, copies in ((rich, 6), (poor, 6)):
        for _ in range(copies):
            member_client = make_client()
            await login(member_client, member)
            token = await member_client.csrf_token()
            clients.append((member_client, token))
    responses = await asyncio.gather(
        *(
            member_client.post(
                f"/api/v1/rewards/{reward_id}/redemptions", headers={"X-CSRF-Token": token}
            )
            for member_client, token in clients
        )
    )
    codes = sorted(response.status_code for response in responses)
    assert codes.count(201) == 3
    assert set(codes) <= {201, 409}
    async with database.transaction() as session:
        reward = await session.get(Reward, reward_id)
        assert reward is not None
        assert reward.stock == 0
        taken = await session.scalar(select(func.count(Redemption.id)))
        assert taken == 3
    rich_after = await member_row(database, rich.id)
    poor_after = await member_row(database, poor.id)
    assert rich_after.spendable_points >= 0
    assert poor_after.spendable_points >= 0
    spent = (1000 - rich_after.spendable_points) + (250 - poor_after.spendable_points)
    assert spent == 300
    assert poor_after.spendable_points in (50, 150, 250)
    # The ledger agrees with the cached balances.
    async with database.transaction() as session:
        for member in (rich_after, poor_after):
            total = await session.scalar(
                select(func.sum(PointLedgerEntry.spendable_delta)).where(
                    PointLedgerEntry.member_id == member.id
                )
            )
            assert total == member.spendable_points


async def test_concurrent_spends_by_one_member_stop_at_zero(
    client: Any, make_client: Any, member_factory: Any, login: Any, database: Any
) -> None:
    operator, fan = await member_factory(role=Role.operator), await member_factory()
    await login(client, operator)
    reward_id = await _reward(client, stock=50, cost=100)
    await give_points(database, fan, 350)
    clients = []
    for _ in range(10):
        member_client = make_client()
        await login(member_client, fan)
        clients.append((member_client, await member_client.csrf_token()))
    responses = await asyncio.gather(
        *(
            member_client.post(
                f"/api/v1/rewards/{reward_id}/redemptions", headers={"X-CSRF-Token": token}
            )
            for member_client, token in clients
        )
    )
    assert sorted(r.status_code for r in responses).count(201) == 3
    after = await member_row(database, fan.id)
    assert (after.spendable_points, after.lifetime_points) == (50, 350)
    async with database.transaction() as session:
        reward = await session.get(Reward, reward_id)
        assert reward is not None
        assert reward.stock == 47


async def test_concurrent_first_come_entries_never_exceed_capacity(
    client: Any, make_client: Any, member_factory: Any, login: Any, database: Any
) -> None:
    from tests.campaigns.helpers import create_campaign

    operator = await member_factory(role=Role.operator)
    await login(client, operator)
    campaign_id = await create_campaign(client, kind="event", capacity=3)
    clients = []
    for _ in range(12):
        member_client = make_client()
        await login(member_client, await member_factory())
        clients.append((member_client, await member_client.csrf_token()))
    responses = await asyncio.gather(
        *(
            member_client.post(
                f"/api/v1/campaigns/{campaign_id}/entries",
                json={},
                headers={"X-CSRF-Token": token},
            )
            for member_client, token in clients
        )
    )
    codes = [r.status_code for r in responses]
    assert codes.count(201) == 3
    assert codes.count(409) == 9
    campaign = (await client.get(f"/api/v1/campaigns/{campaign_id}")).json()
    assert campaign["entries"] == 3
    assert len((await client.get(f"/api/v1/campaigns/{campaign_id}/entries")).json()) == 3
