"""CSRF on every unsafe route, generated from the application's route table: a signed-in
browser's cookie alone (no token in the form, no X-CSRF-Token header) changes nothing, and a
cross-site WebSocket handshake is refused."""

from __future__ import annotations

import re

import pytest
from websockets.exceptions import InvalidStatus

from app.pipeline import CSRF_EXEMPT_PREFIXES
from tests.live.helpers import open_socket
from tests.security.conftest import UNSAFE, http_routes, row_counts

_PARAM = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")


def _concrete(path: str) -> str:
    return _PARAM.sub("1", path)


def _exempt(path: str) -> bool:
    """One-click unsubscribe (RFC 8058) is posted by mail clients, which hold no CSRF token;
    the signed token in its URL is what a forger cannot know."""
    return path.startswith(CSRF_EXEMPT_PREFIXES)


async def test_every_unsafe_route_refuses_a_cookie_without_a_token(app, signed_in, database):
    admin, _ = await signed_in("admin")
    unsafe = [(method, path) for method, path in http_routes(app) if method in UNSAFE]
    assert len(unsafe) > 40, "the route table was read"
    before = await row_counts(database)
    for method, template in unsafe:
        url = _concrete(template)
        attempts = [
            {"data": {"display_name": "forged", "body": "forged"}},
            {"json": {"display_name": "forged", "body": "forged"}},
            {"files": {"file": ("x.png", b"\x89PNG\r\n", "image/png")}, "data": {"a": "b"}},
        ]
        for attempt in attempts:
            answer = await admin.request(method, url, **attempt)
            if _exempt(url):
                assert answer.status_code == 404, (method, template, answer.status_code)
                continue
            assert answer.status_code == 403, (method, template, answer.status_code)
            if answer.headers["content-type"].startswith("application/json"):
                assert answer.json()["error"]["field"] == "csrf_token"
            else:
                assert "Reload the page" in answer.text
    assert await row_counts(database) == before


async def test_a_token_from_another_origin_is_refused_on_every_unsafe_route(app, signed_in):
    admin, _ = await signed_in("admin")
    token = await admin.csrf_token()
    for method, template in http_routes(app):
        if method not in UNSAFE:
            continue
        answer = await admin.request(
            method,
            _concrete(template),
            headers={"X-CSRF-Token": token, "Origin": "https://evil.example"},
        )
        expected = 404 if _exempt(template) else 403
        assert answer.status_code == expected, (method, template)


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "https://127.0.0.1.evil.example",
        "null",
        "file://",
        "http://127.0.0.1:1",
    ],
)
async def test_cross_site_websocket_handshakes_are_refused(live_server, signed_in, origin):
    client, _ = await signed_in("member")
    token = client.cookies.get("kizuna_session")
    assert token
    with pytest.raises(InvalidStatus) as refused:
        async with open_socket(live_server, token, origin=origin):
            pass
    assert refused.value.response.status_code == 403
