"""A request budget per API token, shared by every server process (kept in the database).

A pure ASGI middleware placed inside the request pipeline, so it sees the token the pipeline
identified. Reads count in their own short write transaction (the request keeps its cheap
read-only one). A write is refused at once if its token had spent its budget when the
pipeline looked the token up (the same statement reads both); otherwise it is counted in its
own transaction as its last statement before the commit, and refused (429, nothing it did
kept) if that count went over, so concurrent writes cannot overdraw the budget. Counted last,
the count's row is locked only for the commit (PostgreSQL), and on SQLite the write lock is
not taken before the request's own first statement.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.db import get_database
from app.kit import i18n, ratelimit
from app.pipeline import SAFE_METHODS, TOKEN_BUDGET_PREFIX

WINDOW_SECONDS = 60


def token_key(token_id: int) -> str:
    return f"{TOKEN_BUDGET_PREFIX}{token_id}"


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
            if wait is None:
                await self.app(scope, receive, send)
                return
            await _refuse(send, wait)
            return
        db = state["db"]
        budget: tuple[int, datetime] | None = state.get("token_budget")
        wait = None
        if budget is not None:
            wait = ratelimit.wait_left(budget[0], budget[1], limit, WINDOW_SECONDS)
        if wait is not None:
            await _refuse(send, wait)
            return
        refused = False

        async def count_then_send(message: Message) -> None:
            nonlocal refused
            if refused:
                return  # the app's answer, replaced by the refusal
            if message["type"] == "http.response.start" and (
                int(message["status"]) < 400 or state.get("keep_writes")
            ):
                over = await ratelimit.take(db, key, limit, WINDOW_SECONDS)
                if over is not None:
                    # Others used the budget up meanwhile: answered 429, the pipeline rolls
                    # this request back (the count with it).
                    refused = True
                    await _refuse(send, over)
                    return
            await send(message)

        await self.app(scope, receive, count_then_send)


async def _refuse(send: Send, wait: int) -> None:
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
