"""Fixed-window limits kept in the database, so every server process sees the same counts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit import clock
from app.kit.sql import read_prebuilt, run_prebuilt
from app.models import RateLimit


def _window_query(_insert: Any) -> Any:
    return select(RateLimit.count, RateLimit.window_start).where(
        RateLimit.key == bindparam("p_key")
    )


async def retry_after(session: AsyncSession, key: str, limit: int, window: int) -> int | None:
    """Seconds until ``key`` may act again, or None if it is under its limit."""
    rows = await read_prebuilt(session, "ratelimit.window", _window_query, {"p_key": key})
    if not rows:
        return None
    count, started = rows[0]
    return wait_left(count, started, limit, window)


def wait_left(count: int, started: datetime, limit: int, window: int) -> int | None:
    """Seconds until a key whose window began at ``started`` with ``count`` attempts may act
    again, or None if it is under its limit."""
    now = clock.now()
    ends = started + timedelta(seconds=window)
    if ends <= now or count < limit:
        return None
    return max(1, int((ends - now).total_seconds() + 0.999))


def _count_upsert(insert_: Any) -> Any:
    table = RateLimit.__table__
    stamp = table.c.window_start.type
    now = bindparam("p_now", type_=stamp)
    expired = table.c.window_start <= bindparam("p_expired_at", type_=stamp)
    stmt = insert_(table).values(key=bindparam("p_key"), window_start=now, count=1)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={
            "count": case((expired, 1), else_=table.c.count + 1),
            "window_start": case((expired, now), else_=table.c.window_start),
        },
    ).returning(table.c.count, table.c.window_start)


async def _count(session: AsyncSession, key: str, window: int) -> tuple[int, datetime]:
    """Count one attempt in the current window (one atomic upsert, a new window once the
    old one has passed): the count so far and when the window started."""
    now = clock.now()
    params = {"p_key": key, "p_now": now, "p_expired_at": now - timedelta(seconds=window)}
    count, started = (await run_prebuilt(session, "ratelimit.count", _count_upsert, params)).one()
    return int(count), started


async def hit(session: AsyncSession, key: str, window: int) -> int:
    """Count one attempt in the current window and return the count so far."""
    count, _started = await _count(session, key, window)
    return count


async def take(session: AsyncSession, key: str, limit: int, window: int) -> int | None:
    """:func:`consume` in one statement, for hot paths (every API token request): count the
    attempt, then answer seconds to wait if it went over ``limit``, else None. Attempts over
    the limit are counted too, which changes nothing a client sees: the window's end, and so
    ``Retry-After``, stays where it was."""
    count, started = await _count(session, key, window)
    if count <= limit:
        return None
    ends = started + timedelta(seconds=window)
    return max(1, int((ends - clock.now()).total_seconds() + 0.999))


async def consume(session: AsyncSession, key: str, limit: int, window: int) -> int | None:
    """Check then count: returns seconds to wait if over the limit (and does not count it)."""
    wait = await retry_after(session, key, limit, window)
    if wait is not None:
        return wait
    await hit(session, key, window)
    return None


async def reset(session: AsyncSession, key: str) -> None:
    await session.execute(delete(RateLimit).where(RateLimit.key == key))
