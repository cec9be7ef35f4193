"""Small SQL helpers that differ between SQLite and PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    Numeric,
    String,
    Text,
    TypeDecorator,
    bindparam,
    cast,
    func,
    inspect,
    literal_column,
)
from sqlalchemy import exc as exc_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict, set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.sqltypes import NullType, _Binary
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.util import greenlet_spawn

T = TypeVar("T")


def dialect_name(session: AsyncSession | Session) -> str:
    return _dialect(session).name


def _dialect(session: AsyncSession | Session) -> Dialect:
    # The app's sessions are made with their engine; asking get_bind() cost 2% of a like.
    bind = session.bind
    return (bind if bind is not None else session.get_bind()).dialect


_DATABASE_KEYS: WeakKeyDictionary[Engine, str] = WeakKeyDictionary()


def database_key(engine: Engine) -> str:
    """Names the database an engine reaches (its URL, password hidden), for what a process
    keeps per database. Kept per engine: rendering the URL cost 9% of the score batch."""
    key = _DATABASE_KEYS.get(engine)
    if key is None:
        key = _DATABASE_KEYS[engine] = str(engine.url)
    return key


def insert(session: AsyncSession | Session, table: Any) -> Any:
    """An INSERT that knows ON CONFLICT for the session's database."""
    if dialect_name(session) == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def page_limit(count: int, *, sqlite: bool) -> int | ColumnElement[int]:
    """The LIMIT of a list's statement built once per value of ``count`` (its page size).

    On PostgreSQL it is written into the statement's text. PostgreSQL plans a prepared
    statement once for all its executions (a generic plan) only where it expects that plan to
    cost no more than one made for the values given; with the LIMIT a parameter it costs the
    generic plan for a tenth of the rows, so a page's statement was planned afresh at every
    execution (the topic list: 0.5 ms of planning for 0.3 ms of execution).

    On SQLite it stays a bound parameter: with the LIMIT written in, SQLite's planner read the
    home page's list category by category and sorted every topic it found (20,000 at full
    scale: 57 ms of a 60 ms page) instead of walking the activity index and stopping after a
    page (the whole page 2 ms; bench/ANALYSIS.md, session 35)."""
    return count if sqlite else literal_column(str(int(count)), Integer)


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
    return await (await _flushed_connection(session)).execute(statement, params)


async def _flushed_connection(session: AsyncSession) -> AsyncConnection:
    # The session's own test for "nothing to flush" (``session.new``, ``.dirty`` and
    # ``.deleted`` each build a set of objects, at every statement: 3% of a like).
    if not session.sync_session._is_clean():
        await session.flush()
    return await _connection(session)


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
    """Execute a :func:`prebuilt` statement with :func:`execute_core` (a list of parameter
    dicts: one executemany); straight on the driver where it can: on SQLite once the
    transaction holds the write lock (:func:`_run_on_driver`), on PostgreSQL's asyncpg
    (:func:`_run_on_asyncpg`)."""
    statement = prebuilt(session, key, build)
    connection = await _flushed_connection(session)
    ran = _run_on_driver(connection, key, statement, params, reads=False, writes=True)
    if ran is None:
        ran = await _run_on_asyncpg(connection, key, statement, params)
    if ran is None:
        return await connection.execute(statement, params)
    plan, rows = ran
    if plan.converts_rows:
        rows = [plan.convert(row) for row in rows]
    return IteratorResult(plan.metadata, iter(rows))


async def read_prebuilt(
    session: AsyncSession, key: Hashable, build: Callable[[Any], Any], params: dict[str, Any]
) -> list[tuple[Any, ...]]:
    """Every row of a :func:`prebuilt` read, as tuples of SQLAlchemy's values: straight from
    the driver where :func:`driver_rows` can, else through :func:`execute_core`."""
    statement = prebuilt(session, key, build)
    stored = await driver_rows(session, key, statement, params)
    if stored is None:
        return [tuple(row) for row in (await execute_core(session, statement, params)).all()]
    rows, convert = stored
    return [convert(row) for row in rows]


class IdList(TypeDecorator[list[int]]):
    """A list of ids bound as one parameter (see :func:`in_ids`): a JSON array on SQLite, an
    array on PostgreSQL."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.ARRAY(BigInteger()))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: Iterable[int] | None, dialect: Any) -> Any:
        ids = [int(one) for one in value or ()]
        return ids if dialect.name == "postgresql" else json.dumps(ids)


class _InIds(ColumnElement[Any]):
    inherit_cache = True
    type = NullType()
    _traverse_internals = [  # noqa: RUF012 (SQLAlchemy's declaration, a list)
        ("column", InternalTraversal.dp_clauseelement),
        ("ids", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: Any, name: str) -> None:
        self.column = column
        self.ids = bindparam(name, type_=IdList())


def in_ids(column: Any, name: str) -> Any:
    """``column IN (the ids of parameter name)`` with the ids in one parameter, so the
    statement's SQL is the same for any number of them: it is compiled once and can run on
    SQLite's driver (:func:`run_prebuilt`, :func:`read_prebuilt`), where ``column.in_()``
    is rewritten by SQLAlchemy for each list."""
    return _InIds(column, name)


@compiles(_InIds)
def _in_ids_sqlite(element: _InIds, compiler: Any, **kw: Any) -> str:
    column, ids = compiler.process(element.column, **kw), compiler.process(element.ids, **kw)
    return f"{column} IN (SELECT value FROM json_each({ids}))"


@compiles(_InIds, "postgresql")
def _in_ids_postgresql(element: _InIds, compiler: Any, **kw: Any) -> str:
    column, ids = compiler.process(element.column, **kw), compiler.process(element.ids, **kw)
    return f"{column} = ANY({ids})"


class _Unindexed(ColumnElement[Any]):
    inherit_cache = True
    _traverse_internals = [  # noqa: RUF012 (SQLAlchemy's declaration, a list)
        ("column", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: Any) -> None:
        self.column = column
        self.type = column.type


def unindexed(column: Any) -> Any:
    """``column`` as a condition reads it (a date or a number), but so that no index of it
    serves the condition: the planner then reads along another index (the one in the
    list's order) and tests the condition on each row. For a condition most rows pass, which
    the planners cannot tell from a bound value (a "top" list's long period)."""
    return _Unindexed(column)


@compiles(_Unindexed)
def _unindexed_sqlite(element: _Unindexed, compiler: Any, **kw: Any) -> str:
    # SQLite's unary plus: the same value, no longer the column for the planner.
    return f"+{compiler.process(element.column, **kw)}"


@compiles(_Unindexed, "postgresql")
def _unindexed_postgresql(element: _Unindexed, compiler: Any, **kw: Any) -> str:
    # An expression, which PostgreSQL's statistics do not describe: its plan made once for
    # any value then costs what a plan made for the value given would, and is kept.
    kind = getattr(element.type, "impl_instance", element.type)  # a TypeDecorator's own
    zero = "interval '0 seconds'" if isinstance(kind, DateTime) else "0"
    return f"({compiler.process(element.column, **kw)} + {zero})"


async def driver_rows(
    session: AsyncSession,
    key: Hashable,
    statement: Any,
    params: dict[str, Any],
    *,
    read_only: bool = False,
) -> tuple[list[tuple[Any, ...]], Callable[[tuple[Any, ...]], tuple[Any, ...]]] | None:
    """A read straight on the driver: the rows as the driver gives them (a cheap, exact key
    for whatever is made from them) and the function that converts one row as SQLAlchemy
    would (dates from text on SQLite, ...). ``key`` names ``statement``, built once. None
    where the statement goes through SQLAlchemy (see :func:`_run_on_driver` for SQLite,
    :func:`_run_on_asyncpg` for PostgreSQL): the caller executes it with
    :func:`execute_core`. With ``read_only``, also None unless the session is a read session
    (SQLite's read-only connections, PostgreSQL's autocommit): what is made of the rows may
    then be shared by requests, since nothing they do can be written back."""
    reader = kept_reader(session)
    if reader is not None:
        ran = await reader.run(key, statement, params)
        if ran is not None:
            return ran[1], ran[0].convert
    connection = await _flushed_connection(session)
    ran = _run_on_driver(connection, key, statement, params, reads=True, writes=not read_only)
    if ran is None:
        ran = await _read_in_thread(connection, key, statement, params)
    if ran is None:
        ran = await _run_on_asyncpg(connection, key, statement, params, read_only=read_only)
    if ran is None:
        return None
    plan, rows = ran
    return rows, plan.convert


async def driver_rows_packed(
    session: AsyncSession, key: Hashable, statement: Any, params: dict[str, Any]
) -> tuple[list[tuple[Any, ...]], Callable[[tuple[Any, ...]], tuple[Any, ...]]] | None:
    """:func:`driver_rows`, with each row packed by the database into one JSON array of its
    values: the driver then makes one string of a row rather than an object of each value (on
    SQLite, for a topic list of 31 rows and 33 columns, 80 of the query's 126 microseconds; on
    PostgreSQL about a quarter of the client's CPU for the query), and the string is a cheaper
    key for what is made of the row (its hash is computed once, where a tuple of 33 new values
    hashes each of them). The converter unpacks a row and converts its values as SQLAlchemy
    would."""
    dialect = _dialect(session)
    packed = _PACKED.get((dialect.name, key))
    if packed is None:
        packed = _PACKED[(dialect.name, key)] = _Packed(dialect, statement)
    found = await driver_rows(session, ("packed", key), packed.statement, params)
    return None if found is None else (found[0], packed.convert)


def _row_converter(
    columns: Sequence[Callable[[Any], Any] | None],
) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """A function that converts a row's values by ``columns`` (one function per column, None
    for a column kept as it is), calling only the columns that convert: a generator over
    every value of a row cost three times as much, more than SQLAlchemy's own compiled row
    processing on long results (a profile's year of days: 380 rows)."""
    converting = tuple(
        (index, convert) for index, convert in enumerate(columns) if convert is not None
    )
    if not converting:
        return tuple

    def convert_row(row: Sequence[Any]) -> tuple[Any, ...]:
        values = list(row)
        for index, convert in converting:
            values[index] = convert(values[index])
        return tuple(values)

    return convert_row


class _Packed:
    """A statement whose rows are each one JSON array of its columns (SQLite's
    ``json_array``; PostgreSQL's ``json_build_array``, as text), and how to read one back:
    JSON keeps text, integers, booleans, JSON and NULL as they are, and each value is then
    converted as SQLAlchemy converts the column (on SQLite dates from text, booleans from
    integers, ...; on PostgreSQL, whose driver gives dates and times as objects, from the ISO
    text JSON writes them in). Not for reals and decimals (JSON would round them) nor blobs
    (JSON has none); on PostgreSQL only for the types below, whose JSON form reads back
    exactly, and at most 100 columns (a function's arguments)."""

    __slots__ = ("_convert", "statement")

    def __init__(self, dialect: Any, statement: Any) -> None:
        on_postgresql = dialect.name == "postgresql"
        columns = list(statement.selected_columns)
        for column in columns:
            affinity = column.type._type_affinity
            if issubclass(affinity, Float | Numeric | _Binary) or (
                on_postgresql and not issubclass(affinity, _JSON_EXACT_ON_POSTGRESQL)
            ):
                raise TypeError(f"{column} cannot be packed into JSON exactly")
        if on_postgresql:
            if len(columns) > 100:
                raise TypeError("PostgreSQL's json_build_array takes at most 100 values")
            row: Any = cast(func.json_build_array(*columns), Text)
        else:
            row = func.json_array(*columns)
        self.statement = statement.with_only_columns(row, maintain_column_froms=False)
        entries = statement.compile(dialect=dialect)._result_columns or []
        self._convert = _row_converter([_unpacking(entry.type, dialect) for entry in entries])

    def convert(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        return self._convert(json.loads(row[0]))


# How PostgreSQL's JSON text of a date or time is read back (its driver gives objects).
_ISO_PARSERS: tuple[tuple[type[Any], Callable[[str], Any]], ...] = (
    (DateTime, datetime.fromisoformat),
    (Date, date.fromisoformat),
)
# What PostgreSQL may pack: JSON gives these back as the driver would (dates and times
# through _ISO_PARSERS), unlike, say, a UUID or an interval.
_JSON_EXACT_ON_POSTGRESQL = (String, Integer, Boolean, JSON, NullType, DateTime, Date)


def _unpacking(type_: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """How a column's value read from a packed row becomes SQLAlchemy's: its result
    processor, after parsing a PostgreSQL date or time from its JSON text."""
    processor: Callable[[Any], Any] | None = type_._cached_result_processor(dialect, None)
    parse = None
    if dialect.name == "postgresql":
        affinity = type_._type_affinity
        parse = next((p for kind, p in _ISO_PARSERS if issubclass(affinity, kind)), None)
    if parse is None:
        return processor

    def unpack(value: Any) -> Any:
        parsed = None if value is None else parse(value)
        return parsed if processor is None else processor(parsed)

    return unpack


_PACKED: dict[Hashable, _Packed] = {}


class _Given:
    """Stands for the parameter ``key`` while a plan finds where each parameter goes."""

    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        self.key = key


class _Plan:
    """A statement compiled once for a dialect and one set of parameter names: its SQL, where
    each positional parameter comes from (a given parameter or a value fixed in the
    statement) and how it is converted, and the names and conversion of the columns it
    returns."""

    __slots__ = (
        "binds",
        "compiled",
        "convert",
        "converts_rows",
        "described",
        "dialect",
        "keys",
        "metadata",
        "names",
        "sources",
        "sql",
    )

    def __init__(self, compiled: Any, dialect: Any, given: list[str]) -> None:
        self.compiled = compiled
        self.sql: str = compiled.string
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())
        processors = compiled._bind_processors
        self.binds = tuple(processors.get(name) for name in self.names)
        # Where each positional value comes from, worked out once by letting SQLAlchemy
        # place stand-ins for the given parameters: a given parameter's key, or the value
        # the statement fixes (a literal). None when a value is computed at each execution
        # (a bind's callable): then SQLAlchemy places the values every time.
        self.sources: tuple[tuple[bool, Any], ...] | None = None
        if not any(bind.callable for bind in compiled.binds.values()):
            placed = compiled.construct_params({key: _Given(key) for key in given})
            self.sources = tuple(
                (True, value.key) if isinstance(value, _Given) else (False, value)
                for value in (placed[name] for name in self.names)
            )
        entries = compiled._result_columns or []
        self.keys = tuple(entry.keyname for entry in entries)
        self.metadata = SimpleResultMetaData(self.keys)
        self.dialect = dialect
        # A row as the driver gives it, converted as SQLAlchemy would (dates from text on
        # SQLite, ...).
        self.convert: Callable[[Sequence[Any]], tuple[Any, ...]] = tuple
        self.converts_rows = False
        # SQLite's driver says nothing of a column's type; PostgreSQL's does, at the first
        # execution (see _run_on_asyncpg).
        self.described = False
        if dialect.name == "sqlite":
            self.describe([None] * len(entries))

    def describe(self, column_types: list[Any]) -> None:
        """How each returned column is converted, as SQLAlchemy works it out from the type the
        driver gives the column (PostgreSQL's type oids; None on SQLite)."""
        entries = self.compiled._result_columns or []
        columns = [
            entry.type._cached_result_processor(self.dialect, column_type)
            for entry, column_type in zip(entries, column_types, strict=True)
        ]
        self.convert = _row_converter(columns)
        self.converts_rows = any(convert is not None for convert in columns)
        self.described = True

    def args(self, params: dict[str, Any]) -> list[Any]:
        """The statement's positional parameters, converted for sqlite3 as SQLAlchemy would."""
        if self.sources is None:
            values = self.compiled.construct_params(params)
            raw = [values[name] for name in self.names]
        else:
            raw = [params[fixed] if given else fixed for given, fixed in self.sources]
        return [
            value if convert is None else convert(value)
            for value, convert in zip(raw, self.binds, strict=True)
        ]


# Per statement (its key) and set of parameter names: its plan, or None where the statement
# cannot run on the driver as compiled.
_PLANS: dict[tuple[str, Hashable, tuple[str, ...], bool], _Plan | None] = {}


def _plan(
    dialect: Any, statement: Any, key: Hashable, names: list[str], many: bool
) -> _Plan | None:
    """The plan of ``statement`` (built once and named by ``key``) executed with
    parameters of these ``names``: compiled for them, as SQLAlchemy compiles a statement for
    each set of parameter names (an INSERT without values() takes its columns from them)."""
    cache_key = (dialect.name, key, tuple(names), many)
    if cache_key in _PLANS:
        return _PLANS[cache_key]
    compiled = statement.compile(dialect=dialect, column_keys=names, for_executemany=many)
    # Not for an IN list that SQLAlchemy expands per execution, nor for a column whose default
    # SQLAlchemy computes in Python for each execution (the statement needs its context).
    runnable = not (
        compiled.literal_execute_params
        or compiled.post_compile_params
        or compiled.insert_prefetch
        or compiled.update_prefetch
        or (many and compiled._result_columns)
    )
    plan = _Plan(compiled, dialect, names) if runnable else None
    _PLANS[cache_key] = plan
    return plan


def _unwatched(connection: AsyncConnection | Connection) -> Any:
    """The connection's synchronous side, unless anything listens to or logs its engine's
    statements (the tests that count queries, ``echo``): a statement may skip SQLAlchemy
    only then."""
    sync = connection if isinstance(connection, Connection) else connection.sync_connection
    if sync is None or _watched(sync.engine):
        return None
    return sync


def _watched(engine: Engine) -> bool:
    """Whether anything listens to or logs the engine's statements (``echo``, or its
    logger set to INFO, as a connection decides whether to log)."""
    dispatch = engine.dispatch
    return bool(
        dispatch.before_cursor_execute or dispatch.after_cursor_execute or engine._should_log_info()
    )


def _planned(
    dialect: Any, statement: Any, key: Hashable, params: Any
) -> tuple[_Plan, bool, Any] | None:
    """The statement's plan for these parameters (a list of dicts: an executemany), whether
    it is an executemany, and its positional parameters; None where it cannot skip
    SQLAlchemy (:func:`_plan`)."""
    many = isinstance(params, list)
    if many and not params:
        return None
    plan = _plan(dialect, statement, key, sorted(params[0] if many else params), many)
    if plan is None:
        return None
    return plan, many, [plan.args(one) for one in params] if many else plan.args(params)


def _run_on_driver(
    connection: AsyncConnection | Connection,
    key: Hashable,
    statement: Any,
    params: Any,
    *,
    reads: bool,
    writes: bool,
) -> tuple[_Plan, list[Any]] | None:
    """Run a statement built once on the sqlite3 connection itself, as SQLAlchemy would have
    sent it, and hand back its plan and its rows as sqlite3 gives them. Reads and the write
    transaction's statements already run on the event loop's thread
    (app.kit.sqlite_driver), so what SQLAlchemy adds around each of them (execution context,
    events, result set-up, the greenlet bridge) is all that goes: 9% of a like's instructions
    for its 20 or so prebuilt statements.

    None (the caller then executes it through SQLAlchemy) unless the connection is one of
    ours on SQLite, inside its transaction and either read-only (with ``reads``) or holding
    the write lock (with ``writes``); and None when anything listens to or logs the engine's
    statements (the tests that count queries, ``echo``)."""
    sync = _unwatched(connection)
    if sync is None or sync.dialect.name != "sqlite":
        return None
    adapted = sync.connection.dbapi_connection
    raw = getattr(getattr(adapted, "_connection", None), "_conn", None)
    if raw is None or not raw.in_transaction:
        return None
    if not (
        (writes and getattr(adapted, "holds_write_lock", False))
        or (reads and getattr(adapted, "inline", False))
    ):
        return None
    planned = _planned(sync.dialect, statement, key, params)
    if planned is None:
        return None
    return planned[0], _on_sqlite3(raw, sync.dialect, *planned)


async def _read_in_thread(
    connection: AsyncConnection, key: Hashable, statement: Any, params: Any
) -> tuple[_Plan, list[Any]] | None:
    """:func:`_run_on_driver`'s read for the jobs' read-only SQLite connections, whose
    statements run in the connection's thread (app.kit.sqlite_driver): there, in one trip.
    None for any other connection."""
    sync = _unwatched(connection)
    if sync is None or sync.dialect.name != "sqlite":
        return None
    adapted = sync.connection.dbapi_connection
    if not getattr(adapted, "reads_in_thread", False):
        return None
    raw = adapted._connection._conn
    if not raw.in_transaction:
        return None
    planned = _planned(sync.dialect, statement, key, params)
    if planned is None:
        return None
    rows = await adapted._connection._execute(_on_sqlite3, raw, sync.dialect, *planned)
    return planned[0], rows


def execute_prebuilt_sync(
    connection: Connection, key: Hashable, statement: Any, params: Any
) -> None:
    """Execute a :func:`prebuilt` write from synchronous code in a session's greenlet (a
    ``before_commit`` listener), discarding its rows: straight on sqlite3 where
    :func:`run_prebuilt` would run it there, else through SQLAlchemy. The community tally's
    upsert, which ends nearly every write transaction, cost 198 us through SQLAlchemy on
    session 27's CPU (bench/ANALYSIS.md)."""
    if _run_on_driver(connection, key, statement, params, reads=False, writes=True) is None:
        connection.execute(statement, params)


def _on_sqlite3(
    raw: sqlite3.Connection, dialect: Any, plan: _Plan, many: bool, args: Any
) -> list[Any]:
    """The rows of a planned statement run on a sqlite3 connection, on this thread; its
    errors as SQLAlchemy raises them."""
    cursor = raw.cursor()
    try:
        if many:
            cursor.executemany(plan.sql, args)
        else:
            cursor.execute(plan.sql, args)
        return cursor.fetchall() if cursor.description else []
    except sqlite3.Error as exc:
        raise exc_.DBAPIError.instance(plan.sql, args, exc, sqlite3.Error, dialect=dialect) from exc
    finally:
        cursor.close()


READER_OPTION = "kizuna_reader"


def kept_reader(session: AsyncSession) -> KeptReader | None:
    """The :class:`KeptReader` of the engine a session was made with, if it has one (the
    request read sessions on a SQLite file, app.db)."""
    bind = session.bind
    if bind is None:
        return None
    reader: KeptReader | None = bind.sync_engine.get_execution_options().get(READER_OPTION)
    return reader


class KeptReader:
    """One read-only SQLite connection per process, kept out of the read engine's pool for
    the reads that skip SQLAlchemy (:func:`driver_rows`) in the requests' read sessions.

    Its statements run on the event loop's thread outside any transaction: each reads the
    latest committed data on its own, as a read session's statements do on PostgreSQL
    (autocommit under READ COMMITTED). Requests share it without ever interleaving inside a
    statement, since each statement runs and is fetched whole with no await. A read session
    whose reads all come this way checks no connection out, begins nothing and rolls nothing
    back: that bookkeeping (SQLAlchemy's session transaction, the pool, ``BEGIN`` and
    ``ROLLBACK``) was 13% of a topic list's CPU and 21% of a topic page's.

    Connecting goes through the engine, so a missing file is an outage (503) as it is for a
    pooled connection; after an operational error (disk, file) the connection is dropped and
    the next read opens another. None (the caller then reads through the session) when
    anything listens to or logs the engine's statements, as for :func:`_run_on_driver`."""

    __slots__ = ("_connection", "_engine", "_raw")

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None
        self._raw: sqlite3.Connection | None = None

    async def run(
        self, key: Hashable, statement: Any, params: dict[str, Any]
    ) -> tuple[_Plan, list[Any]] | None:
        sync = self._engine.sync_engine
        if _watched(sync):
            return None
        planned = _planned(sync.dialect, statement, key, params)
        if planned is None:
            return None
        raw = self._raw if self._raw is not None else await self._open()
        try:
            return planned[0], _on_sqlite3(raw, sync.dialect, *planned)
        except exc_.OperationalError:
            await self.close()
            raise

    async def _open(self) -> sqlite3.Connection:
        connection = await self._engine.connect()
        if self._raw is not None:  # another request opened one meanwhile
            await connection.close()
            return self._raw
        adapted: Any = (await connection.get_raw_connection()).dbapi_connection
        raw: sqlite3.Connection = adapted._connection._conn
        self._connection, self._raw = connection, raw
        return raw

    async def close(self) -> None:
        """Give the connection back (at shutdown, or after an error); the next read opens
        another."""
        connection, self._connection, self._raw = self._connection, None, None
        if connection is not None:
            await connection.close()


async def _run_on_asyncpg(
    connection: AsyncConnection,
    key: Hashable,
    statement: Any,
    params: Any,
    *,
    read_only: bool = False,
) -> tuple[_Plan, list[tuple[Any, ...]]] | None:
    """A statement built once, on PostgreSQL, straight on asyncpg, as :func:`_run_on_driver`
    does on SQLite: compiled once (:func:`_plan`), prepared as SQLAlchemy's adapter prepares
    it (and kept by it, per connection), and run as that adapter would run it (within its
    transaction, begun the same way, or none in a read session's autocommit), but without
    SQLAlchemy's execution around it: an execution context, events, result set-up and two
    trips through the greenlet bridge, 120 of a read's 200 microseconds of CPU. A list of
    parameter dicts is one executemany. Rows come back as tuples of the driver's values,
    converted as SQLAlchemy would (from the column types the server describes). Errors are
    SQLAlchemy's, through the connection's own handling (a lost connection is invalidated
    as usual).

    None (the caller then executes it through SQLAlchemy) unless the connection is asyncpg's;
    when anything listens to or logs the engine's statements; and with ``read_only`` unless
    the session is a read session (autocommit: it never writes), as on SQLite."""
    sync = _unwatched(connection)
    if sync is None or sync.dialect.driver != "asyncpg":
        return None
    # SQLAlchemy's adapter of the asyncpg connection (its transaction, lock and statements).
    adapted: Any = sync.connection.dbapi_connection
    if read_only and getattr(adapted, "isolation_level", None) != "autocommit":
        return None
    dialect: Any = sync.dialect
    planned = _planned(dialect, statement, key, params)
    if planned is None:
        return None
    plan, many, args = planned
    try:
        async with adapted._execute_mutex:
            if adapted._transaction is None:
                # What the adapter's cursor does before its first statement (a no-op in
                # autocommit): SQLAlchemy's own BEGIN is left to the driver.
                await adapted._start_transaction()
            prepared, attributes = await adapted._prepare(
                plan.sql, dialect._invalidate_schema_cache_asof
            )
            if many:
                await prepared.executemany(args)
                records = []
            else:
                records = await prepared.fetch(*args)
    except Exception as error:
        await greenlet_spawn(_raise_as_sqlalchemy, sync, adapted, error, plan.sql, args)
        raise  # not reached: the line above raises
    if not plan.described:
        plan.describe([attribute.type.oid for attribute in attributes])
    return plan, [tuple(record) for record in records]


def _raise_as_sqlalchemy(sync: Any, adapted: Any, error: Exception, sql: str, args: Any) -> None:
    """Raise a driver's error as SQLAlchemy would have: translated by the driver's adapter,
    then by the connection (which invalidates itself and the pool on a disconnect). Run in
    the greenlet bridge, which invalidation needs."""
    try:
        adapted._handle_exception(error)
    except Exception as translated:
        sync._handle_dbapi_exception(translated, sql, args, None, None)


def transaction_state(session: AsyncSession, key: str, make: Callable[[], T]) -> T:
    """What the session's current transaction keeps under ``key`` (see
    :func:`take_transaction_state`): made by ``make`` when the transaction is new, so what a
    transaction that rolled back left is never used."""
    sync_session = session.sync_session
    root = sync_session.get_transaction()
    kept: tuple[Any, T] | None = sync_session.info.get(key)
    if kept is not None and kept[0] is root:
        return kept[1]
    fresh = make()
    sync_session.info[key] = (root, fresh)
    return fresh


def take_transaction_state(session: Session, key: str) -> Any | None:
    """In a ``before_commit`` listener: what the committing transaction kept under ``key``
    (None if nothing, or only what an earlier transaction left), no longer kept."""
    kept: tuple[Any, Any] | None = session.info.pop(key, None)
    if kept is None or kept[0] is not session.get_transaction():
        return None
    return kept[1]


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


_LOADERS: dict[type, tuple[Any, tuple[str, ...]]] = {}


def loading_columns(model: type[Any]) -> tuple[Any, ...]:
    """Every mapped column of ``model``, in the order :func:`as_loaded` takes their values."""
    return tuple(prop.columns[0] for prop in inspect(model).column_attrs)


def as_loaded(model: type[T], values: Iterable[Any], **related: Any) -> T:
    """An object of ``model`` as a query would have loaded it, made from its row read as
    columns (:func:`loading_columns`, in that order; :func:`read_prebuilt` converts them as
    the ORM would) and its eagerly loaded relationships given by name: detached, with no
    pending change, for the caller to add to a session (SQLAlchemy's own
    ``make_transient_to_detached`` gives it its identity). For a row read on every request
    (the signed-in viewer, app.pipeline), where the ORM's loading cost several times the
    statement itself."""
    known = _LOADERS.get(model)
    if known is None:
        mapper = inspect(model)
        known = _LOADERS[model] = (mapper, tuple(prop.key for prop in mapper.column_attrs))
    mapper, keys = known
    found = mapper.class_manager.new_instance()
    state = instance_dict(found)
    state.update(zip(keys, values, strict=True))
    state.update(related)
    make_transient_to_detached(found)
    return found  # type: ignore[no-any-return]
