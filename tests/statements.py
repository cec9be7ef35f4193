"""Counting the SQL statements a piece of work sends, on every engine of the app's database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event


@contextmanager
def _listening(database: Any, seen: Callable[..., None]) -> Iterator[None]:
    engines = {
        id(e.sync_engine): e.sync_engine
        for e in (database.engine, database.read_engine, database.jobs_engine)
    }
    for engine in engines.values():
        event.listen(engine, "before_cursor_execute", seen)
    try:
        yield
    finally:
        for engine in engines.values():
            event.remove(engine, "before_cursor_execute", seen)


@contextmanager
def counting(database: Any) -> Iterator[list[str]]:
    """The statements sent while the block runs, reads and writes alike (SQLite reads go
    through an engine of their own)."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    with _listening(database, count):
        yield statements


@contextmanager
def recording(database: Any) -> Iterator[list[tuple[str, Any]]]:
    """As :func:`counting`, each statement with its parameters (to read its plan)."""
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        statements.append((statement, parameters))

    with _listening(database, record):
        yield statements
