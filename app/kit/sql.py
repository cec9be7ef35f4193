"""Small SQL helpers that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def insert(session: AsyncSession, table: Any) -> Any:
    """An INSERT that knows ON CONFLICT for the session's database."""
    if dialect_name(session) == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


_PREBUILT: dict[tuple[str, Hashable], Any] = {}


def prebuilt(session: AsyncSession, key: Hashable, build: Callable[[Any], Any]) -> Any:
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
