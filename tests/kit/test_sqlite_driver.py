"""The SQLite dialect of app/kit/sqlite_driver.py: the same results as the stock adapter, read
sessions that cannot write, and write transactions that go to aiosqlite's thread only to
commit, and to begin when the write lock is taken."""

from __future__ import annotations

import asyncio
import sqlite3

import aiosqlite.core
import pytest
from sqlalchemy import bindparam, delete, func, select, text, update
from sqlalchemy.exc import OperationalError

from app.kit.sql import kept_reader, read_prebuilt
from app.models import Category


@pytest.fixture(autouse=True)
def _sqlite_only(database):
    if not database.is_sqlite:
        pytest.skip("the SQLite driver (PostgreSQL runs through asyncpg)")


@pytest.fixture
def trips(monkeypatch):
    """How many calls were sent to aiosqlite's connection threads."""
    counted = {"n": 0}
    real = aiosqlite.core.Connection._execute

    async def counting(self, fn, *args, **kwargs):
        counted["n"] += 1
        return await real(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counting)
    return counted


def _category(slug: str) -> Category:
    return Category(slug=slug, name_en=slug.title(), name_ja=slug, description_en="")


async def test_rows_ids_and_counts_come_back_as_before(database, trips):
    for write in (True, False):  # open one pooled connection of each kind first
        async with database.transaction(write=write) as session:
            await session.execute(select(1))
    trips["n"] = 0
    async with database.transaction() as session:
        first, second = _category("cameras"), _category("lenses")
        session.add_all([first, second])
        await session.flush()  # ids come back from the inserts
        assert first.id > 0
        assert second.id > first.id
        changed = await session.execute(
            update(Category).where(Category.slug.in_(["cameras", "lenses"])).values(position=7)
        )
        assert changed.rowcount == 2
    # The write lock was free: only the COMMIT went to the thread (BEGIN IMMEDIATE took the
    # lock on the loop's thread).
    assert trips["n"] == 1
    async with database.transaction(write=False) as session:
        rows = (
            await session.execute(select(Category.slug, Category.position).order_by(Category.slug))
        ).all()
        assert [(slug, position) for slug, position in rows] == [("cameras", 7), ("lenses", 7)]


async def test_a_begin_that_finds_the_lock_taken_waits_in_the_thread(database, trips):
    """Another program (not one of the app's writers, which take turns before BEGIN) holds
    SQLite's write lock: the app's BEGIN waits for it in aiosqlite's thread, with the busy
    timeout, while the event loop goes on serving reads; it writes once the lock is free."""
    async with database.transaction() as session:
        session.add(_category("first"))
    other = sqlite3.connect(database.engine.url.database, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        trips["n"] = 0
        writing = asyncio.create_task(_write(database, "second"))
        for _ in range(500):
            if trips["n"]:
                break
            await asyncio.sleep(0.01)
        assert trips["n"] == 1  # the BEGIN, sent to the thread to wait
        async with database.transaction(write=False) as session:
            assert await session.scalar(select(func.count()).select_from(Category)) == 1
        assert not writing.done()
        other.execute("COMMIT")
        await asyncio.wait_for(writing, 10)
    finally:
        other.close()
    async with database.transaction() as session:
        # The try without a busy wait left the connection's busy timeout as it was.
        assert (await session.execute(text("PRAGMA busy_timeout"))).scalar_one() == 30000
        assert await session.scalar(select(func.count()).select_from(Category)) == 2


async def _write(database, slug: str) -> None:
    async with database.transaction() as session:
        session.add(_category(slug))


async def test_a_read_session_refuses_to_write(database):
    async with database.transaction(write=False) as session:
        session.add(_category("sneaky"))
        with pytest.raises(OperationalError, match="readonly"):
            await session.flush()
        await session.rollback()
    async with database.transaction(write=False) as session:
        count = await session.scalar(select(func.count()).select_from(Category))
    assert count == 0


async def test_a_jobs_read_session_sees_one_moment_in_its_connections_thread(database, trips):
    """A job's reads (``transaction(write=False)``) see one snapshot: a write committed
    between two of them is not seen until the next read session. Its statements run in the
    connection's thread (its BEGIN, then the count), so a long read leaves the event loop
    free for requests."""
    await _write(database, "first")
    async with database.transaction(write=False) as session:
        await session.execute(select(1))  # a pooled read connection, opened
    trips["n"] = 0
    async with database.transaction(write=False) as reading:
        before = await reading.scalar(select(func.count()).select_from(Category))
        assert trips["n"] == 2
        await _write(database, "second")
        during = await reading.scalar(select(func.count()).select_from(Category))
    async with database.transaction(write=False) as session:
        after = await session.scalar(select(func.count()).select_from(Category))
    assert (before, during, after) == (1, 1, 2)


def _slugs(_insert):
    return select(Category.slug).order_by(Category.slug)


async def test_a_requests_reads_each_see_the_latest_commit_on_one_kept_connection(database, trips):
    """A request's read session begins no transaction, as on PostgreSQL: a reply committed
    between two of a page's statements is in the second. Its reads that skip SQLAlchemy share
    one connection of the process, which no session checks out, begins or rolls back."""
    await _write(database, "first")
    pool = database.read_engine.sync_engine.pool
    trips["n"] = 0
    for _ in range(3):
        reading = database.session(write=False)
        try:
            before = await read_prebuilt(reading, "test.slugs", _slugs, {})
            await _write(database, "second")
            during = await read_prebuilt(reading, "test.slugs", _slugs, {})
            # Through SQLAlchemy (a pooled connection) too: no BEGIN holds an older moment.
            counted = await reading.scalar(select(func.count()).select_from(Category))
        finally:
            await reading.close()
        assert [slug for (slug,) in before] == ["first"]
        assert [slug for (slug,) in during] == ["first", "second"]
        assert counted == 2
        await _delete(database, "second")
    # The kept connection and the one pooled connection of the SQLAlchemy reads, both back
    # or kept: nothing piles up, and nothing went to aiosqlite's thread but the writes.
    assert pool.checkedout() == 1
    assert trips["n"] == 6  # the three writes' and three deletes' COMMITs


async def test_the_kept_connection_refuses_to_write(database):
    reader = kept_reader(database.session(write=False))
    assert reader is not None

    await _write(database, "first")
    sneaky = update(Category.__table__).values(position=bindparam("position"))
    with pytest.raises(OperationalError, match="readonly"):
        await reader.run("test.sneaky", sneaky, {"position": 9})
    # The failed statement let the connection go; the next read opens another and works.
    assert await reader.run("test.slugs", _slugs(None), {}) is not None
    async with database.transaction(write=False) as session:
        assert await session.scalar(select(Category.position)) == 0


async def _delete(database, slug: str) -> None:
    async with database.transaction() as session:
        await session.execute(delete(Category).where(Category.slug == slug))
