"""The routers' first look at the path (app.kit.routing) only skips routers that cannot match:
every route of the app is still reached, and unknown addresses and wrong methods are answered
as before."""

from __future__ import annotations

import re

from starlette.routing import Match

from app.kit.routing import Router


def _concrete(path: str) -> str:
    """A path that the route's own pattern accepts: each parameter filled in."""
    return re.sub(r"\{[^}:]+:path\}", "a/b", re.sub(r"\{[^}:]+(:int)?\}", "1", path))


def _app_routers(app) -> list[Router]:
    routers = [
        route.original_router for route in app.router.routes if hasattr(route, "original_router")
    ]
    assert routers
    assert all(isinstance(router, Router) for router in routers)
    return routers


async def test_every_route_is_still_reached(app):
    checked = 0
    for router in _app_routers(app):
        for route in router.routes:
            path = _concrete(route.path)
            scope = {"type": "http", "path": path, "root_path": "", "method": "GET"}
            if hasattr(route, "methods"):
                scope["method"] = sorted(route.methods)[0]
                # The route itself takes this path (so the check below means something).
                assert route.matches(scope)[0] == Match.FULL, route.path
            assert router._may_match(path), f"{route.path} is skipped for {path}"
            checked += 1
    assert checked > 200


def test_paths_no_route_starts_with_are_declined():
    router = Router()

    @router.get("/t/{topic_id}")
    async def topic(topic_id: int) -> None: ...

    @router.put("/api/v1/posts/{post_id}/like")
    async def like(post_id: int) -> None: ...

    @router.get("/")
    async def home() -> None: ...

    assert router._may_match("/")
    assert router._may_match("/t/5")
    assert router._may_match("/t/5/")
    assert router._may_match("/api/v1/posts/7/like")
    assert not router._may_match("/api/v1/topics")
    assert not router._may_match("/c/general")
    assert not router._may_match("/tea")

    @router.get("/{anything}")
    async def catch_all(anything: str) -> None: ...

    assert router._may_match("/tea")  # a route that starts with a parameter: always tried


async def test_unknown_addresses_and_wrong_methods_are_answered_as_before(client):
    missing = await client.get("/no/such/page")
    assert missing.status_code == 404
    api_missing = await client.get("/api/v1/no-such-thing")
    assert api_missing.status_code == 404
    wrong_method = await client.options("/categories")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "GET"
    assert (await client.get("/healthz")).json()["status"] == "ok"
