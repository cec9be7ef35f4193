"""The migrations build exactly the schema the models describe, and undo it cleanly."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
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
