"""The migrations build exactly the schema the models describe, and undo it cleanly."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from app.cli import alembic_config
from app.db import create_engine_unpooled
from app.models import Base
from app.models.search_index import include_in_comparison


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    server = os.environ.get("KIZUNA_TEST_DATABASE_URL", "")
    if not server.startswith("postgresql"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
        return
    url = make_url(server)
    name = f"kizuna_mig_{uuid.uuid4().hex[:10]}"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )

    async def run(sql: str) -> None:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _tables(url: str) -> set[str]:
    async def read() -> set[str]:
        engine = create_engine_unpooled(url)
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        await engine.dispose()
        return names

    return asyncio.run(read())


def _drift(url: str) -> list[object]:
    async def compare() -> list[object]:
        engine = create_engine_unpooled(url)
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(
                        sync,
                        opts={"compare_type": True, "include_object": include_in_comparison},
                    ),
                    Base.metadata,
                )
            )
        await engine.dispose()
        return list(diff)

    return asyncio.run(compare())


def test_upgrade_matches_models_and_downgrade_empties(empty_database: str) -> None:
    config = alembic_config(empty_database)
    command.upgrade(config, "head")
    model_tables = set(Base.metadata.tables)
    assert model_tables <= _tables(empty_database)
    assert _drift(empty_database) == []

    command.downgrade(config, "base")
    assert _tables(empty_database) - {"alembic_version"} == set()

    command.upgrade(config, "head")
    assert _drift(empty_database) == []


def _sqlite_schema(path: Path) -> dict[str, str]:
    with closing(sqlite3.connect(path)) as connection:
        rows = connection.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL")
        return dict(rows)


def test_sqlite_counters_move_into_their_primary_key_and_back_with_their_rows(
    tmp_path: Path,
) -> None:
    """Migration 0025 (SQLite only): the composite-key counter tables become clustered
    (WITHOUT ROWID) and lose the covering indexes they make redundant, keeping every row;
    its downgrade puts both back."""
    path = tmp_path / "counters.db"
    config = alembic_config(f"sqlite+aiosqlite:///{path}")
    command.upgrade(config, "0024")
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("INSERT INTO analytics_topic_daily VALUES ('2026-12-01', 7, 3, 5)")
        connection.execute("INSERT INTO analytics_daily VALUES ('2026-12-01', 'like.given', 9)")
        connection.execute("INSERT INTO rate_limits VALUES ('ip:1', '2026-12-01 10:00:00', 4)")
    covering = (
        "ix_analytics_member_daily_member_day_verb_counts",
        "ix_analytics_topic_daily_day_topic_likes_views",
    )

    def rows() -> list[tuple[object, ...]]:
        with closing(sqlite3.connect(path)) as connection:
            return [
                *connection.execute("SELECT * FROM analytics_topic_daily"),
                *connection.execute("SELECT * FROM analytics_daily"),
                *connection.execute("SELECT * FROM rate_limits"),
            ]

    before = rows()
    command.upgrade(config, "0025")
    schema = _sqlite_schema(path)
    clustered = [
        table.name
        for table in Base.metadata.tables.values()
        if table.dialect_options["sqlite"].get("with_rowid") is False
    ]
    assert "analytics_member_daily" in clustered
    for table in clustered:
        assert schema[table].rstrip().endswith("WITHOUT ROWID"), table
    assert not set(covering) & set(schema)
    assert "ix_analytics_member_daily_decile_facts" in schema
    assert rows() == before

    command.downgrade(config, "0024")
    schema = _sqlite_schema(path)
    assert not [table for table in clustered if "WITHOUT ROWID" in schema[table]]
    assert set(covering) <= set(schema)
    assert rows() == before
