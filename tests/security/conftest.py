"""Shared helpers for the security suite: the route table, row counts, signed-in people."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy import func, select
from starlette.routing import Mount, WebSocketRoute

from app.db import Database
from app.models import Base
from tests.live.conftest import live_server  # noqa: F401  (a real server for WebSocket tests)

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def http_routes(app: Any) -> list[tuple[str, str]]:
    """Every (method, path template) the application answers, HEAD and OPTIONS aside."""
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount | WebSocketRoute) or not route.path:
            continue
        for method in (route.methods or set()) - {"HEAD", "OPTIONS"}:
            found.add((method, route.path))
    return sorted(found)


async def row_counts(database: Database) -> dict[str, int]:
    async with database.transaction(write=False) as session:
        return {
            table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


@pytest.fixture
async def signed_in(make_client: Any, member_factory: Any, login: Any) -> Any:
    """``await signed_in(role)`` -> (client, member), each person with their own cookies."""

    async def factory(role: str = "member", **kwargs: Any) -> tuple[Any, Any]:
        client = make_client()
        member = await member_factory(role=role, **kwargs)
        await login(client, member)
        return client, member

    return factory
