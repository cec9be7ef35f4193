from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from app.pipeline import SESSION_COOKIE

TIMEOUT = 5.0


def open_socket(host: str, token: str | None, *, origin: str | None = None, **kwargs: Any) -> Any:
    headers = {"Cookie": f"{SESSION_COOKIE}={token}"} if token else {}
    return connect(
        f"ws://{host}/ws",
        origin=origin or f"http://{host}",  # type: ignore[arg-type]
        additional_headers=headers,
        open_timeout=TIMEOUT,
        **kwargs,
    )


async def next_event(socket: ClientConnection) -> dict[str, Any]:
    raw = await asyncio.wait_for(socket.recv(), TIMEOUT)
    event: dict[str, Any] = json.loads(raw)
    return event


async def subscribe(socket: ClientConnection, channel: str) -> dict[str, Any]:
    await socket.send(json.dumps({"op": "subscribe", "channel": channel}))
    return await next_event(socket)
