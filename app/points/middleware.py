"""Per page: load the rank ladder for the badges, and celebrate a rank-up once.

Runs inside the request pipeline (it uses the request's session and viewer). The celebration
remembers the last rank this browser showed for the member in a small cookie, so the flash
appears on the first page after a rank-up, wherever the points came from (a like from someone
else, an operator's award), and never again for the same rank.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import get_settings
from app.kit.i18n import gettext as _
from app.points.ladder import Ladder, page_ladder, use_ladder

RANK_COOKIE = "kizuna_rank"
RANK_COOKIE_MAX_AGE = 31536000
SKIP_PREFIXES = ("/api/", "/static/", "/healthz", "/readyz", "/favicon.ico", "/openapi.json")


def _seen(raw: str | None) -> tuple[int, int] | None:
    member, _sep, rank = (raw or "").partition(".")
    if member.isdigit() and rank.isdigit():
        return int(member), int(rank)
    return None


def celebration(ladder: Ladder, viewer: Any, cookie: str | None) -> tuple[str | None, str | None]:
    """(message to show, cookie value to store) for this viewer on this page."""
    rank = ladder.of_member(viewer)
    if rank is None:
        return None, None
    value = f"{viewer.id}.{rank.id}"
    seen = _seen(cookie)
    if seen is None or seen[0] != viewer.id:
        return None, value  # a new browser learns the current rank quietly
    if seen[1] == rank.id:
        return None, None
    before = ladder.get(seen[1])
    if before is None or rank.threshold > before.threshold:
        message = _(
            "Congratulations! You reached the rank %(badge)s %(rank)s. See what it brings on "
            "the points guide.",
            badge=rank.badge,
            rank=rank.name,
        )
        return message, value
    return None, value


class RankContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state: MutableMapping[str, Any] = scope.get("state") or {}
        db = state.get("db")
        if scope["type"] != "http" or db is None or scope["path"].startswith(SKIP_PREFIXES):
            await self.app(scope, receive, send)
            return
        ladder = await page_ladder(db, get_settings().ranks_cache_seconds)
        use_ladder(ladder)
        request = Request(scope)
        viewer = state.get("viewer")
        store: str | None = None
        if (
            viewer is not None
            and scope["method"] == "GET"
            and request.headers.get("hx-request") != "true"
        ):
            message, store = celebration(ladder, viewer, request.cookies.get(RANK_COOKIE))
            if message:
                state.setdefault("flashes", []).append({"level": "celebrate", "message": message})
        if store is None:
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                shown = int(message["status"]) == 200 and headers.get(
                    "content-type", ""
                ).startswith("text/html")
                if shown:
                    secure = "; Secure" if get_settings().secure_cookies else ""
                    headers.append(
                        "set-cookie",
                        f"{RANK_COOKIE}={store}; Path=/; Max-Age={RANK_COOKIE_MAX_AGE}; HttpOnly; "
                        f"SameSite=Lax{secure}",
                    )
            await send(message)

        await self.app(scope, receive, send_with_cookie)
