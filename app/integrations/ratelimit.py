"""A request budget per API token, shared by every server process (kept in the database).

A pure ASGI middleware placed inside the request pipeline, so it sees the token the pipeline
identified. Reads count in their own short write transaction (the request keeps its cheap
read-only one); writes count in the request's own transaction, which already holds the lock.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings
from app.db import get_database
from app.kit import i18n, ratelimit
from app.pipeline import SAFE_METHODS

WINDOW_SECONDS = 60


def token_key(token_id: int) -> str:
    return f"api-token:{token_id}"


class TokenRateLimit:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state: dict[str, Any] = scope.get("state") or {}
        token_id = state.get("api_token_id") if scope["type"] == "http" else None
        if token_id is None:
            await self.app(scope, receive, send)
            return
        limit = self.settings.api_token_requests_per_minute
        key = token_key(int(token_id))
        if scope["method"] in SAFE_METHODS:
            async with get_database().transaction() as session:
                wait = await ratelimit.take(session, key, limit, WINDOW_SECONDS)
        else:
            wait = await ratelimit.take(state["db"], key, limit, WINDOW_SECONDS)
        if wait is None:
            await self.app(scope, receive, send)
            return
        body = json.dumps(
            {
                "error": {
                    "status": 429,
                    "message": i18n.gettext(
                        "This API token made too many requests. Try again in %(seconds)s seconds.",
                        seconds=wait,
                    ),
                    "field": "token",
                }
            },
            ensure_ascii=False,
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(wait).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
