from __future__ import annotations

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.kit.handlers import install as install_handlers


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/signin",
        "/signup",
        "/no/such/page",
        "/api/v1/me",
        "/healthz",
        "/static/css/kizuna.css",
    ],
)
async def test_security_headers_on_every_response(client, path):
    response = await client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


async def test_pages_have_no_inline_script(client):
    for path in ("/", "/signin", "/signup"):
        html = (await client.get(path)).text
        assert "<script>" not in html
        assert " onclick=" not in html
        assert " style=" not in html


async def test_404_page_and_json(client):
    page = await client.get("/no/such/page")
    assert page.status_code == 404
    assert "Not found" in page.text
    api = await client.get("/api/v1/nothing-here")
    assert api.status_code == 404
    assert api.json()["error"]["status"] == 404


async def test_bad_json_names_the_field(client, member_factory, login):
    await login(client, await member_factory())
    token = await client.csrf_token()
    broken = await client.patch(
        "/api/v1/me",
        content=b"{not json",
        headers={"X-CSRF-Token": token, "Content-Type": "application/json"},
    )
    assert broken.status_code == 422
    long_name = await client.send_json("PATCH", "/api/v1/me", {"display_name": "x" * 61})
    assert long_name.status_code == 422
    assert long_name.json()["error"]["field"] == "body.display_name"
    assert "60" in long_name.json()["error"]["message"]
    bad_zone = await client.send_json("PATCH", "/api/v1/me", {"timezone": "Mars/Olympus"})
    assert bad_zone.json()["error"]["field"] == "body.timezone"


async def test_health_and_readiness(client):
    assert (await client.get("/healthz")).json()["status"] == "ok"
    assert (await client.get("/readyz")).json()["status"] == "ready"


async def test_oversized_bodies_are_refused(client):
    token = await client.csrf_token()
    huge = await client.post(
        "/signin",
        content=b"x" * (11 * 1024 * 1024),
        headers={"X-CSRF-Token": token, "Content-Type": "application/octet-stream"},
    )
    assert huge.status_code == 413
    big_form = await client.post(
        "/signin",
        content=b"email=" + b"x" * (2 * 1024 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert big_form.status_code == 413
    assert "too large" in big_form.text


async def test_a_number_too_wide_for_its_column_is_bad_input_never_a_server_error(database):
    """The last line of defence behind each form's bounds: whatever number reaches a statement
    that its column's type cannot hold, the answer is a 422 that says so, on either database."""
    probe = FastAPI()
    install_handlers(probe)

    @probe.get("/api/probe/{kind}")
    async def _probe(kind: str, n: int) -> dict[str, bool]:
        statement = {
            # bound into a 32-bit integer: asyncpg refuses it while binding
            "bind": "SELECT CAST(:n AS INTEGER)",
            # a 32-bit result that overflows inside PostgreSQL (SQLSTATE 22003)
            "overflow": "SELECT CAST(:n AS INTEGER) * 4",
        }[kind]
        # As a page's reads run on PostgreSQL: in autocommit, no transaction to roll back.
        reads = database.engine.execution_options(isolation_level="AUTOCOMMIT")
        async with reads.connect() as connection:
            await connection.execute(text(statement), {"n": n})
        return {"ok": True}

    transport = httpx.ASGITransport(app=probe, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
        beyond_64_bits = await client.get("/api/probe/bind", params={"n": 2**70})
        assert beyond_64_bits.status_code == 422
        assert "too large" in beyond_64_bits.json()["error"]["message"]
        beyond_32_bits = await client.get("/api/probe/bind", params={"n": 2**40})
        overflowing = await client.get("/api/probe/overflow", params={"n": 2**30})
        if database.is_sqlite:  # SQLite's integers are 64 bits and widen to reals on overflow
            assert (beyond_32_bits.status_code, overflowing.status_code) == (200, 200)
        else:
            for answer in (beyond_32_bits, overflowing):
                assert answer.status_code == 422
                assert "too large" in answer.json()["error"]["message"]
            assert await _inside_a_probe_statement(database) == 0
        assert (await client.get("/api/probe/bind", params={"n": 7})).json() == {"ok": True}


async def _inside_a_probe_statement(database) -> int:
    """Connections left inside a probe statement's exchange, with its transaction (and locks)
    open until their next use (app.db ends it), asked on a connection of its own. Any found
    are ended, so that a failure here fails rather than blocks the next test's TRUNCATE."""
    url = make_url(database.settings.resolved_database_url).set(drivername="postgresql")
    monitor = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        held = await monitor.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND xact_start IS NOT NULL AND query LIKE 'SELECT CAST(%'"
        )
        for row in held:
            await monitor.execute("SELECT pg_terminate_backend($1)", row["pid"])
        return len(held)
    finally:
        await monitor.close()
