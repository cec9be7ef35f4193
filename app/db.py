"""Engine, sessions and the one-transaction-per-request rule.

SQLite is tuned for a web server: WAL so readers never wait for the writer, foreign keys on,
a busy timeout, and write transactions that take the write lock up front (``BEGIN IMMEDIATE``)
so concurrent writers queue instead of failing half-way with "database is locked".
Read-only requests never block anyone and begin no transaction: each of their statements
reads the latest commit, on SQLite as on PostgreSQL (autocommit). On SQLite they have an
engine of their own whose connections refuse writes (``PRAGMA query_only``) and run each
statement on the event loop's thread, with no trip to aiosqlite's (app.kit.sqlite_driver);
the reads that skip SQLAlchemy share one kept connection (app.kit.sql.KeptReader). Jobs'
reads (``Database.transaction(write=False)``) see one moment, in a deferred transaction.
A GET that must write (a confirmation link) opens a write transaction of its own.

Within one process, writers queue on an asyncio lock before ``BEGIN IMMEDIATE`` and hand it
on the moment the previous ``COMMIT`` returns. Left to SQLite alone, each waiter sleeps in the
busy handler (1, 2, 5, ... up to 100 ms between tries), so under 16 concurrent writers the
write lock sat idle most of the time: measured 17 likes/s with a p50 of 555 ms. Between
processes, the same hand-over goes through a lock file beside the database (``_WriterQueue``);
SQLite's busy timeout still arbitrates with any writer that does not take it. Since they take
turns, a process's writers share one kept connection, whose page cache then lasts from one
write to the next. Requests queued for that connection share a COMMIT: each goes on in a
savepoint of the transaction before it, and answers once the group's COMMIT has stored it
(:func:`commit_shared`).

The server's writers never copy the WAL back into the database file themselves: a thread of
their own does it between their turns (``_Checkpointer``), so no ``COMMIT`` stalls the queue.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import sqlite3
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, cast
from urllib.parse import quote
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.engine import Connection, ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool
from sqlalchemy.util import await_only
from sqlalchemy.util.concurrency import in_greenlet

from app.config import Settings
from app.kit.pool import FairAsyncQueuePool
from app.kit.sql import READER_OPTION, KeptReader
from app.kit.sqlite_driver import InlineConnection, OneTripConnection, sqlite_url

logger = logging.getLogger(__name__)
AfterCommit = Callable[[], Awaitable[None]]
_BEGIN_OPTION = "kizuna_begin"
_NO_BEGIN = "NONE"
_QUEUES: WeakKeyDictionary[Any, _WriterQueue] = WeakKeyDictionary()  # by sync engine
BUSY_TIMEOUT_SECONDS = 30
# The checkpointer copies the WAL back after a pause that gathers the commits coming
# meanwhile (each page is then copied once however often it was written), and shuts the
# writers out briefly (a seal) once the WAL holds this many frames, so that the next writer
# starts it again from the top: SQLite's own default size (``wal_autocheckpoint``).
CHECKPOINT_PAUSE_SECONDS = 1.0
SEAL_FRAMES = 1000
# Kept connections for the jobs' reads on SQLite (the score batch, digests, webhooks...).
JOB_READERS = 2


def create_engine(
    settings: Settings, *, create: bool = True, read_only: bool = False, inline: bool = True
) -> AsyncEngine:
    """``create=False`` (the server): a missing SQLite file is an outage, answered with 503
    until the file is back, rather than silently replaced by a new, empty database.
    ``read_only`` (SQLite): connections that refuse writes and run their statements on the
    event loop's thread (app.kit.sqlite_driver), or with ``inline=False`` in the connection's
    thread (the jobs' reads)."""
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        if ":memory:" not in url:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            if not create:
                parsed = make_url(url)
                url = parsed.set(
                    database=f"file:{parsed.database}", query={"mode": "rw", "uri": "true"}
                ).render_as_string(hide_password=False)
        pool: dict[str, Any] = {}
        if ":memory:" not in url and read_only:
            # Kept connections keep their page cache warm; overflow ones are closed on return.
            size = settings.database_pool_size if inline else JOB_READERS
            pool = {"pool_size": size, "max_overflow": 10}
        elif ":memory:" not in url:
            # Writers take turns (see _WriterQueue), so one connection serves them all, and it
            # keeps its page cache from one write transaction to the next: SQLite discards a
            # connection's whole cache whenever another connection has written since its last
            # transaction, so a pool of writers read every page of each write afresh.
            pool = {"pool_size": 1, "max_overflow": 0, "pool_timeout": BUSY_TIMEOUT_SECONDS}
        if pool:
            # Waiters for a connection served in turn (the writers' one above especially).
            pool["poolclass"] = FairAsyncQueuePool
        engine = create_async_engine(
            sqlite_url(url, inline=read_only and inline, read_only=read_only),
            connect_args={"timeout": BUSY_TIMEOUT_SECONDS},
            **pool,
        )
        _tune_sqlite(engine, checkpoint_aside=":memory:" not in url and not read_only)
    else:
        engine = create_async_engine(
            url,
            poolclass=FairAsyncQueuePool,
            pool_size=settings.database_pool_size,
            max_overflow=10,
        )
        _skip_closed_connections(engine)
        _end_unsent_statements(engine)
    _connect_errors_are_outages(engine)
    return engine


def create_engine_unpooled(url: str) -> AsyncEngine:
    """For one-off commands (migrations, checks) that must not keep connections around."""
    engine = create_async_engine(sqlite_url(url), poolclass=NullPool)
    if url.startswith("sqlite"):
        _tune_sqlite(engine)
    return engine


class _WriterQueue:
    """This process's SQLite writers, in arrival order, and their turn among other processes'.

    Within a process, writers wait on an asyncio lock (one per event loop). Between
    processes (several workers, a command-line job), the holder of that lock also takes an
    exclusive ``flock`` on a file beside the database (``<database>-writers``) before
    ``BEGIN IMMEDIATE``. Without it, a second worker's writer found the database locked and
    slept in SQLite's busy handler (1, 2, 5, ... up to 100 ms between tries) while the first
    worker's writers handed the lock on among themselves, so some writes waited well over a
    second (bench/ANALYSIS.md, session 7). A blocked ``flock`` waits in a thread and is woken
    by the kernel the moment the holder lets go. The file lock only orders writers that would
    otherwise poll: SQLite's own lock still decides, so a writer without it (another program,
    a failed open) is as safe as before, only slower.

    Both are taken in the ``begin`` event just before ``BEGIN IMMEDIATE`` and given back
    once the transaction's ``COMMIT`` or ``ROLLBACK`` has returned (or its connection is
    dropped). The file lock goes first after a ``COMMIT``: in the connection's thread, the
    moment it returns, rather than when this event loop gets back to the transaction behind
    the other requests it has in hand (with 2 workers that wait held the other worker's
    writers up: likes 295-298 -> 318-332/s, bench/ANALYSIS.md, session 18)."""

    def __init__(self, lock_path: str | None, checkpoint_path: str | None = None) -> None:
        """``checkpoint_path``: the database file, whose WAL a ``_Checkpointer`` of each
        turn then copies back (the engine's connections must not: ``wal_autocheckpoint=0``)."""
        self._lock_path = lock_path
        self._checkpoint_path = checkpoint_path
        self._turns: WeakKeyDictionary[asyncio.AbstractEventLoop, _Turn] = WeakKeyDictionary()
        self._holders: dict[int, _Turn] = {}

    def acquire(self, dbapi_connection: Any) -> None:
        """Wait for our turn (called in SQLAlchemy's greenlet, so it may await)."""
        loop = asyncio.get_running_loop()
        turn = self._turns.get(loop)
        if turn is None:
            turn = self._turns[loop] = _Turn(self._lock_path)
            if self._checkpoint_path is not None:
                turn.checkpointer = _Checkpointer(self._checkpoint_path, turn, loop)
        await_only(turn.take(BUSY_TIMEOUT_SECONDS))
        self._holders[id(dbapi_connection)] = turn
        if isinstance(dbapi_connection, OneTripConnection):
            # Let the file lock go in the connection's thread as soon as COMMIT is done
            # (see the class's docstring).
            dbapi_connection.after_commit = turn.release_file

    def release(self, dbapi_connection: Any) -> None:
        turn = self._holders.pop(id(dbapi_connection), None)
        if isinstance(dbapi_connection, OneTripConnection):
            dbapi_connection.after_commit = None
        if turn is not None:
            turn.release()
            if turn.checkpointer is not None:
                turn.checkpointer.nudge()

    async def stop_checkpointers(self) -> None:
        """Stop every turn's checkpointer and wait for their threads to end."""
        checkpointers = [t.checkpointer for t in list(self._turns.values()) if t.checkpointer]
        for checkpointer in checkpointers:
            checkpointer.stop()
        for checkpointer in checkpointers:
            await asyncio.to_thread(checkpointer.join)


class _Checkpointer:
    """Copies one event loop's writes from the WAL back into the database file, in a thread
    of its own and outside the writers' turn.

    SQLite's automatic checkpoint runs inside the ``COMMIT`` that takes the WAL past 1,000
    frames, and the writers' turn is held until that ``COMMIT`` returns: about one like in
    twenty (each writes some 60 frames) spent 13-25 ms copying pages while every other
    writer waited, 80% of all the time spent in ``COMMIT`` (bench/ANALYSIS.md, session 20).
    Here the engine's connections do not checkpoint (``wal_autocheckpoint=0``), and this
    thread does, ``CHECKPOINT_PAUSE_SECONDS`` after the last turn ended (gathering the
    commits that come meanwhile), with a connection of its own and in ``PASSIVE`` mode,
    which never waits for readers or writers.

    A passive checkpoint copies only the frames written before it began, and SQLite starts
    the WAL again from the top only when a write transaction begins with every frame copied,
    so under writers that never pause the WAL would grow without end. Once it holds
    ``SEAL_FRAMES``, this loop's turn is therefore taken as a writer would take it (a seal).
    Before asking, the thread passes again while many frames came in during its last pass,
    and it keeps copying while the seal waits in the queue, so the seal's own pass, made with
    no writer running, has only the last few writes left to copy and sync. The next writer
    then starts the WAL afresh."""

    def __init__(self, database: str, turn: _Turn, loop: asyncio.AbstractEventLoop) -> None:
        self._database = database
        self._turn = turn
        # Weakly: the turn is kept by its loop's entry in a WeakKeyDictionary.
        self._loop = weakref.ref(loop)
        self._wake = threading.Event()
        self._passes = threading.Lock()  # one pass at a time on the one connection
        self._connection: sqlite3.Connection | None = None
        self._database_fd: int | None = None
        self._sealing = False
        self._seals = 0  # seals done: a pass that began before one ended asks for none
        self._stopping = threading.Event()
        self._seal_task: asyncio.Task[None] | None = None
        self._thread = threading.Thread(
            target=self._run, name="kizuna-sqlite-checkpoint", daemon=True
        )
        self._thread.start()

    def nudge(self) -> None:
        """A writer's turn has ended: copy its frames back soon."""
        self._wake.set()

    def stop(self) -> None:
        """Ask the thread to end (from any thread) and call off a seal that waits."""
        self._stopping.set()
        self._wake.set()
        task, loop = self._seal_task, self._loop()
        if task is not None and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(task.cancel)

    def join(self) -> None:
        self._thread.join(BUSY_TIMEOUT_SECONDS)

    def _checkpoint(self) -> tuple[int, int, int]:
        """One passive checkpoint: SQLite's (busy, frames in the WAL, frames copied)."""
        with self._passes:
            if self._connection is None:
                # mode=rw: a missing file stays missing (the server answers 503 for it).
                self._connection = sqlite3.connect(
                    f"file:{quote(self._database)}?mode=rw",
                    uri=True,
                    isolation_level=None,
                    check_same_thread=False,
                )
            busy, frames, copied = self._connection.execute(
                "PRAGMA wal_checkpoint(PASSIVE)"
            ).fetchone()
            if copied < frames:
                # SQLite syncs the database file only once a pass has copied every frame,
                # which would leave all of this pass's pages to the seal's sync, with the
                # writers shut out (19-41 ms measured): sync them now.
                self._sync_database()
            return int(busy), int(frames), int(copied)

    def _sync_database(self) -> None:
        if self._database_fd is None:
            self._database_fd = os.open(self._database, os.O_RDONLY | os.O_CLOEXEC)
        os.fsync(self._database_fd)

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                if self._sealing:
                    # Copy what the writers ahead of the seal add, so that little is left
                    # for its pass (a short rest keeps this thread off the GIL).
                    self._stopping.wait(CHECKPOINT_PAUSE_SECONDS / 50)
                else:
                    if not self._wake.wait(BUSY_TIMEOUT_SECONDS):
                        loop = self._loop()
                        if loop is None or loop.is_closed():
                            return
                        continue
                    self._wake.clear()
                    self._stopping.wait(CHECKPOINT_PAUSE_SECONDS)
                if self._stopping.is_set():
                    return
                seals = self._seals
                frames = self._pass()
                if not self._sealing:
                    frames = self._catch_up(frames)
                if frames >= SEAL_FRAMES and not self._sealing and seals == self._seals:
                    loop = self._loop()
                    if loop is None:
                        return  # its loop is gone: nobody writes any more
                    self._sealing = True
                    loop.call_soon_threadsafe(self._start_seal)
        except RuntimeError:  # the loop closed under a seal: nobody writes any more
            return
        finally:
            self._close()

    def _catch_up(self, frames: int) -> int:
        """Before a seal, pass again while the last pass took long enough for many frames to
        be written meanwhile, so that the seal's own pass has few left: the frames in the
        WAL after the last pass."""
        for _ in range(4):
            if frames < SEAL_FRAMES:
                break
            more = self._pass()
            written, frames = more - frames, more
            if written < SEAL_FRAMES // 10:
                break
        return frames

    def _pass(self) -> int:
        """A checkpoint from this thread: the frames in the WAL (0 if it failed)."""
        try:
            return self._checkpoint()[1]
        except (sqlite3.Error, OSError) as exc:
            # The file is gone or unreadable (the server answers 503 meanwhile): try again
            # after the next write, with a new connection.
            logger.warning("the WAL checkpoint of %s failed: %s", self._database, exc)
            self._close()
            return 0

    def _close(self) -> None:
        with self._passes:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
            if self._database_fd is not None:
                os.close(self._database_fd)
                self._database_fd = None

    def _start_seal(self) -> None:
        if self._stopping.is_set():
            self._sealing = False
            return
        self._seal_task = asyncio.get_running_loop().create_task(self._seal())

    async def _seal(self) -> None:
        try:
            await self._turn.take(BUSY_TIMEOUT_SECONDS)
        except OperationalError:
            self._sealing = False  # the turn stayed busy: try again after the next writes
            return
        except BaseException:
            self._sealing = False
            raise
        try:
            await asyncio.get_running_loop().run_in_executor(None, self._pass)
        finally:
            self._turn.release()
            self._seals += 1
            self._sealing = False
            self._seal_task = None


def _locked() -> OperationalError:
    return OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))


def _wait_for_file_lock(fd: int) -> asyncio.Future[None]:
    """Take the file lock in a thread of its own, for when another process holds it.

    A daemon thread, not an executor's: a wait given up at the busy timeout may still be
    blocked when the process exits, and an executor's threads are joined at exit, so the
    process could not stop until the other one let go. A thread that gets the lock after its
    event loop has closed lets go at once."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[None] = loop.create_future()

    def settle(error: BaseException | None) -> None:
        if future.done():
            return
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)

    def wait() -> None:
        error: BaseException | None = None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:
            error = exc
        try:
            loop.call_soon_threadsafe(settle, error)
        except RuntimeError:  # the loop is closed: nobody will use the lock
            if error is None:
                fcntl.flock(fd, fcntl.LOCK_UN)

    threading.Thread(target=wait, name="kizuna-sqlite-writer-wait", daemon=True).start()
    return future


class _Turn:
    """One event loop's writer lock and its descriptor of the writers' lock file (a
    descriptor of its own, so that two loops or engines in one process exclude each other)."""

    def __init__(self, lock_path: str | None) -> None:
        self.lock = asyncio.Lock()
        self.checkpointer: _Checkpointer | None = None
        self._path = lock_path
        self._fd: int | None = None
        self._held = False

    def release(self) -> None:
        self.release_file()
        self.lock.release()

    def _descriptor(self) -> int | None:
        if self._fd is None and self._path is not None:
            try:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as exc:
                # A read-only directory, say: SQLite's busy handler still queues writers.
                logger.warning("no writers' lock file at %s (%s)", self._path, exc)
                self._path = None
        return self._fd

    async def take(self, timeout: float) -> None:
        """The loop's lock, then the file's, within ``timeout`` seconds in all. Both are
        taken without suspending when free (``asyncio.timeout`` rather than ``wait_for``,
        which would wrap the wait in a task of its own)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            async with asyncio.timeout(timeout):
                await self.lock.acquire()
        except TimeoutError as exc:
            # Someone held the lock past the busy timeout: answer as SQLite itself would.
            raise _locked() from exc
        try:
            await self._take_file(deadline - loop.time())
        except BaseException:
            self.lock.release()
            raise

    async def _take_file(self, timeout: float) -> None:
        fd = self._descriptor()
        if fd is None:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waiting = _wait_for_file_lock(fd)
            try:
                await asyncio.wait_for(asyncio.shield(waiting), max(timeout, 0.0))
            except BaseException as exc:
                # Given up (timed out or cancelled): the thread still waits, so let go as
                # soon as it gets the lock, unless the next writer of this loop has taken it
                # meanwhile (the same descriptor: its lock is this one).
                waiting.add_done_callback(lambda done: self._abandoned(done, fd))
                if isinstance(exc, TimeoutError):
                    raise _locked() from exc
                raise
        self._held = True

    def _abandoned(self, done: asyncio.Future[None], fd: int) -> None:
        if not done.cancelled() and done.exception() is None and not self._held:
            self._unlock(fd)

    def release_file(self) -> None:
        if self._held and self._fd is not None:
            self._held = False
            self._unlock(self._fd)

    @staticmethod
    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


# A request's write transaction on SQLite may end without its own COMMIT: with other writers
# of the process already queued for the connection, it stays open and the next one goes on
# in a savepoint of it, and the one COMMIT of the group answers for them all (see
# :func:`commit_shared`). At most this many requests share one.
GROUP_LIMIT = 16
_MEMBER_BASE = "BEGIN"
_MEMBER_SAVEPOINT = "SAVEPOINT"
_SAVEPOINT = "kizuna_member"


class _Pending:
    """A request's share in a group COMMIT: set by the commit that joined a group."""

    __slots__ = ("future",)

    def __init__(self) -> None:
        self.future: asyncio.Future[None] | None = None


_SHARING: ContextVar[_Pending | None] = ContextVar("kizuna_shared_commit", default=None)


class _Group:
    """The requests whose writes wait for one COMMIT, as futures their requests await."""

    __slots__ = ("futures",)

    def __init__(self) -> None:
        self.futures: list[asyncio.Future[None]] = []

    def join(self) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.futures.append(future)
        return future

    def settle(self, error: BaseException | None) -> None:
        for future in self.futures:
            if future.done():
                continue
            if error is None:
                future.set_result(None)
            else:
                # Each request raises an error of its own (one exception object raised in
                # several tasks would gather their tracebacks).
                future.set_exception(
                    OperationalError("COMMIT", None, sqlite3.OperationalError(str(error)))
                )


async def commit_shared(session: AsyncSession) -> None:
    """Commit a request's session, on SQLite in a COMMIT it may share, and return once its
    writes are stored.

    If other requests of this process are waiting for the writers' connection when a write
    transaction ends, its COMMIT is put off: the transaction stays open, the next writer
    goes on in a savepoint of it (``SAVEPOINT``; a request that fails rolls back to it, and
    the others' writes stay), and the group's one COMMIT is made once nobody is waiting (or
    :data:`GROUP_LIMIT` requests have joined). Each request waits for that COMMIT before it
    answers, so a success still means stored, and an error of that COMMIT reaches every
    request of the group. Everywhere else (PostgreSQL, jobs' transactions, in-memory
    databases) this is ``session.commit()``."""
    pending = _Pending()
    token = _SHARING.set(pending)
    try:
        await session.commit()
    finally:
        _SHARING.reset(token)
    if pending.future is not None:
        await pending.future


def _tune_sqlite(engine: AsyncEngine, *, checkpoint_aside: bool = False) -> None:
    """``checkpoint_aside``: the WAL is copied back by a ``_Checkpointer`` of each turn, not by
    the engine's connections (for engines whose every write takes a turn, on one pooled
    connection: their request transactions may then share a COMMIT, see
    :func:`commit_shared`)."""
    database = _database_path(engine)
    checkpoint_path = database if checkpoint_aside else None
    writers = _WriterQueue(None if database is None else f"{database}-writers", checkpoint_path)
    _QUEUES[engine.sync_engine] = writers
    dialect = engine.sync_engine.dialect
    do_commit, do_rollback = dialect.do_commit, dialect.do_rollback
    pool = engine.sync_engine.pool
    sharing = checkpoint_aside and isinstance(pool, FairAsyncQueuePool)

    def finish_group(raw: OneTripConnection, group: _Group, commit: Callable[[], None]) -> None:
        """The group's COMMIT (``commit``), then its requests told, then the turn given back."""
        raw.group = None
        try:
            commit()
        except BaseException as exc:
            group.settle(exc)
            # Nothing of the group is kept, and the next writer must find no transaction.
            if raw._connection._connection and raw._connection._conn.in_transaction:
                raw.rollback()
            raise
        finally:
            writers.release(raw)
        group.settle(None)

    def lose_group(raw: OneTripConnection) -> None:
        """The group's transaction is gone (rolled back by SQLite, the connection dropped):
        its requests learn that their writes were not stored."""
        group, raw.group, raw.member = raw.group, None, None
        if group is not None:
            group.settle(OperationalError("COMMIT", None, sqlite3.OperationalError("rolled back")))

    def commit_then_release(dbapi_connection: Any) -> None:
        raw = _raw(dbapi_connection)
        group = getattr(raw, "group", None)
        if isinstance(raw, OneTripConnection):
            if raw.member == _MEMBER_SAVEPOINT:
                raw.run_here(f"RELEASE {_SAVEPOINT}")
            raw.member = None
            pending = _SHARING.get()
            if (
                sharing
                and pending is not None
                and raw.holds_write_lock
                and (group is None or len(group.futures) < GROUP_LIMIT - 1)
            ):
                # Put off: the next writer in line goes on in this transaction, and the
                # COMMIT comes when the connection is given back with nobody in line
                # (close_idle_group).
                if group is None:
                    group = raw.group = _Group()
                pending.future = group.join()
                return
        if group is None:
            try:
                do_commit(dbapi_connection)
            finally:
                writers.release(raw)
            return
        finish_group(raw, group, lambda: do_commit(dbapi_connection))

    def rollback_then_release(dbapi_connection: Any) -> None:
        raw = _raw(dbapi_connection)
        group = getattr(raw, "group", None)
        if group is not None:
            if raw.member is None:
                return  # the pool's reset between two requests of the group: nothing to undo
            if raw.member == _MEMBER_SAVEPOINT and raw._connection._conn.in_transaction:
                raw.member = None
                raw.run_here(f"ROLLBACK TO {_SAVEPOINT}")
                raw.run_here(f"RELEASE {_SAVEPOINT}")
                return  # this request's writes undone; the group's stay and go on
            lose_group(raw)
        if isinstance(raw, OneTripConnection):
            raw.member = None
        try:
            do_rollback(dbapi_connection)
        finally:
            writers.release(raw)

    def close_idle_group(record: Any) -> None:
        """The writers' connection goes back with nobody in line: its group's COMMIT now
        (a trip to the connection's thread where the caller can await, else right here)."""
        raw = _raw(record.dbapi_connection) if record.dbapi_connection is not None else None
        group = getattr(raw, "group", None)
        if raw is None or group is None:
            return
        try:
            finish_group(raw, group, raw.commit if in_greenlet() else raw.commit_here)
        except Exception:
            # Each request of the group raises it where it waits for the COMMIT.
            logger.warning("a shared COMMIT failed", exc_info=True)

    # The dialect's own commit/rollback, wrapped on this engine's dialect instance only: the
    # connection events fire *before* COMMIT runs, and the next writer would then meet a
    # still-locked database and fall back to the busy handler's sleeps.
    setattr(dialect, "do_commit", commit_then_release)  # noqa: B010
    setattr(dialect, "do_rollback", rollback_then_release)  # noqa: B010
    if sharing:
        cast(FairAsyncQueuePool, pool).before_idle(close_idle_group)

    @event.listens_for(pool, "invalidate")
    @event.listens_for(pool, "close")
    def _on_drop(dbapi_connection: Any, *_args: Any) -> None:
        if getattr(dbapi_connection, "group", None) is not None:
            lose_group(dbapi_connection)
        writers.release(dbapi_connection)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself, so it can say IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if checkpoint_path is not None:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        if mode == _NO_BEGIN:
            return  # each statement its own transaction (sqlite3 never begins one itself)
        dbapi_connection = connection.connection.dbapi_connection
        if isinstance(dbapi_connection, OneTripConnection) and dbapi_connection.group is not None:
            # A group's transaction is open and holds the turn: go on in a savepoint of it.
            dbapi_connection.run_here(f"SAVEPOINT {_SAVEPOINT}")
            dbapi_connection.member = _MEMBER_SAVEPOINT
            return
        if mode != "IMMEDIATE":
            if isinstance(dbapi_connection, InlineConnection):
                # A read on the loop's thread: straight to sqlite3, as its other statements.
                dbapi_connection.begin_deferred()
            else:
                connection.exec_driver_sql(f"BEGIN {mode}")
            return
        writers.acquire(dbapi_connection)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writers.release(dbapi_connection)
            raise
        if isinstance(dbapi_connection, OneTripConnection):
            dbapi_connection.member = _MEMBER_BASE


def _database_path(engine: AsyncEngine) -> str | None:
    """The SQLite database file's path (None in memory)."""
    database = (engine.url.database or "").removeprefix("file:")
    if not database or database == ":memory:" or "mode=memory" in str(engine.url):
        return None
    return database


async def stop_checkpointers(engine: AsyncEngine) -> None:
    """Stop the engine's WAL checkpointers (before disposing of it)."""
    writers = _QUEUES.get(engine.sync_engine)
    if writers is not None:
        await writers.stop_checkpointers()


def _raw(connection: Any) -> Any:
    """The DBAPI connection behind a pool's proxy (or the connection itself)."""
    return getattr(connection, "dbapi_connection", None) or connection


def _skip_closed_connections(engine: AsyncEngine) -> None:
    """PostgreSQL: a pooled connection the server has closed (a restart, a failover, an
    administrator's terminate) is replaced at checkout, so the request after an outage does
    not fail on it. asyncpg notices the server closing the socket as soon as the event loop
    reads it, so asking the connection costs nothing; SQLAlchemy's ``pool_pre_ping`` asked
    the server instead (BEGIN, a ping and ROLLBACK: three round trips), which measured 0.7 ms
    of every 4-6 ms page. Raising DisconnectionError makes the pool discard the connection
    and take or open another (up to three times); a connection that dies in use still
    invalidates the pool, and that request answers 503 as every outage does."""

    @event.listens_for(engine.sync_engine.pool, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("the server closed this pooled connection")


def _end_unsent_statements(engine: AsyncEngine) -> None:
    """PostgreSQL: a statement asyncpg refused to send leaves no half-open protocol behind.

    asyncpg prepares a statement (Parse, Describe) without ending the exchange, and sends the
    rest (Bind, Execute, Sync) when it runs it. If it then refuses an argument (a number too
    wide for its column: "invalid input for query argument"), nothing more is sent: the
    server keeps the implicit transaction the Parse opened, with its locks on the statement's
    tables, until that connection's next statement. A pooled connection may wait long for
    one, while a migration's ``ALTER TABLE`` (or a ``TRUNCATE``) waits behind those locks and
    vacuum behind that transaction. Here such a refusal is followed by a statement of our
    own, which ends the exchange; the error then goes on as it was."""

    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        refused = context.original_exception
        cause = getattr(refused, "__cause__", None) or refused
        if context.connection is None or "invalid input for query argument" not in str(cause):
            return
        driver = getattr(context.connection.connection, "driver_connection", None)
        if driver is not None and not driver.is_closed():
            await_only(driver.execute("SELECT 1"))


def _connect_errors_are_outages(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        # No connection yet: the error happened while connecting (server down, database
        # dropped or not accepting connections, file missing). Marking it a disconnect makes
        # it a DBAPIError with connection_invalidated, which the app answers with 503.
        if context.connection is None and isinstance(context.sqlalchemy_exception, DBAPIError):
            context.is_disconnect = True


TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock detected


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot be reached now (answer 503 and retry later)
    rather than a bug (500)."""
    if isinstance(exc, OperationalError | SQLAlchemyTimeoutError):
        # SQLite: cannot open the file, locked past the busy timeout, disk I/O; or a pool
        # that stayed exhausted.
        return True
    if isinstance(exc, DBAPIError):
        # PostgreSQL chose this transaction as a deadlock victim or could not serialize it:
        # nothing was kept, and the same request will succeed if sent again.
        if getattr(exc.orig, "sqlstate", None) in TRANSIENT_SQLSTATES:
            return True
        return exc.connection_invalidated
    return isinstance(exc, ConnectionError | TimeoutError)


class Database:
    """Holds the engines and two session factories: deferred reads and locking writes.

    On a SQLite file, reads have an engine of their own whose connections refuse writes and
    run statements on the event loop's thread (see app.kit.sqlite_driver); elsewhere both
    factories share one engine."""

    def __init__(self, settings: Settings, *, create: bool = True) -> None:
        self.settings = settings
        self.engine = create_engine(settings, create=create)
        self.is_sqlite = settings.is_sqlite
        self.read_engine = self.engine
        self._kept_reader: KeptReader | None = None
        self.jobs_engine = self.engine
        reader: AsyncEngine = self.engine
        snapshot: AsyncEngine = self.engine
        if self.is_sqlite and ":memory:" not in settings.resolved_database_url:
            self.read_engine = create_engine(settings, create=create, read_only=True)
            # A request's reads begin no transaction: each statement reads the latest commit,
            # as on PostgreSQL below, and the reads that skip SQLAlchemy share one kept
            # connection (app.kit.sql.KeptReader).
            self._kept_reader = KeptReader(self.read_engine)
            reader = self.read_engine.execution_options(
                **{_BEGIN_OPTION: _NO_BEGIN, READER_OPTION: self._kept_reader}
            )
            # The jobs' reads run in their connections' threads: the score batch's read of
            # the rollups took a tenth of the event loop's time under a stream of likes,
            # time the requests now have (bench/ANALYSIS.md, session 39).
            self.jobs_engine = snapshot = create_engine(
                settings, create=create, read_only=True, inline=False
            )
        elif not self.is_sqlite:
            # PostgreSQL reads run in autocommit: no BEGIN and COMMIT round trips around a
            # page's queries. Nothing is lost: under READ COMMITTED each statement takes its
            # own snapshot inside a transaction too, and a read session never writes (on
            # SQLite its connections refuse to, so every test proves it).
            reader = snapshot = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._read = async_sessionmaker(reader, expire_on_commit=False, autoflush=False)
        self._snapshot = async_sessionmaker(snapshot, expire_on_commit=False, autoflush=False)
        writer = self.engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
        self._write = async_sessionmaker(writer, expire_on_commit=False, autoflush=False)

    def session(self, *, write: bool) -> AsyncSession:
        """A request's session: a write transaction, or reads that each see the latest
        commit."""
        return (self._write if write else self._read)()

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A unit of work outside a request (CLI, background jobs, side writes on GET). Its
        reads (``write=False``) on SQLite see one moment: a transaction from the first
        statement to the end, which a job computing from several reads can rely on (the
        score batch, app.analytics.service)."""
        async with (self._write if write else self._snapshot)() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            await run_after_commit(session)

    async def dispose(self) -> None:
        if self._kept_reader is not None:
            await self._kept_reader.close()
        await stop_checkpointers(self.engine)
        await self.engine.dispose()
        for engine in {self.read_engine, self.jobs_engine} - {self.engine}:
            await engine.dispose()


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Queue a side effect (live push, mail, webhook) to run only once the transaction commits."""
    session.info.setdefault("after_commit", []).append(callback)


async def run_after_commit(session: AsyncSession) -> None:
    callbacks: list[AfterCommit] = session.info.pop("after_commit", [])
    for callback in callbacks:
        try:
            await callback()
        except Exception:
            # The data is committed; a failed push or mail must not turn success into an error.
            logger.exception("after-commit side effect failed")


def discard_after_commit(session: AsyncSession) -> None:
    session.info.pop("after_commit", None)


_current: Database | None = None


def set_database(database: Database | None) -> None:
    global _current
    _current = database


def get_database() -> Database:
    """The process's database, for work that runs outside a request (after-commit jobs)."""
    if _current is None:
        raise RuntimeError("the database is not open: create_app()'s lifespan opens it")
    return _current
