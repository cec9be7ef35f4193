"""Building blocks for campaign tests: operators create campaigns through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.db import Database
from app.models import Activity, Member, Rank
from app.points import service as points


def period(days: int = 7) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(days=days)).isoformat(),
    }


def campaign_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "title_en": "Try the new kettle",
        "title_ja": "新しいケトルを試そう",
        "description_en": "Tell us **what you think**.",
        "kind": "application",
        **period(),
    }
    payload.update(overrides)
    return payload


async def create_campaign(client: Any, *, open_now: bool = True, **overrides: Any) -> int:
    response = await client.send_json("POST", "/api/v1/campaigns", campaign_payload(**overrides))
    assert response.status_code == 201, response.text
    campaign_id = int(response.json()["id"])
    if open_now:
        opened = await client.send_json("POST", f"/api/v1/campaigns/{campaign_id}/open")
        assert opened.status_code == 200, opened.text
    return campaign_id


async def give_points(database: Database, member: Member, amount: int) -> None:
    async with database.transaction() as session:
        await points.append(
            session,
            points.Entry(
                member_id=member.id,
                lifetime=amount,
                spendable=amount,
                kind="adjustment",
                rule="adjustment",
                source=f"test:{member.id}:{amount}:{datetime.now(UTC).timestamp()}",
            ),
        )


async def make_rank(database: Database, name: str, threshold: int) -> int:
    async with database.transaction() as session:
        rank = Rank(name_en=name, name_ja=name, threshold=threshold)
        session.add(rank)
        await session.flush()
        return rank.id


async def activities(database: Database, verb: str) -> list[Activity]:
    async with database.transaction() as session:
        rows = await session.execute(
            select(Activity).where(Activity.verb == verb).order_by(Activity.id)
        )
        return list(rows.scalars())


async def member_row(database: Database, member_id: int) -> Member:
    async with database.transaction() as session:
        member = await session.get(Member, member_id)
        assert member is not None
        return member
