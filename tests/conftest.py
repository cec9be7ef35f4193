"""Test harness: a real database (SQLite file, or a fresh PostgreSQL database when
KIZUNA_TEST_DATABASE_URL points at a server), the real app over ASGI, small factories.

Each test starts from empty tables; the schema is created once per run.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from app.analytics import service as analytics_service
from app.config import Settings, get_settings
from app.db import TRANSIENT_SQLSTATES, Database
from app.models import Base

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
_META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def _server_url() -> str:
    return os.environ.get("KIZUNA_TEST_DATABASE_URL", "")


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kizuna-data")


@pytest.fixture(scope="session")
async def database_url(data_dir: Path) -> AsyncIterator[str]:
    server = _server_url()
    if not server.startswith("postgresql"):
        yield f"sqlite+aiosqlite:///{data_dir / 'test.db'}"
        return
    url = make_url(server)
    name = f"kizuna_test_{uuid.uuid4().hex[:10]}"
    admin_dsn = url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield url.set(database=name).render_as_string(hide_password=False)
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def settings(database_url: str, data_dir: Path) -> Iterator[Settings]:
    values = {
        "KIZUNA_ENV": "test",
        "KIZUNA_DATABASE_URL": database_url,
        "KIZUNA_DATA_DIR": str(data_dir),
        "KIZUNA_SECRET_KEY": TEST_SECRET,
        "KIZUNA_BASE_URL": "http://testserver",
        "KIZUNA_SMTP_URL": "",
        "KIZUNA_REDIS_URL": "",
        # Tests run the scheduler's pass themselves (tests/test_scheduler.py); the app's own
        # ticker passes once at start-up and not again during the run.
        "KIZUNA_SCHEDULER_SECONDS": "3600",
        # Tests edit ranks straight in the database too; pages read the ladder every time
        # (tests/points/test_ladder_cache.py turns the cache on).
        "KIZUNA_RANKS_CACHE_SECONDS": "0",
        # Each write request's score batch runs before the request's task ends, so a test
        # reads refreshed scores after it (tests/analytics/test_score_batch.py gathers them).
        "KIZUNA_SCORE_REFRESH_DELAY_SECONDS": "0",
    }
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    get_settings.cache_clear()
    yield get_settings()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    get_settings.cache_clear()


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Any]:
    from app.main import create_app

    schema = Database(settings)
    async with schema.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    await schema.dispose()
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def database(app: Any) -> Database:
    database: Database = app.state.database
    return database


@pytest.fixture(autouse=True)
async def _empty_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "app" not in request.fixturenames:
        return
    database: Database = request.getfixturevalue("app").state.database
    # A test that listens to the engines' statements must stop (tests/statements.py): while
    # anything listens, prebuilt statements go through SQLAlchemy rather than the driver, so
    # every later test would run another path than the app does (app.kit.sql._watched).
    for engine in (database.engine, database.read_engine, database.jobs_engine):
        assert not engine.sync_engine.dispatch.before_cursor_execute, "a listener was left"
    # Work the test's requests started beside them (a second dirty-score pass) finishes first.
    await analytics_service.settle()
    tables = list(reversed(Base.metadata.sorted_tables))
    if database.is_sqlite:
        async with database.transaction() as session:
            for table in tables:
                await session.execute(table.delete())
        return
    names = ", ".join(f'"{table.name}"' for table in tables)
    for attempt in range(5):
        try:
            async with database.transaction() as session:
                await session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            return
        except DBAPIError as exc:
            # TRUNCATE locks table after table; a background pass of the app's own (the
            # scheduler's tick, a webhook retry) reading two of them in the other order makes
            # PostgreSQL pick one side as a deadlock victim. If it picked us, empty them again.
            if attempt == 4 or getattr(exc.orig, "sqlstate", None) not in TRANSIENT_SQLSTATES:
                raise


class Client(httpx.AsyncClient):
    """An httpx client that behaves like a browser for forms: it sends the page's CSRF token."""

    async def csrf_token(self) -> str:
        page = await self.get("/", headers={"Accept": "text/html"})
        match = _META_CSRF.search(page.text)
        assert match, "the layout carries a csrf-token meta tag"
        return match.group(1)

    async def submit(
        self, url: str, data: dict[str, Any] | None = None, **kwargs: Any
    ) -> httpx.Response:
        form = dict(data or {})
        form.setdefault("csrf_token", await self.csrf_token())
        return await self.post(url, data=form, **kwargs)

    async def send_json(self, method: str, url: str, payload: Any = None) -> httpx.Response:
        headers = {"X-CSRF-Token": await self.csrf_token()}
        return await self.request(method, url, json=payload, headers=headers)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[Client]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with Client(
        transport=transport, base_url="http://testserver", headers={"Accept-Language": "en"}
    ) as http:
        yield http


@pytest.fixture
async def make_client(app: Any) -> AsyncIterator[Any]:
    """More browsers, each with its own cookies (and, if given, its own IP address)."""
    clients: list[Client] = []

    def factory(ip: str = "127.0.0.1") -> Client:
        transport = httpx.ASGITransport(app=app, client=(ip, 50000))
        http = Client(
            transport=transport, base_url="http://testserver", headers={"Accept-Language": "en"}
        )
        clients.append(http)
        return http

    yield factory
    for http in clients:
        await http.aclose()


from tests.factories import *  # noqa: E402,F403  (fixtures and factories shared by every test)
