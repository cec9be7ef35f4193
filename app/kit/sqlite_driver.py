"""SQLAlchemy's aiosqlite dialect without most of its trips to the connection's thread.

aiosqlite runs each SQLite connection in a thread of its own, and every call on it is a trip
there and back: a queue put, a thread wake-up, a loop wake-up through the self-pipe, then a
hand-over of the GIL. The stock adapter makes four trips per statement (open a cursor,
execute, fetch the rows, close the cursor). Under 16 concurrent requests that hand-over cost
more than the queries themselves: py-spy put 42% of a topic page's server samples in the
SQLite thread for a query that takes 0.1-0.5 ms.

- A statement that may have to wait for a lock makes one trip: one function runs the four
  steps in the thread and hands back the rows, the description, the row count and the last
  row id together. That is ``BEGIN IMMEDIATE`` when the write lock is taken (it waits in
  the busy handler for the other writer), ``COMMIT``, and every statement of a deferred
  transaction on a writing connection (command-line jobs: its first write may wait).
- The statements of the jobs' read-only connections (``read_only=True`` in
  :func:`sqlite_url`) make that trip too: the score batch reads the rollups of a hundred
  members at a time (11 ms for their 180 days of signals at 100,000 members), and in the
  connection's thread that read leaves the event loop, and the GIL, to the requests.
- Every other statement runs on the event loop's own thread, with no trip at all: the
  statements of a read-only connection (``inline=True`` in :func:`sqlite_url`, the app's
  read sessions; a read in WAL mode never waits for a lock, and ``PRAGMA query_only`` makes
  sure nothing on them ever writes), ``BEGIN IMMEDIATE`` itself when the write lock is free
  (tried once with no busy wait, see :meth:`OneTripConnection.begin_at_once`; the app's
  writers take turns before it, app.db), the statements of a write transaction once it
  holds the write lock, and rollbacks, which only let go.

The ``COMMIT`` keeps its trip on purpose. On the loop's thread it waits for nobody, but a
write transaction would then never yield to the loop from its ``BEGIN`` to its end, and a
coroutine that awaits many times (the score batch after a commit) would wait a whole round
of the other requests at each await: with 1 worker, reply and accept p99 went to 1.1-2.5 s
against 0.36-0.57 s with the trip, for the same throughput (bench/ANALYSIS.md, session 8).
SQLite's automatic checkpoint, which runs inside the ``COMMIT`` now and then, also stays off
the loop's thread that way.

Counted: 13.6 trips per topic page -> 0; about 40 per like -> 4 (BEGIN and COMMIT of the
like's transaction and of the after-commit score refresh's) -> 2 (the COMMITs) while no other
process holds the write lock. Nothing else changes: same SQL,
same transactions, same errors (sqlite3's exceptions, which aiosqlite re-exports, are raised
and translated by SQLAlchemy as before). Server-side cursors (``stream()``) keep the
stock behaviour. :func:`sqlite_url` points a ``sqlite+aiosqlite`` URL at one of these
dialects; any other URL is returned unchanged.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.engine import make_url
from sqlalchemy.util import await_

DRIVER = "kizuna_aiosqlite"
INLINE_DRIVER = "kizuna_aiosqlite_inline"
READ_ONLY_DRIVER = "kizuna_aiosqlite_read_only"


class _Outcome:
    """Stands in for aiosqlite's cursor: what the last statement reported, gathered in the
    connection's thread (the adapter reads ``description``, ``rowcount``, ``lastrowid``)."""

    __slots__ = ("arraysize", "description", "lastrowid", "rowcount")

    def __init__(self) -> None:
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    def close(self) -> None:
        """Nothing to close: the sqlite3 cursor is closed in the thread after each statement."""


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()
    _awaitable_cursor_close = False

    def _make_new_cursor(self, connection: Any) -> Any:
        return _Outcome()

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor

    async def _run(self, operation: str, call: Callable[[Any], None]) -> None:
        outcome: _Outcome = self._cursor  # type: ignore[assignment]
        adapted: OneTripConnection = self._adapt_connection  # type: ignore[assignment]
        driver = self._connection

        def in_driver() -> list[Any] | None:
            cursor = driver._conn.cursor()
            try:
                call(cursor)
                outcome.description = cursor.description
                rows = cursor.fetchall() if cursor.description else None
                outcome.rowcount = cursor.rowcount
                outcome.lastrowid = cursor.lastrowid
                return rows
            finally:
                cursor.close()

        if adapted.inline or (adapted.holds_write_lock and driver._conn.in_transaction):
            rows = in_driver()
        elif operation == "BEGIN IMMEDIATE" and adapted.begin_at_once(in_driver):
            rows = None
        else:
            async with adapted._execute_mutex:
                rows = await driver._execute(in_driver)
            if operation.startswith("BEGIN"):
                adapted.holds_write_lock = operation.startswith("BEGIN IMMEDIATE")
        self._rows = collections.deque(rows) if rows is not None else collections.deque()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        if parameters is None:
            await self._run(operation, lambda cursor: cursor.execute(operation))
        else:
            await self._run(operation, lambda cursor: cursor.execute(operation, parameters))
        return self

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        await self._run(operation, lambda cursor: cursor.executemany(operation, seq_of_parameters))
        return self


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    # holds_write_lock: whether the open transaction began with BEGIN IMMEDIATE (read while
    # in_transaction). busy_ms: the connection's busy timeout, read at its first BEGIN.
    # after_commit: called in the connection's thread as soon as the open transaction's
    # COMMIT succeeds (app.db lets other processes' writers go on there). group and member:
    # app.db's shared COMMIT (the open group, and how the present transaction began).
    __slots__ = ("after_commit", "busy_ms", "group", "holds_write_lock", "member")
    _cursor_cls = OneTripCursor
    inline = False
    reads_in_thread = False

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.holds_write_lock = False
        self.busy_ms: int | None = None
        self.after_commit: Callable[[], None] | None = None
        self.group: Any = None
        self.member: str | None = None

    def commit(self) -> None:
        then, self.after_commit = self.after_commit, None
        if then is None or not self._connection._connection:
            super().commit()
            return
        conn = self._connection._conn

        def commit_then() -> None:
            conn.commit()
            then()

        try:
            await_(self._connection._execute(commit_then))
        except Exception as error:
            self._handle_exception(error)

    def run_here(self, sql: str) -> None:
        """A statement with no rows (``SAVEPOINT``, ``RELEASE``...) on the calling thread."""
        self._connection._conn.execute(sql)

    def commit_here(self) -> None:
        """:meth:`commit` on the calling thread (where no greenlet can await the trip)."""
        then, self.after_commit = self.after_commit, None
        self._connection._conn.commit()
        if then is not None:
            then()

    def begin_at_once(self, begin: Callable[[], Any]) -> bool:
        """Run ``begin`` (``BEGIN IMMEDIATE``) on this thread with the busy timeout off for
        that one statement: True if it took the write lock, False if another connection
        holds it (the caller then waits in the thread, with the busy timeout back on)."""
        conn = self._connection._conn
        if self.busy_ms is None:
            self.busy_ms = int(conn.execute("PRAGMA busy_timeout").fetchone()[0])
        conn.execute("PRAGMA busy_timeout=0")
        try:
            begin()
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF != sqlite3.SQLITE_BUSY:
                raise
            return False
        finally:
            conn.execute(f"PRAGMA busy_timeout={self.busy_ms}")
        self.holds_write_lock = True
        return True

    def rollback(self) -> None:
        # Inline: a rollback only lets go (and the pool rolls back every connection it takes
        # back, so a trip here would be one more per transaction).
        if self._connection._connection:
            self._connection._conn.rollback()


class ThreadReadConnection(OneTripConnection):
    """A read-only connection whose statements all run in its thread (the jobs' reads);
    app.kit.sql sends its reads that skip SQLAlchemy there too."""

    __slots__ = ()
    reads_in_thread = True


class InlineConnection(OneTripConnection):
    """Statements and commits on the calling thread too (read-only connections)."""

    __slots__ = ()
    inline = True

    def commit(self) -> None:
        if self._connection._connection:
            self._connection._conn.commit()

    def begin_deferred(self) -> None:
        """The read transaction's ``BEGIN``, straight on sqlite3 (nothing to wait for)."""
        self._connection._conn.execute("BEGIN DEFERRED")


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    connection_cls: type[OneTripConnection] = OneTripConnection

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        # Opened in aiosqlite's thread, then also used from the event loop's.
        kw["check_same_thread"] = False
        stock = super().connect(*arg, **kw)
        return self.connection_cls(self, stock._connection)


class InlineDBAPI(OneTripDBAPI):
    connection_cls = InlineConnection


class ThreadReadDBAPI(OneTripDBAPI):
    connection_cls = ThreadReadConnection


class OneTripDialect(SQLiteDialect_aiosqlite):
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> OneTripDBAPI:  # type: ignore[override]
        return OneTripDBAPI(__import__("aiosqlite"), __import__("sqlite3"))


class ReadOnlyDialect(OneTripDialect):
    """Connections that refuse writes (``PRAGMA query_only``), their statements run in the
    connection's thread (the jobs' reads: a long read there leaves the event loop free)."""

    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> OneTripDBAPI:  # type: ignore[override]
        return ThreadReadDBAPI(__import__("aiosqlite"), __import__("sqlite3"))

    def on_connect(self) -> Any:
        stock = super().on_connect()

        def read_only(connection: Any) -> None:
            if stock is not None:
                stock(connection)
            cursor = connection.cursor()
            cursor.execute("PRAGMA query_only = ON")
            cursor.close()

        return read_only


class InlineDialect(ReadOnlyDialect):
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> OneTripDBAPI:  # type: ignore[override]
        return InlineDBAPI(__import__("aiosqlite"), __import__("sqlite3"))


registry.register(f"sqlite.{DRIVER}", __name__, "OneTripDialect")
registry.register(f"sqlite.{INLINE_DRIVER}", __name__, "InlineDialect")
registry.register(f"sqlite.{READ_ONLY_DRIVER}", __name__, "ReadOnlyDialect")


def sqlite_url(url: str, *, inline: bool = False, read_only: bool = False) -> str:
    """``url`` served by one of these dialects when it names aiosqlite (``inline``: the
    read-only one on the calling thread; ``read_only``: the read-only one in the connection's
    thread); otherwise unchanged."""
    parsed = make_url(url)
    if parsed.drivername != "sqlite+aiosqlite":
        return url
    driver = INLINE_DRIVER if inline else READ_ONLY_DRIVER if read_only else DRIVER
    return parsed.set(drivername=f"sqlite+{driver}").render_as_string(hide_password=False)
