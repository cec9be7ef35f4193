"""The connection pools serve their waiters in the order they came (app/kit/pool.py): a job
writing one transaction after another cannot keep a waiting request from the writers' one
connection, and a waiter that gives up loses nobody's connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.kit.pool import FairAsyncQueuePool
from tests.kit.helpers import until


def _waiting(engine: AsyncEngine) -> int:
    return int(engine.sync_engine.pool._pool.waiting())  # type: ignore[attr-defined]


@pytest.fixture
async def one_connection(settings) -> AsyncIterator[AsyncEngine]:
    """A pool of one connection on the test database (SQLite or PostgreSQL)."""
    engine = create_async_engine(
        settings.resolved_database_url,
        poolclass=FairAsyncQueuePool,
        pool_size=1,
        max_overflow=0,
        pool_timeout=0.3,
    )
    try:
        yield engine
    finally:
        await engine.dispose()


async def _served(engine: AsyncEngine) -> list[str]:
    """Who gets the pool's one connection first: a caller already waiting for it, or the
    holder asking again the moment it gives it back (before the waiter has run again)."""
    order: list[str] = []

    async def waiter() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            order.append("waiter")

    held = await engine.connect()
    await held.execute(text("SELECT 1"))
    waiting = asyncio.create_task(waiter())
    await until(lambda: _waiting(engine) == 1, "the waiter")
    await held.close()
    async with asyncio.timeout(5):  # (not wait_for: its task would let the waiter run first)
        again = await engine.connect()
    order.append("asked again")
    await again.close()
    await asyncio.wait_for(waiting, 5)
    return order


async def test_the_writers_connection_goes_to_the_writer_waiting_for_it(database):
    """On SQLite the app's writers share one connection. SQLAlchemy's own pool left a
    returned connection in its queue until the waiter it woke ran again, and whoever asked
    in between took it: with 16 likes in flight in one process the score refresh after a
    commit waited up to 18 s that way. Now the waiter has it first."""
    if not database.is_sqlite:
        pytest.skip("PostgreSQL's writers have a pool of connections, not one")
    assert await _served(database.engine) == ["waiter", "asked again"]


async def test_a_pool_serves_its_waiters_first_come_first_served(one_connection):
    assert await _served(one_connection) == ["waiter", "asked again"]


async def test_a_waiter_that_gives_up_leaves_the_connection_to_the_next(one_connection):
    """A waiter that times out is answered with the pool's timeout error, and the connection
    it was waiting for goes to the next caller at once (nothing was handed to a quitter)."""
    async with one_connection.connect() as held:
        await held.execute(text("SELECT 1"))
        with pytest.raises(SQLAlchemyTimeoutError):
            await asyncio.wait_for(one_connection.connect(), 5)
        assert _waiting(one_connection) == 0
    async with asyncio.timeout(5):
        async with one_connection.connect() as after:
            assert (await after.execute(text("SELECT 2"))).scalar() == 2


async def test_a_waiter_cancelled_as_it_is_handed_the_connection_passes_it_on(one_connection):
    """The connection is handed to the first waiter, but that waiter's request is cancelled
    (its client went away) before it runs again: the second waiter gets it instead of
    waiting for a connection nobody will give back."""
    got: list[str] = []

    async def wait_for_it(name: str) -> None:
        async with one_connection.connect() as connection:
            await connection.execute(text("SELECT 1"))
            got.append(name)

    held = await one_connection.connect()
    await held.execute(text("SELECT 1"))
    first = asyncio.create_task(wait_for_it("first"))
    await until(lambda: _waiting(one_connection) == 1, "the first waiter")
    second = asyncio.create_task(wait_for_it("second"))
    await until(lambda: _waiting(one_connection) == 2, "the second waiter")
    await held.close()  # hands the connection to the first waiter...
    assert got == []
    first.cancel()  # ...which is cancelled before it runs again
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.wait_for(second, 5)
    assert got == ["second"]
    assert _waiting(one_connection) == 0
