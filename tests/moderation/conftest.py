"""Moderation test helpers: the forum helpers, default point rules, and short readers."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.db import Database
from app.models import Activity, AuditLog, Member, Role
from app.points import service as points
from tests.forums.conftest import Forum, _empty_search_index  # noqa: F401  (fixture)


@pytest.fixture
def forum(database: Database) -> Forum:
    return Forum(database)


@pytest.fixture(autouse=True)
async def default_rules(database: Database) -> None:
    async with database.transaction() as session:
        await points.seed_defaults(session)


@pytest.fixture
def staff(member_factory: Any, make_client: Any, login: Any) -> Any:
    """A signed-in client for a new member of ``role``: returns (client, member)."""

    async def make(role: Role | str = Role.moderator, **kwargs: Any) -> tuple[Any, Member]:
        member = await member_factory(role=role, **kwargs)
        http = make_client()
        await login(http, member)
        return http, member

    return make


async def fresh(database: Database, member: Member) -> Member:
    async with database.transaction(write=False) as session:
        loaded = await session.get(Member, member.id)
        assert loaded is not None
        return loaded


async def activities(database: Database, verb: str) -> list[Activity]:
    async with database.transaction(write=False) as session:
        rows = await session.execute(
            select(Activity).where(Activity.verb == verb).order_by(Activity.id)
        )
        return list(rows.scalars())


async def audit_actions(database: Database) -> list[str]:
    async with database.transaction(write=False) as session:
        rows = await session.execute(select(AuditLog.action).order_by(AuditLog.id))
        return [str(action) for action in rows.scalars()]


async def notices(client: Any) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/notifications")
    assert response.status_code == 200, response.text
    return list(response.json()["items"])
