from __future__ import annotations

import pytest


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
