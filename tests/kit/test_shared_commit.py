"""Write requests queued together on SQLite share one COMMIT (app/db.py ``commit_shared``):
each still answers only once its writes are stored, a request that fails loses only its own
writes, and a COMMIT that fails reaches every request that shared it."""

from __future__ import annotations

import asyncio
import fcntl
import sqlite3
from collections.abc import Iterator

import aiosqlite.core
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from app.db import commit_shared
from app.kit.sqlite_driver import OneTripConnection
from app.models import Category
from tests.kit.helpers import until, waiting_on, writers_lock_file


@pytest.fixture(autouse=True)
def _sqlite_only(database):
    if not database.is_sqlite:
        pytest.skip("SQLite's one writer (PostgreSQL commits each transaction on its own)")


@pytest.fixture
def commits(monkeypatch) -> list[int]:
    """The COMMITs the writers' connection made (each as the connection's id)."""
    made: list[int] = []
    real = OneTripConnection.commit

    def counting(self):
        writer = self.holds_write_lock  # not the jobs' read connections
        real(self)
        if writer:
            made.append(id(self))

    monkeypatch.setattr(OneTripConnection, "commit", counting)
    return made


@pytest.fixture
def turn_held(database) -> Iterator[int]:
    """The writers' lock file, opened as another worker process would: holding it during its
    write, it makes this process's writers queue up behind it."""
    with writers_lock_file(database) as fd:
        yield fd


def _stored(database) -> set[str]:
    """The categories another program sees in the file (what is committed, nothing else)."""
    other = sqlite3.connect(database.engine.url.database.removeprefix("file:"))
    try:
        return {slug for (slug,) in other.execute("SELECT slug FROM categories")}
    finally:
        other.close()


async def _request(database, slug: str, *, fail: bool = False) -> set[str]:
    """A write request as the pipeline ends it; returns what was stored when it answered."""
    session = database.session(write=True)
    try:
        session.add(Category(slug=slug, name_en=slug.title(), name_ja=slug, description_en=""))
        await session.flush()
        if fail:
            raise ValueError("the request failed after writing")
        await commit_shared(session)
        return _stored(database)
    except ValueError:
        await session.rollback()
        return set()
    finally:
        await session.close()


async def _queue_behind_another_process(database, turn_held, slugs, failing=(), errors=False):
    fcntl.flock(turn_held, fcntl.LOCK_EX)
    started = [
        asyncio.create_task(_request(database, slug, fail=slug in failing)) for slug in slugs
    ]
    await until(lambda: waiting_on(turn_held), "the first writer waiting for the lock file")
    await asyncio.sleep(0)  # the others reach the writers' queue behind it
    fcntl.flock(turn_held, fcntl.LOCK_UN)
    return await asyncio.wait_for(asyncio.gather(*started, return_exceptions=errors), 10)


async def test_writers_queued_together_share_one_commit_and_answer_once_stored(
    database, commits, turn_held
):
    await _request(database, "warm-up")  # the writers' connection opened
    commits.clear()
    slugs = [f"queued-{n}" for n in range(6)]
    seen = await _queue_behind_another_process(database, turn_held, slugs)
    # One COMMIT stored the six rows, and no request answered before it.
    assert len(commits) == 1
    for slug, stored in zip(slugs, seen, strict=True):
        assert slug in stored
    assert _stored(database) == {"warm-up", *slugs}


async def test_a_request_that_fails_in_a_group_loses_only_its_own_writes(
    database, commits, turn_held
):
    await _request(database, "warm-up")
    commits.clear()
    slugs = ["first", "failing", "third", "fourth"]
    seen = await _queue_behind_another_process(database, turn_held, slugs, failing={"failing"})
    assert seen[1] == set()
    assert len(commits) == 1
    assert _stored(database) == {"warm-up", "first", "third", "fourth"}


async def test_writers_that_arrive_one_after_another_all_commit(database, commits):
    """No other process holds the turn: the first writer commits before the others are in
    line (its COMMIT awaits the connection's thread, and they queue meanwhile); none of them
    is left waiting for a connection that went idle."""
    slugs = [f"burst-{n}" for n in range(8)]
    seen = await asyncio.wait_for(asyncio.gather(*(_request(database, slug) for slug in slugs)), 10)
    for slug, stored in zip(slugs, seen, strict=True):
        assert slug in stored
    assert 1 < len(commits) < 8  # the first alone, then some of them together


async def test_a_failed_commit_reaches_every_request_that_shared_it(
    database, monkeypatch, turn_held
):
    await _request(database, "warm-up")
    real = aiosqlite.core.Connection._execute
    failed = []

    async def failing_commit(self, fn, *args, **kwargs):
        if getattr(fn, "__name__", "") in {"commit", "commit_then"} and not failed:
            failed.append(fn)
            raise sqlite3.OperationalError("disk I/O error")
        return await real(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.core.Connection, "_execute", failing_commit)
    outcomes = await _queue_behind_another_process(
        database, turn_held, ["lost-1", "lost-2", "lost-3"], errors=True
    )
    assert len(failed) == 1
    # Each request learns it, as the 503 an outage answers (app.db.database_unavailable).
    assert all(isinstance(outcome, OperationalError) for outcome in outcomes), outcomes
    assert _stored(database) == {"warm-up"}
    # The writers go on: the next request finds no transaction left open, and its turn free.
    assert "after" in await _request(database, "after")
    async with database.transaction(write=False) as session:
        count = await session.scalar(select(func.count()).select_from(Category))
    assert count == 2
