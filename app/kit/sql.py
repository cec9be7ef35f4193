"""Small SQL helpers that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

T = TypeVar("T")


def dialect_name(session: AsyncSession | Session) -> str:
    return session.get_bind().dialect.name


def insert(session: AsyncSession | Session, table: Any) -> Any:
    """An INSERT that knows ON CONFLICT for the session's database."""
    if dialect_name(session) == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


_PREBUILT: dict[tuple[str, Hashable], Any] = {}


def prebuilt(session: AsyncSession | Session, key: Hashable, build: Callable[[Any], Any]) -> Any:
    """A statement built once per database kind and ``key``, with bound parameters for what
    varies: executed with a parameter dict, it skips building the expression and hashing it
    for SQLAlchemy's compiled cache (on a hot write path that was most of a statement's cost).
    ``build`` gets the dialect's ``insert`` (with ON CONFLICT); give it a Table, not a mapped
    class, or the parameters would be taken for an ORM bulk insert's rows."""
    dialect = dialect_name(session)
    statement = _PREBUILT.get((dialect, key))
    if statement is None:
        statement = build(postgresql.insert if dialect == "postgresql" else sqlite.insert)
        _PREBUILT[(dialect, key)] = statement
    return statement


async def execute_core(session: AsyncSession, statement: Any, params: Any = None) -> Any:
    """Execute ``statement`` on the session's connection, as Core: no ORM bookkeeping per
    statement (on the hot paths that bookkeeping cost more than the SQL). Pending ORM changes
    are flushed first, as the session's own execute would. Rows changed this way are not
    refreshed in the session's identity map: callers that change rows which may be loaded
    there (members) set the new values themselves (:func:`sync_loaded`)."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    return await (await _connection(session)).execute(statement, params)


_CONNECTION = "kit.sql.connection"


async def _connection(session: AsyncSession) -> AsyncConnection:
    """The session's connection for its current transaction, asked for once per transaction
    (each ``session.connection()`` is a trip through the greenlet bridge, which cost about a
    third of a prebuilt statement's time). A transaction that failed is no longer active:
    the session itself is asked again, and says why it cannot go on."""
    sync_session = session.sync_session
    root = sync_session.get_transaction()
    kept: tuple[Any, AsyncConnection] | None = sync_session.info.get(_CONNECTION)
    if kept is not None and kept[0] is root and root is not None and root.is_active:
        return kept[1]
    connection = await session.connection()
    sync_session.info[_CONNECTION] = (sync_session.get_transaction(), connection)
    return connection


async def run_prebuilt(
    session: AsyncSession, key: Hashable, build: Callable[[Any], Any], params: Any
) -> Any:
    """Execute a :func:`prebuilt` statement with :func:`execute_core`."""
    return await execute_core(session, prebuilt(session, key, build), params)


def sync_loaded(session: AsyncSession, model: Any, row_id: Any, values: Mapping[str, Any]) -> None:
    """A row changed under the session (by :func:`run_prebuilt`): if the session holds that
    row's object, it shows the new values, as they are now committed-to-be."""
    loaded = session.identity_map.get(identity_key(model, row_id))
    if loaded is not None:
        for name, value in values.items():
            set_committed_value(loaded, name, value)


def loaded(session: AsyncSession, model: type[T], row_id: Any) -> T | None:
    """The row's object if the session holds it with every column loaded (so reading it
    costs no query, and cannot trigger a lazy load, which async sessions refuse)."""
    found = session.identity_map.get(identity_key(model, row_id))
    if isinstance(found, model) and not inspect(found).unloaded:
        return found
    return None
