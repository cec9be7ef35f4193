"""The database goes away under a running server: pages answer 503 with a clear message,
/readyz fails, nothing pretends to succeed, and the server recovers by itself (no restart)
once the database is back."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.faults.instance import Browser, Instance, admin_sql, fresh_database, on_postgres

MESSAGE = "The community is temporarily unavailable. Please try again in a moment."


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[Instance]:
    with fresh_database(tmp_path) as url:
        server = Instance(tmp_path, url)
        server.seed("member:fan@example.com")
        try:
            yield server
        finally:
            server.stop()


def _assert_unavailable(server: Instance, member: Browser) -> None:
    page = member.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 503
    assert page.headers["retry-after"] == "5"
    assert MESSAGE in page.text
    api = member.get("/api/v1/me")
    assert api.status_code == 503
    assert api.json() == {"error": {"status": 503, "message": MESSAGE}}
    write = member.api("PATCH", "/me", {"bio": "written during the outage"})
    assert write.status_code == 503
    assert httpx.get(server.url("/readyz")).status_code == 503
    assert httpx.get(server.url("/"), headers={"Accept": "text/html"}).status_code == 503
    # The process itself is alive (a supervisor must not restart it in a loop).
    assert httpx.get(server.url("/healthz")).status_code == 200


def _assert_recovered(server: Instance, member: Browser) -> None:
    assert httpx.get(server.url("/readyz")).status_code == 200
    assert member.get("/", headers={"Accept": "text/html"}).status_code == 200
    me = member.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["bio"] != "written during the outage"
    assert member.api("PATCH", "/me", {"bio": "after the outage"}).status_code == 200
    assert member.get("/api/v1/me").json()["bio"] == "after the outage"


def _cut_connections(name: str) -> None:
    """Terminate every connection to the database, and wait until each of those backends has
    exited (they do so a moment after being told to)."""
    pids = admin_sql(
        f"SELECT array_agg(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        " AND pid <> pg_backend_pid()"
    )
    assert pids
    listed = ",".join(str(pid) for pid in pids)
    admin_sql(f"SELECT pg_terminate_backend(pid) FROM unnest(ARRAY[{listed}]) AS pid")
    remaining = f"SELECT count(*) FROM pg_stat_activity WHERE pid IN ({listed})"
    deadline = time.monotonic() + 30
    while admin_sql(remaining) and time.monotonic() < deadline:
        pass
    assert not admin_sql(remaining), "the terminated backends did not exit"


@pytest.mark.skipif(
    not on_postgres(), reason="PostgreSQL outage (runs with KIZUNA_TEST_DATABASE_URL)"
)
def test_postgres_refusing_connections_then_back(instance: Instance) -> None:
    instance.start()
    member = instance.browser()
    member.sign_in("fan@example.com")
    member.csrf()
    assert member.get("/api/v1/me").status_code == 200
    name = instance.database_name
    # Every pooled connection is cut and no new one is accepted: what a failover or a
    # restarting server looks like from the app.
    admin_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    try:
        _cut_connections(name)
        _assert_unavailable(instance, member)
    finally:
        admin_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    _assert_recovered(instance, member)


@pytest.mark.skipif(
    not on_postgres(), reason="PostgreSQL restart (runs with KIZUNA_TEST_DATABASE_URL)"
)
def test_postgres_closing_idle_connections_is_invisible(instance: Instance) -> None:
    """The server closes every pooled connection while the app is idle (a restart, a
    failover): the next requests get fresh connections and succeed; none answers 503."""
    instance.start()
    member = instance.browser()
    member.sign_in("fan@example.com")
    member.csrf()
    for _ in range(3):
        assert member.get("/api/v1/me").status_code == 200
    _cut_connections(instance.database_name)
    assert member.get("/", headers={"Accept": "text/html"}).status_code == 200
    assert member.get("/api/v1/me").status_code == 200
    assert member.api("PATCH", "/me", {"bio": "after the restart"}).status_code == 200
    assert member.get("/api/v1/me").json()["bio"] == "after the restart"


@pytest.mark.skipif(on_postgres(), reason="SQLite outage (the default test database)")
def test_sqlite_file_missing_then_back(instance: Instance) -> None:
    instance.start()
    member = instance.browser()
    member.sign_in("fan@example.com")
    member.csrf()
    assert member.get("/api/v1/me").status_code == 200
    instance.stop()
    # The volume holding the database is not there when the server starts (a missing mount,
    # a half-finished move). An open SQLite connection keeps its file even when the file is
    # moved, so the outage is observable only for connections opened while it is gone.
    away = instance.root / "elsewhere"
    away.mkdir()
    for path in instance.data_dir.glob("kizuna.db*"):
        shutil.move(path, away / path.name)
    instance.start()
    _assert_unavailable(instance, member)
    # The server did not create a new, empty database in its place.
    assert not instance.sqlite_path.exists()
    for path in away.iterdir():
        shutil.move(path, instance.data_dir / path.name)
    _assert_recovered(instance, member)
