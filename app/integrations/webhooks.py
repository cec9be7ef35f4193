"""Outgoing webhooks: signed deliveries, retried with back-off, logged with their outcome.

An activity with a webhook event becomes one ``webhook_deliveries`` row per subscribed webhook,
in the activity's own transaction. After commit a small per-process worker is woken to send
what is due; failures wait (10 s, 1 min, 5 min, 30 min, 2 h, 6 h, 24 h) and are picked up again
by the worker's periodic pass or by ``kizuna webhooks retry`` from cron. Each attempt first
claims its row with a short lease, so several processes never send the same delivery at once.

Signature: ``X-Kizuna-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.
Receivers recompute it and reject old timestamps to stop replays.

Addresses: the host is resolved and every address checked; private, loopback, link-local and
other non-public addresses are refused unless ``KIZUNA_WEBHOOKS_ALLOW_PRIVATE`` is on. The
connection then goes to the checked address (not a second lookup), so DNS cannot be switched
in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import ssl
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.activity import verbs
from app.activity.service import subscribe
from app.config import get_settings
from app.db import Database, after_commit, get_database
from app.kit import clock
from app.kit.background import BackgroundLoop
from app.kit.sql import read_prebuilt
from app.models import Activity, Webhook, WebhookDelivery

logger = logging.getLogger(__name__)

# Webhook event -> the activity verbs that raise it.
EVENTS: dict[str, tuple[str, ...]] = {
    "member.created": (verbs.SIGNED_UP,),
    "topic.created": (verbs.TOPIC_CREATED,),
    "post.created": (verbs.POST_CREATED, verbs.ANSWER_CREATED),
    "answer.accepted": (verbs.ANSWER_ACCEPTED,),
    "rank.changed": (verbs.RANK_REACHED,),
    "ambassador.flagged": (verbs.AMBASSADOR_FLAGGED,),
    "ambassador.confirmed": (verbs.AMBASSADOR_CONFIRMED,),
    "campaign.entry": (verbs.CAMPAIGN_ENTERED,),
    "survey.response": (verbs.SURVEY_ANSWERED,),
}
EVENT_FOR_VERB = {verb: event for event, verb_list in EVENTS.items() for verb in verb_list}
BACKOFF = (
    timedelta(seconds=10),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
LEASE = timedelta(seconds=60)
TIMEOUT_SECONDS = 10.0
POLL_SECONDS = 30.0
BATCH = 50
SIGNATURE_HEADER = "X-Kizuna-Signature"


class DeliveryRefused(Exception):
    """The address may not be reached, or the request could not be made."""


# --- signing ---------------------------------------------------------------------------------


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(secret: str, header: str, body: bytes, *, tolerance: int = 300) -> bool:
    """What a receiver does (also used by our tests): recompute, compare, check the age."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    stamp = fields.get("t", "")
    if not stamp.isdigit() or abs(time.time() - int(stamp)) > tolerance:
        return False
    expected = signature(secret, int(stamp), body)
    return hmac.compare_digest(expected, header)


# --- addresses -------------------------------------------------------------------------------


def public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def resolve(host: str, port: int, *, allow_private: bool) -> list[str]:
    """Every address ``host`` resolves to, refused if any is not public (unless allowed)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise DeliveryRefused(f"cannot resolve {host}: {exc}") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise DeliveryRefused(f"cannot resolve {host}")
    if not allow_private:
        for address in addresses:
            if not public_address(address):
                raise DeliveryRefused(f"{host} resolves to a private address ({address})")
    return addresses


def check_url(url: str) -> str | None:
    """Why a URL cannot be a webhook target, or None if its form is acceptable."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "scheme"
    if parts.username or parts.password:
        return "credentials"
    try:
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        return "port"
    return None


# --- sending ---------------------------------------------------------------------------------


async def post_json(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST ``body`` and return the response status. Deliberately small: one request, no
    redirects followed (a redirect could lead to a private address), connection closed."""
    settings = get_settings()
    parts = urlsplit(url)
    host = parts.hostname or ""
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    addresses = await resolve(host, port, allow_private=settings.webhooks_allow_private)
    context = ssl.create_default_context() if secure else None
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    head = [
        f"POST {target} HTTP/1.1",
        f"Host: {parts.netloc}",
        "User-Agent: Kizuna-Webhooks/1",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    request = ("\r\n".join(head) + "\r\n\r\n").encode() + body
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS):
            reader, writer = await asyncio.open_connection(
                addresses[0], port, ssl=context, server_hostname=host if secure else None
            )
            try:
                writer.write(request)
                await writer.drain()
                status_line = await reader.readline()
            finally:
                writer.close()
                with contextlib.suppress(OSError, ssl.SSLError):
                    await writer.wait_closed()
    except TimeoutError as exc:
        raise DeliveryRefused("timed out") from exc
    except (OSError, ssl.SSLError) as exc:
        raise DeliveryRefused(str(exc) or exc.__class__.__name__) from exc
    pieces = status_line.decode("latin-1").split()
    if len(pieces) < 2 or not pieces[0].startswith("HTTP/") or not pieces[1].isdigit():
        raise DeliveryRefused("the response was not HTTP")
    return int(pieces[1])


# --- recording deliveries --------------------------------------------------------------------


def payload_for(event: str, activity: Activity) -> str:
    return json.dumps(
        {
            "event": event,
            "activity_id": activity.id,
            "verb": activity.verb,
            "occurred_at": activity.occurred_at.isoformat(),
            "actor_id": activity.actor_id,
            "recipient_id": activity.recipient_id,
            "subject": (
                {"type": activity.subject_type, "id": activity.subject_id}
                if activity.subject_type
                else None
            ),
            "data": activity.data,
        },
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )


def _active_hooks_query(_insert: Any) -> Any:
    return select(Webhook.id, Webhook.events).where(Webhook.active.is_(True)).order_by(Webhook.id)


async def on_activity(session: AsyncSession, activity: Activity) -> None:
    event = EVENT_FOR_VERB.get(activity.verb)
    if event is None:
        return
    # Asked at every reply and accepted answer, and most communities have no webhook: two
    # columns by a statement built once, not the rows as objects by one built each time.
    hooks = await read_prebuilt(session, "webhooks.active", _active_hooks_query, {})
    targets = [hook_id for hook_id, events in hooks if event in events.split()]
    if not targets:
        return
    body = payload_for(event, activity)
    now = clock.now()
    for hook_id in targets:
        session.add(
            WebhookDelivery(webhook_id=hook_id, event=event, payload=body, next_attempt_at=now)
        )
    await session.flush()
    after_commit(session, _kick)


async def _kick() -> None:
    if _worker is not None:
        _worker.kick()


def install() -> None:
    subscribe(on_activity)


# --- attempts --------------------------------------------------------------------------------


async def _claim(database: Database, delivery_id: int, now: datetime) -> bool:
    async with database.transaction() as session:
        claimed = (
            await session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == delivery_id,
                    WebhookDelivery.status == "pending",
                    WebhookDelivery.next_attempt_at <= now,
                )
                .values(next_attempt_at=now + LEASE)
                .returning(WebhookDelivery.id)
            )
        ).scalar_one_or_none()
    return claimed is not None


async def attempt(database: Database, delivery_id: int, now: datetime | None = None) -> bool:
    """Send one due delivery; returns whether it was delivered."""
    moment = now or clock.now()
    if not await _claim(database, delivery_id, moment):
        return False
    async with database.transaction(write=False) as session:
        row = (
            await session.execute(
                select(WebhookDelivery, Webhook)
                .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                .where(WebhookDelivery.id == delivery_id)
            )
        ).one_or_none()
    if row is None:
        return False
    delivery, hook = row
    body = delivery.payload.encode()
    stamp = int(time.time())
    headers = {
        SIGNATURE_HEADER: signature(hook.secret, stamp, body),
        "X-Kizuna-Event": delivery.event,
        "X-Kizuna-Delivery": str(delivery.id),
    }
    status: int | None = None
    error = ""
    try:
        status = await post_json(hook.url, body, headers)
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except DeliveryRefused as exc:
        error = str(exc)[:500]
    await _record(database, delivery.id, delivery.attempts + 1, status, error, moment)
    return not error


async def _record(
    database: Database,
    delivery_id: int,
    attempts: int,
    status: int | None,
    error: str,
    now: datetime,
) -> None:
    values: dict[str, Any] = {"attempts": attempts, "response_status": status, "last_error": error}
    if not error:
        values.update(status="delivered", delivered_at=clock.now(), next_attempt_at=None)
    elif attempts >= MAX_ATTEMPTS:
        values.update(status="failed", next_attempt_at=None)
    else:
        values["next_attempt_at"] = now + BACKOFF[attempts - 1]
    async with database.transaction() as session:
        await session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(**values)
        )


async def due_ids(database: Database, now: datetime, limit: int = BATCH) -> list[int]:
    async with database.transaction(write=False) as session:
        rows = await session.execute(
            select(WebhookDelivery.id)
            .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit)
        )
        return list(rows.scalars())


async def retry_due(database: Database, now: datetime | None = None) -> tuple[int, int]:
    """Attempt everything due now; returns (attempted, delivered)."""
    moment = now or clock.now()
    attempted = delivered = 0
    seen: set[int] = set()
    while True:
        ids = [i for i in await due_ids(database, moment) if i not in seen]
        if not ids:
            return attempted, delivered
        seen.update(ids)
        results = await asyncio.gather(*(attempt(database, i, moment) for i in ids))
        attempted += len(ids)
        delivered += sum(1 for ok in results if ok)


async def redeliver(session: AsyncSession, delivery: WebhookDelivery) -> None:
    """An operator asks to try a failed delivery again: it gets a fresh set of attempts."""
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = clock.now()
    await session.flush()
    after_commit(session, _kick)


# --- the per-process worker ------------------------------------------------------------------


class Worker(BackgroundLoop):
    """Sends due deliveries when woken after a commit, and every POLL_SECONDS anyway."""

    def __init__(self) -> None:
        super().__init__()
        self._wake = asyncio.Event()
        self._pass = asyncio.Lock()

    def kick(self) -> None:
        self._wake.set()

    async def settle(self) -> None:
        """Wait for the pass under way, then send whatever is still due (tests, shutdown)."""
        async with self._pass:
            await retry_due(get_database())

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            async with self._pass:
                try:
                    await retry_due(get_database())
                except Exception:
                    logger.exception("webhook pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=POLL_SECONDS)


_worker: Worker | None = None


def start_worker() -> None:
    global _worker
    install()
    _worker = Worker()
    _worker.start()


async def stop_worker() -> None:
    global _worker
    if _worker is not None:
        await _worker.stop()
        _worker = None


async def settle() -> None:
    if _worker is not None:
        await _worker.settle()


def event_names() -> Iterable[str]:
    return EVENTS.keys()
