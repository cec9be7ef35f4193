"""Fan-out of live events to WebSocket connections.

Every process keeps the connections it serves, indexed by channel (``member:<id>``,
``topic:<id>``, ``leaderboard``) and by member. Without ``KIZUNA_REDIS_URL`` an event goes
straight to this process's connections. With it, an event is published to one Redis channel
and every process (this one included) delivers it to its own connections, so N processes or
hosts behind a load balancer share live events. Control messages (close a member's sockets)
travel the same way.

Events are queued with :func:`publish_after_commit` and leave only once the transaction commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from redis import asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings, get_settings
from app.db import after_commit

logger = logging.getLogger(__name__)

# How many unsent events a connection may fall behind before it is dropped (it reconnects).
QUEUE_LIMIT = 256
CLOSE_POLICY = 1008
CLOSE_TRY_AGAIN = 1013
Closer = Callable[[int], Coroutine[Any, Any, None]]


class Connection:
    """One WebSocket, seen from the broker: a member, its channels and an outgoing queue."""

    def __init__(self, member_id: int, closer: Closer) -> None:
        self.member_id = member_id
        self.channels: set[str] = set()
        self.queue: asyncio.Queue[str] = asyncio.Queue(QUEUE_LIMIT)
        self._closer = closer
        self._closing: asyncio.Task[None] | None = None

    def push(self, text: str) -> None:
        if self._closing is not None:
            return
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            # A reader that cannot keep up is dropped rather than buffered without bound;
            # the client reconnects and reloads what it missed.
            self.close(CLOSE_TRY_AGAIN)

    def close(self, code: int) -> None:
        if self._closing is None:
            self._closing = asyncio.get_running_loop().create_task(self._closer(code))


def redis_channel(settings: Settings) -> str:
    """Processes of one community share their secret; two communities on one Redis do not."""
    digest = hashlib.sha256(settings.secret_key.encode()).hexdigest()[:12]
    return f"kizuna:live:{digest}"


class Broker:
    """In-process fan-out: the default, and the local half of the Redis broker."""

    def __init__(self) -> None:
        self._channels: dict[str, set[Connection]] = {}
        self._members: dict[int, set[Connection]] = {}

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        for connections in list(self._members.values()):
            for connection in list(connections):
                connection.close(1001)

    # connections -------------------------------------------------------------------------
    def attach(self, connection: Connection) -> None:
        self._members.setdefault(connection.member_id, set()).add(connection)

    def detach(self, connection: Connection) -> None:
        for channel in list(connection.channels):
            self.leave(connection, channel)
        members = self._members.get(connection.member_id)
        if members is not None:
            members.discard(connection)
            if not members:
                del self._members[connection.member_id]

    def join(self, connection: Connection, channel: str) -> None:
        connection.channels.add(channel)
        self._channels.setdefault(channel, set()).add(connection)

    def leave(self, connection: Connection, channel: str) -> None:
        connection.channels.discard(channel)
        listeners = self._channels.get(channel)
        if listeners is not None:
            listeners.discard(connection)
            if not listeners:
                del self._channels[channel]

    def connection_count(self) -> int:
        return sum(len(connections) for connections in self._members.values())

    # events ------------------------------------------------------------------------------
    def reaches(self, channel: str) -> bool:
        """Whether an event on ``channel`` can reach anybody: here, a connection of this
        process that joined it."""
        return channel in self._channels

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        if self.reaches(channel):
            self.deliver(channel, encode(channel, event))

    async def disconnect_member(self, member_id: int) -> None:
        self.close_member(member_id)

    def deliver(self, channel: str, text: str) -> None:
        for connection in list(self._channels.get(channel, ())):
            connection.push(text)

    def close_member(self, member_id: int) -> None:
        for connection in list(self._members.get(member_id, ())):
            connection.close(CLOSE_POLICY)


class RedisBroker(Broker):
    """Publishes to Redis; a listener task delivers what every process published."""

    def __init__(self, url: str, channel: str) -> None:
        super().__init__()
        self._redis = aioredis.Redis.from_url(url)
        self._channel = channel
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        self._listener = asyncio.get_running_loop().create_task(self._listen())
        # Serve only once subscribed, so nothing published after start-up is missed.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def stop(self) -> None:
        await super().stop()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._redis.aclose()

    def reaches(self, channel: str) -> bool:
        return True  # the other processes' connections are not known here

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        await self._redis.publish(
            self._channel, json.dumps({"c": channel, "t": encode(channel, event)})
        )

    async def disconnect_member(self, member_id: int) -> None:
        await self._redis.publish(self._channel, json.dumps({"kick": member_id}))

    async def _listen(self) -> None:
        delay = 0.5
        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self._channel)
                    self._ready.set()
                    delay = 0.5
                    async for message in pubsub.listen():
                        self._dispatch(message.get("data"))
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                logger.warning("live: Redis unavailable (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    def _dispatch(self, raw: Any) -> None:
        try:
            message = json.loads(raw)
        except (TypeError, ValueError):
            return
        if not isinstance(message, dict):
            return
        if "kick" in message:
            self.close_member(int(message["kick"]))
        elif isinstance(message.get("c"), str) and isinstance(message.get("t"), str):
            self.deliver(message["c"], message["t"])


def encode(channel: str, event: dict[str, Any]) -> str:
    """Encoded once per event, however many connections receive it."""
    return json.dumps({"channel": channel, **event}, ensure_ascii=False, separators=(",", ":"))


def create_broker(settings: Settings) -> Broker:
    if settings.redis_url:
        return RedisBroker(settings.redis_url, redis_channel(settings))
    return Broker()


_current: Broker | None = None


def set_broker(broker: Broker | None) -> None:
    global _current
    _current = broker


def get_broker() -> Broker | None:
    return _current


async def publish(channel: str, event: dict[str, Any]) -> None:
    """Send now (call it after commit). Outside a server process (CLI jobs) events still reach
    the servers' sockets through Redis when it is configured; otherwise nobody is listening."""
    broker = _current
    if broker is not None:
        await broker.publish(channel, event)
        return
    settings = get_settings()
    if settings.redis_url:
        once = RedisBroker(settings.redis_url, redis_channel(settings))
        try:
            await once.publish(channel, event)
        finally:
            await once.stop()


def may_reach(channel: str) -> bool:
    """Whether an event published on ``channel`` now could reach anybody, so that one nobody
    can receive is not even built (a like's "A and 4 others" line, say): without Redis, only
    this process's connections can; with it, any process's may."""
    broker = _current
    if broker is not None:
        return broker.reaches(channel)
    return bool(get_settings().redis_url)


async def disconnect_member(member_id: int) -> None:
    """Close every live connection of a member, on every process (suspension, deletion)."""
    broker = _current
    if broker is not None:
        await broker.disconnect_member(member_id)
        return
    settings = get_settings()
    if settings.redis_url:
        once = RedisBroker(settings.redis_url, redis_channel(settings))
        try:
            await once.disconnect_member(member_id)
        finally:
            await once.stop()


def publish_after_commit(session: AsyncSession, channel: str, event: dict[str, Any]) -> None:
    """Queue a live event; it is sent only if and when the transaction commits."""

    async def send() -> None:
        await publish(channel, event)

    after_commit(session, send)


def disconnect_member_after_commit(session: AsyncSession, member_id: int) -> None:
    async def send() -> None:
        await disconnect_member(member_id)

    after_commit(session, send)


def member_channel(member_id: int) -> str:
    return f"member:{member_id}"


def topic_channel(topic_id: int) -> str:
    return f"topic:{topic_id}"


LEADERBOARD = "leaderboard"
