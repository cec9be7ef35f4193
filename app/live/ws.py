"""The one WebSocket endpoint, ``/ws``.

The handshake is refused (HTTP 403, before any WebSocket frame) unless the Origin is this site
and the session cookie belongs to an active, confirmed, unsuspended member: WebSockets are not
covered by CORS, so checking the Origin is what stops another site from opening a socket with
the member's cookie. After that the client asks for channels with
``{"op": "subscribe", "channel": "topic:42"}``; each is checked against what the member may see,
and what may not be seen answers exactly like what does not exist.

The member's own channel (bell count, new notifications, points) is joined automatically.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from urllib.parse import urlsplit

from sqlalchemy import select
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from app.config import get_settings
from app.db import get_database
from app.kit import clock
from app.kit.routing import Router
from app.kit.security import sha256_hex
from app.live.broker import (
    CLOSE_POLICY,
    LEADERBOARD,
    Broker,
    Connection,
    get_broker,
    member_channel,
)
from app.models import AuthSession, Member
from app.notifications.policy import is_suspended, visible_topic_ids
from app.pipeline import SESSION_COOKIE

logger = logging.getLogger(__name__)
router = Router()
MAX_CHANNELS = 20
MAX_MESSAGE = 1024


def origin_allowed(origin: str | None, host: str | None) -> bool:
    """Same origin as the page: the configured base URL, or the Host the socket was opened on."""
    if not origin:
        return False
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    base = urlsplit(get_settings().base_url)
    if (parts.scheme, parts.netloc) == (base.scheme, base.netloc):
        return True
    return bool(host) and parts.netloc == host


async def member_for(token: str | None) -> Member | None:
    if not token:
        return None
    async with get_database().session(write=False) as session:
        row = (
            await session.execute(
                select(AuthSession.expires_at, Member)
                .join(Member, Member.id == AuthSession.member_id)
                .where(AuthSession.token_hash == sha256_hex(token))
            )
        ).one_or_none()
        if row is None:
            return None
        expires_at, member = row
        if expires_at <= clock.now() or member.email_verified_at is None or is_suspended(member):
            return None
        # Detached with its loaded values: the socket outlives this short read.
        session.expunge(member)
    return member


async def may_join(member: Member, channel: str) -> bool:
    if channel == member_channel(member.id) or channel == LEADERBOARD:
        return True
    kind, _sep, ident = channel.partition(":")
    if kind != "topic" or not ident.isdigit():
        return False
    async with get_database().session(write=False) as session:
        allowed = await visible_topic_ids(session, member, [int(ident)])
    return int(ident) in allowed


@router.websocket("/ws")
async def live_socket(websocket: WebSocket) -> None:
    broker = get_broker()
    if broker is None or not origin_allowed(
        websocket.headers.get("origin"), websocket.headers.get("host")
    ):
        await websocket.close(code=CLOSE_POLICY)
        return
    member = await member_for(websocket.cookies.get(SESSION_COOKIE))
    if member is None:
        await websocket.close(code=CLOSE_POLICY)
        return
    await websocket.accept()

    async def close(code: int) -> None:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            if websocket.application_state != WebSocketState.DISCONNECTED:
                await websocket.close(code=code)

    connection = Connection(member.id, close)
    broker.attach(connection)
    broker.join(connection, member_channel(member.id))
    sender = asyncio.get_running_loop().create_task(_send_queued(websocket, connection))
    connection.push(json.dumps({"type": "hello", "unread": member.unread_notifications}))
    try:
        await _receive(websocket, broker, connection, member)
    except WebSocketDisconnect:
        pass
    finally:
        broker.detach(connection)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender


async def _send_queued(websocket: WebSocket, connection: Connection) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        while True:
            await websocket.send_text(await connection.queue.get())


async def _receive(
    websocket: WebSocket, broker: Broker, connection: Connection, member: Member
) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        raw = message.get("text")
        if not isinstance(raw, str) or len(raw) > MAX_MESSAGE:
            continue
        try:
            request = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(request, dict):
            continue
        op, channel = request.get("op"), request.get("channel")
        if not isinstance(channel, str) or len(channel) > 60:
            continue
        if op == "subscribe":
            if len(connection.channels) >= MAX_CHANNELS or not await may_join(member, channel):
                connection.push(json.dumps({"type": "refused", "channel": channel}))
                continue
            broker.join(connection, channel)
            connection.push(json.dumps({"type": "subscribed", "channel": channel}))
        elif op == "unsubscribe" and channel != member_channel(member.id):
            broker.leave(connection, channel)
            connection.push(json.dumps({"type": "unsubscribed", "channel": channel}))
