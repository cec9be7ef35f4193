"""SQLAlchemy's aiosqlite dialect, with one trip to the connection's thread per statement.

aiosqlite runs each SQLite connection in a thread of its own, and every call on it is a trip
there and back: a queue put, a thread wake-up, a loop wake-up through the self-pipe. The stock
adapter makes four such trips per statement (open a cursor, execute, fetch the rows, close
the cursor), so a like, which runs about 40 statements, spent 160 trips waiting on the loop.
Here one function does all four in the connection's thread and hands back the rows, the
description, the row count and the last row id together.

Nothing else changes: same SQL, same transactions, same errors (sqlite3's exceptions, which
aiosqlite re-exports, are raised and translated by SQLAlchemy as before). Server-side cursors
(``stream()``) keep the stock behaviour. :func:`sqlite_url` points a ``sqlite+aiosqlite`` URL
at this dialect; any other URL is returned unchanged.
"""

from __future__ import annotations

import collections
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

DRIVER = "kizuna_aiosqlite"


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

    async def _run(self, call: Callable[[Any], None]) -> None:
        outcome: _Outcome = self._cursor  # type: ignore[assignment]
        driver = self._connection

        def in_thread() -> list[Any] | None:
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

        async with self._adapt_connection._execute_mutex:
            rows = await driver._execute(in_thread)
        self._rows = collections.deque(rows) if rows is not None else collections.deque()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        if parameters is None:
            await self._run(lambda cursor: cursor.execute(operation))
        else:
            await self._run(lambda cursor: cursor.execute(operation, parameters))
        return self

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        await self._run(lambda cursor: cursor.executemany(operation, seq_of_parameters))
        return self


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        stock = super().connect(*arg, **kw)
        return OneTripConnection(self, stock._connection)


class OneTripDialect(SQLiteDialect_aiosqlite):
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> OneTripDBAPI:  # type: ignore[override]
        return OneTripDBAPI(__import__("aiosqlite"), __import__("sqlite3"))


registry.register(f"sqlite.{DRIVER}", __name__, "OneTripDialect")


def sqlite_url(url: str) -> str:
    """``url`` served by this dialect when it names aiosqlite; otherwise unchanged."""
    parsed = make_url(url)
    if parsed.drivername != "sqlite+aiosqlite":
        return url
    return parsed.set(drivername=f"sqlite+{DRIVER}").render_as_string(hide_password=False)
