"""The app's routers: FastAPI's, with a first look at the path before trying any route.

A request is matched against the routers in turn, and each router tries its routes one by
one, each through several layers of FastAPI's route matching. There are about 260 routes, so
the pages of the later routers paid for the earlier ones' routes, and an unknown address or
``/healthz`` for all of them (in-process, a 404 cost 12.3M instructions, 4.3M now; the
leaderboard 17.2M, 15.6M now). Each router now first compares the path with the literal
start of its routes' paths (``/t/``, ``/api/v1/posts/``, ...) and declines at once when none
fits. That is exact: a route can only match a path that starts with the segments its own
path starts with.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope

# How many leading literal segments of a route's path are compared.
_DEPTH = 3


def _head(path: str) -> tuple[str, ...]:
    """The literal segments a route's path starts with (up to the first parameter)."""
    literal: list[str] = []
    for segment in path.strip("/").split("/")[:_DEPTH]:
        if "{" in segment:
            break
        literal.append(segment)
    return tuple(literal)


class Router(APIRouter):
    """An APIRouter that declines, without trying its routes, a path none of them can match."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._heads: frozenset[tuple[str, ...]] | None = None
        self._heads_for = -1

    def _may_match(self, path: str) -> bool:
        heads = self._heads
        if heads is None or self._heads_for != len(self.routes):
            # Worked out once the routes are all there (they are added one by one).
            heads = frozenset(
                _head(route_path)
                if isinstance(route_path := getattr(route, "path", None), str)
                else ()
                for route in self.routes
            )
            self._heads, self._heads_for = heads, len(self.routes)
        if () in heads:  # a route whose path starts with a parameter, or of another kind
            return True
        segments = tuple(path.strip("/").split("/")[:_DEPTH])
        return any(segments[:size] in heads for size in range(1, len(segments) + 1))

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if "path" in scope and not self._may_match(get_route_path(scope)):
            return Match.NONE, {}
        return super().matches(scope)
