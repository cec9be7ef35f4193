"""Writers of several processes take turns on SQLite through a lock file beside the database
(app/db.py ``_WriterQueue``): a writer waits for another process's turn to end instead of
polling in SQLite's busy handler, goes the moment it ends, and gives up cleanly at the busy
timeout. The test holds the file lock through a descriptor of its own, as another worker
process would."""

from __future__ import annotations

import asyncio
import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError

from app import db as app_db
from app.db import database_unavailable
from app.models import Category
from tests.integrations.helpers import bearer, make_token
from tests.kit.helpers import until, waiting_on, writers_lock_file


@pytest.fixture(autouse=True)
def _sqlite_only(database):
    if not database.is_sqlite:
        pytest.skip("the writers' lock file is SQLite's (PostgreSQL locks rows)")


@pytest.fixture
def other_process(database) -> Iterator[int]:
    """The writers' lock file, opened as another worker would (its own open file)."""
    with writers_lock_file(database) as fd:
        yield fd


async def _add_category(database, slug: str) -> None:
    async with database.transaction() as session:
        session.add(Category(slug=slug, name_en=slug.title(), name_ja=slug, description_en=""))


async def _categories(database) -> int:
    async with database.transaction(write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(Category)) or 0)


async def test_a_writer_waits_for_another_process_then_goes_at_once(database, other_process):
    await _add_category(database, "first")  # the lock file exists from the first write on
    fcntl.flock(other_process, fcntl.LOCK_EX)
    writing = asyncio.create_task(_add_category(database, "second"))
    await until(lambda: waiting_on(other_process), "the writer waiting on the lock file")
    assert not writing.done()
    assert await _categories(database) == 1  # reads never wait for writers
    fcntl.flock(other_process, fcntl.LOCK_UN)
    await asyncio.wait_for(writing, 10)
    assert await _categories(database) == 2


async def test_a_turn_held_past_the_busy_timeout_is_an_outage_then_writes_resume(
    database, other_process, monkeypatch
):
    await _add_category(database, "first")
    monkeypatch.setattr(app_db, "BUSY_TIMEOUT_SECONDS", 0.3)
    fcntl.flock(other_process, fcntl.LOCK_EX)
    with pytest.raises(OperationalError, match="database is locked") as failed:
        await _add_category(database, "blocked")
    assert database_unavailable(failed.value)  # answered 503: retry later
    fcntl.flock(other_process, fcntl.LOCK_UN)
    # The given-up wait still gets the lock in its thread and lets it go; the next writer
    # goes, and the one after it too (nothing was left holding the lock).
    await asyncio.wait_for(_add_category(database, "after"), 10)
    await asyncio.wait_for(_add_category(database, "again"), 10)
    assert await _categories(database) == 3
    fcntl.flock(other_process, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free once they are done


_GIVE_UP_AND_EXIT = """
import asyncio, sys
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from app import db
from app.config import Settings

db.BUSY_TIMEOUT_SECONDS = 0.3

async def main():
    database = db.Database(Settings())
    try:
        async with database.transaction() as session:
            await session.execute(text("CREATE TABLE notes (body TEXT)"))
    except OperationalError as exc:
        print("gave up:", exc.orig, flush=True)
    await database.dispose()

asyncio.run(main())
"""


def test_a_process_whose_writer_gave_up_still_exits(tmp_path):
    """A server stopped while another process holds the writers' turn (a long command-line
    job) exits: the thread still waiting for the lock does not keep it alive."""
    path = tmp_path / "kizuna.db"
    fd = os.open(f"{path}-writers", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    env = {
        **os.environ,
        "KIZUNA_DATABASE_URL": f"sqlite+aiosqlite:///{path}",
        "KIZUNA_DATA_DIR": str(tmp_path),
        "KIZUNA_SECRET_KEY": "x" * 40,
    }
    try:
        done = subprocess.run(
            [sys.executable, "-c", _GIVE_UP_AND_EXIT],
            env=env,
            cwd=Path(__file__).resolve().parents[2],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    assert done.returncode == 0, done.stderr
    assert "gave up: database is locked" in done.stdout


async def _write_and_tell_connection(database, slug: str) -> int:
    """Add a category; return the identity of the SQLite connection that wrote it."""
    async with database.transaction() as session:
        session.add(Category(slug=slug, name_en=slug.title(), name_ja=slug, description_en=""))
        await session.flush()
        return id((await (await session.connection()).get_raw_connection()).dbapi_connection)


async def test_one_process_writes_through_one_connection(database):
    """Writers take turns, so one kept connection serves them all and keeps its page cache
    from one write to the next (SQLite discards a connection's whole cache whenever another
    connection has written since its last transaction: with a pool of writers, each write
    read its pages afresh)."""
    used = await asyncio.gather(
        *(_write_and_tell_connection(database, f"burst-{n}") for n in range(24))
    )
    assert len(set(used)) == 1
    assert await _categories(database) == 24  # each writer waited its turn, none failed


async def test_a_writer_waiting_past_the_busy_timeout_is_an_outage(settings, monkeypatch):
    """A write transaction held open past the busy timeout (a stuck job): the process's next
    writer gives up cleanly (503, retry later), and once the first is done writes resume."""
    monkeypatch.setattr(app_db, "BUSY_TIMEOUT_SECONDS", 0.3)
    database = app_db.Database(settings)
    release = asyncio.Event()

    async def hold() -> None:
        async with database.transaction() as session:
            session.add(Category(slug="held", name_en="Held", name_ja="held", description_en=""))
            await session.flush()
            await release.wait()

    try:
        holder = asyncio.create_task(hold())
        await until(lambda: database.engine.sync_engine.pool.checkedout() == 1, "a held writer")
        with pytest.raises(SQLAlchemyTimeoutError) as failed:
            await asyncio.wait_for(_add_category(database, "blocked"), 5)
        assert database_unavailable(failed.value)  # given up at the busy timeout, not later
        release.set()
        await asyncio.wait_for(holder, 10)
        await asyncio.wait_for(_add_category(database, "after"), 10)
        async with database.transaction(write=False) as session:
            slugs = set((await session.execute(select(Category.slug))).scalars())
        assert slugs == {"held", "after"}
    finally:
        release.set()
        await database.dispose()


async def test_a_write_request_is_refused_without_waiting_for_the_writers_turn(
    database, other_process, client, make_client, member_factory, login, settings, monkeypatch
):
    """A write request's viewer and its token's budget are read before its transaction takes
    the write lock: while another process writes, a bad token is answered 401 and a spent
    budget 429 at once, and a good request waits for the turn and then goes."""
    monkeypatch.setattr(settings, "api_token_requests_per_minute", 1)
    member = await member_factory(locale="en")
    await login(client, member)
    token = await make_token(client, "bot", "write")
    spent = await make_token(client, "spent", "write")
    program = make_client()
    assert (
        await program.patch("/api/v1/me", json={"bio": "x"}, headers=bearer(spent))
    ).status_code == 200

    fcntl.flock(other_process, fcntl.LOCK_EX)
    try:
        unknown = await asyncio.wait_for(
            program.patch("/api/v1/me", json={"bio": "y"}, headers=bearer("kz_unknown")), 5
        )
        over = await asyncio.wait_for(
            program.patch("/api/v1/me", json={"bio": "y"}, headers=bearer(spent)), 5
        )
        writing = asyncio.create_task(
            program.patch("/api/v1/me", json={"bio": "waited"}, headers=bearer(token))
        )
        await until(lambda: waiting_on(other_process), "the write waiting for its turn")
        assert not writing.done()
    finally:
        fcntl.flock(other_process, fcntl.LOCK_UN)
    assert unknown.status_code == 401
    assert over.status_code == 429
    assert (await asyncio.wait_for(writing, 10)).status_code == 200
    assert (await client.get("/api/v1/me")).json()["bio"] == "waited"


async def test_another_process_may_write_as_soon_as_a_commit_is_done(database, other_process):
    """The lock file is let go in the connection's thread as soon as COMMIT returns, not when
    this process's event loop next gets round to the transaction: a loop busy with other
    requests holds no other process's writer up. Here the loop is kept busy by the other
    process itself, trying for the lock until it has it (or ten seconds have passed)."""
    await _add_category(database, "first")
    loop = asyncio.get_running_loop()
    other_got_it: asyncio.Future[bool] = loop.create_future()

    def busy_loop() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                fcntl.flock(other_process, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            other_got_it.set_result(True)
            return
        other_got_it.set_result(False)

    async with database.session(write=True) as session:
        session.add(Category(slug="second", name_en="Second", name_ja="二", description_en=""))
        await session.flush()
        with pytest.raises(BlockingIOError):  # the transaction holds the writers' turn
            fcntl.flock(other_process, fcntl.LOCK_EX | fcntl.LOCK_NB)
        loop.call_soon(busy_loop)  # runs while the COMMIT is in the connection's thread
        await session.commit()
    assert other_got_it.result(), "the other process waited for this event loop"
    assert await _categories(database) == 2
