"""Helpers for points tests: default rules and ranks, recording activities, reading totals."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.activity.service import record
from app.db import Database
from app.kit.security import new_token, sha256_hex
from app.models import ApiToken, Member, PointLedgerEntry
from app.points import service


@pytest.fixture(autouse=True)
async def default_rules(database: Database) -> None:
    async with database.transaction() as session:
        await service.seed_defaults(session)


async def act(
    database: Database,
    verb: str,
    actor: Member | None,
    recipient: Member | None = None,
    *,
    subject: tuple[str, int] | None = None,
    data: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> None:
    async with database.transaction() as session:
        await record(
            session,
            verb,
            actor_id=actor.id if actor else None,
            recipient_id=recipient.id if recipient else None,
            subject=subject,
            data=data,
            dedupe_key=dedupe_key,
        )


async def totals(database: Database, member: Member) -> tuple[int, int]:
    async with database.transaction(write=False) as session:
        row = (
            await session.execute(
                select(Member.lifetime_points, Member.spendable_points).where(
                    Member.id == member.id
                )
            )
        ).one()
    return int(row[0]), int(row[1])


async def ledger_sum(database: Database, member: Member, kind: str | None = None) -> int:
    async with database.transaction(write=False) as session:
        query = select(func.coalesce(func.sum(PointLedgerEntry.lifetime_delta), 0)).where(
            PointLedgerEntry.member_id == member.id
        )
        if kind is not None:
            query = query.where(PointLedgerEntry.kind == kind)
        return int(await session.scalar(query) or 0)


async def ledger_count(database: Database, *where: Any) -> int:
    async with database.transaction(write=False) as session:
        return int(
            await session.scalar(select(func.count()).select_from(PointLedgerEntry).where(*where))
            or 0
        )


async def api_token(database: Database, member: Member, scopes: str = "read write") -> str:
    """A bearer token for ``member`` (as the token settings page would issue)."""
    token = new_token()
    async with database.transaction() as session:
        session.add(
            ApiToken(
                member_id=member.id,
                name="test",
                token_hash=sha256_hex(token),
                prefix=token[:8],
                scopes=scopes,
            )
        )
    return token
