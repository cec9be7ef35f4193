"""Webhooks: operators register them, deliveries are signed, retried with back-off and logged;
private and loopback addresses are refused unless the setting allows them."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.activity import verbs
from app.integrations import webhooks
from app.kit import clock
from app.models import WebhookDelivery
from tests.notifications.helpers import make_topic, record

SECRET = "a-very-secret-signing-key"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A tiny HTTP server on 127.0.0.1: answers each POST with the next planned status."""

    statuses: list[int] = field(default_factory=list)
    requests: asyncio.Queue[Received] = field(default_factory=asyncio.Queue)
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            if ": " in line:
                name, value = line.split(": ", 1)
                headers[name.lower()] = value
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        status = self.statuses.pop(0) if self.statuses else 200
        writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n".encode())
        await writer.drain()
        writer.close()
        await self.requests.put(Received(headers, body))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/kizuna"

    async def next(self) -> Received:
        return await asyncio.wait_for(self.requests.get(), 5)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    target = Receiver()
    server = await asyncio.start_server(target.handle, "127.0.0.1", 0)
    target.port = server.sockets[0].getsockname()[1]
    yield target
    server.close()
    await server.wait_closed()


@pytest.fixture
def allow_private(settings, monkeypatch):
    monkeypatch.setattr(settings, "webhooks_allow_private", True)


async def register(client, url: str, events: list[str], secret: str = SECRET):
    return await client.submit(
        "/integrations/webhooks",
        {"url": url, "events": events, "secret": secret, "description": "CRM"},
    )


async def deliveries(database) -> list[WebhookDelivery]:
    async with database.transaction(write=False) as session:
        rows = await session.execute(select(WebhookDelivery).order_by(WebhookDelivery.id))
        return list(rows.scalars())


async def test_signed_delivery_reaches_the_receiver(
    client, database, member_factory, login, receiver, allow_private
):
    operator = await member_factory(role="operator", locale="en")
    await login(client, operator)
    created = await register(client, receiver.url, ["topic.created", "post.created"])
    assert created.status_code == 201
    assert SECRET in created.text  # shown once, on creation

    topic = await make_topic(database, operator, title="Launch day")
    await record(
        database,
        verbs.TOPIC_CREATED,
        actor_id=operator.id,
        subject=("topic", topic.id),
        data={"category_id": topic.category_id, "topic_id": topic.id, "kind": "discussion"},
    )
    await record(database, verbs.VISITED, actor_id=operator.id)  # not a webhook event

    got = await receiver.next()
    payload = json.loads(got.body)
    assert payload["event"] == "topic.created"
    assert payload["subject"] == {"type": "topic", "id": topic.id}
    assert got.headers["x-kizuna-event"] == "topic.created"
    signature = got.headers["x-kizuna-signature"]
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", signature)
    assert webhooks.verify_signature(SECRET, signature, got.body)
    assert not webhooks.verify_signature("wrong-secret-entirely", signature, got.body)
    assert not webhooks.verify_signature(SECRET, signature, got.body + b" ")

    await webhooks.settle()
    [row] = await deliveries(database)
    assert row.status == "delivered"
    assert row.response_status == 200
    assert row.attempts == 1
    page = await client.get(f"/integrations/webhooks/{row.webhook_id}")
    assert "Delivered" in page.text
    assert "topic.created" in page.text


async def test_failures_are_retried_with_back_off_and_logged(
    client, database, member_factory, login, receiver, allow_private
):
    receiver.statuses = [500, 503]
    operator = await member_factory(role="operator", locale="en")
    await login(client, operator)
    await register(client, receiver.url, ["member.created"])

    await member_factory()  # signing up raises member.created
    await receiver.next()
    await webhooks.settle()
    [row] = await deliveries(database)
    assert row.status == "pending"
    assert row.attempts == 1
    assert row.response_status == 500
    assert row.last_error == "HTTP 500"
    assert row.next_attempt_at is not None
    wait = row.next_attempt_at - clock.now()
    assert timedelta(seconds=5) < wait <= timedelta(seconds=10)

    # Not due yet: nothing is sent.
    assert await webhooks.retry_due(database) == (0, 0)
    assert await webhooks.retry_due(database, clock.now() + timedelta(seconds=11)) == (1, 0)
    await receiver.next()
    [row] = await deliveries(database)
    assert row.attempts == 2
    assert row.response_status == 503
    assert row.next_attempt_at is not None
    assert row.next_attempt_at - clock.now() > timedelta(seconds=50)

    later = clock.now() + timedelta(minutes=2)
    assert await webhooks.retry_due(database, later) == (1, 1)
    received = await receiver.next()
    assert webhooks.verify_signature(SECRET, received.headers["x-kizuna-signature"], received.body)
    [row] = await deliveries(database)
    assert row.status == "delivered"
    assert row.attempts == 3


async def test_a_delivery_gives_up_after_the_last_attempt(
    client, database, member_factory, login, allow_private
):
    operator = await member_factory(role="operator", locale="en")
    await login(client, operator)
    # Nothing listens on this port: every attempt fails to connect.
    await register(client, "http://127.0.0.1:9/hook", ["member.created"])
    await member_factory()
    await webhooks.settle()
    moment = clock.now()
    for _ in range(webhooks.MAX_ATTEMPTS):
        moment += timedelta(days=2)
        await webhooks.retry_due(database, moment)
    [row] = await deliveries(database)
    assert row.status == "failed"
    assert row.attempts == webhooks.MAX_ATTEMPTS
    assert row.last_error
    page = await client.get(f"/integrations/webhooks/{row.webhook_id}")
    assert "Gave up" in page.text

    again = await client.submit(
        f"/integrations/webhooks/{row.webhook_id}/deliveries/{row.id}/retry"
    )
    assert again.status_code == 303
    [row] = await deliveries(database)
    assert row.status in ("pending", "failed")
    assert row.attempts <= 1


async def test_private_addresses_are_refused(client, database, member_factory, login):
    operator = await member_factory(role="operator", locale="en")
    await login(client, operator)
    for url in (
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://192.168.1.1/",
    ):
        refused = await register(client, url, ["topic.created"])
        assert refused.status_code == 422, url
        assert "private, loopback or link-local" in refused.text
    bad = await register(client, "ftp://example.com/", ["topic.created"])
    assert bad.status_code == 422
    api = await client.send_json(
        "POST", "/api/v1/webhooks", {"url": "http://127.0.0.1/", "events": ["topic.created"]}
    )
    assert api.status_code == 422
    assert api.json()["error"]["field"] == "url"

    # A name is checked when resolved, at every delivery: every address must be public.
    with pytest.raises(webhooks.DeliveryRefused, match="private address"):
        await webhooks.resolve("localhost", 80, allow_private=False)
    assert await webhooks.resolve("localhost", 80, allow_private=True)


async def test_a_hook_registered_while_allowed_stops_when_the_setting_is_off(
    client, database, member_factory, login, receiver, settings, monkeypatch
):
    monkeypatch.setattr(settings, "webhooks_allow_private", True)
    operator = await member_factory(role="operator", locale="en")
    await login(client, operator)
    await register(client, receiver.url, ["member.created"])
    monkeypatch.setattr(settings, "webhooks_allow_private", False)
    await member_factory()
    await webhooks.settle()
    [row] = await deliveries(database)
    assert row.status == "pending"
    assert "private address" in row.last_error
    assert receiver.requests.empty()


async def test_only_operators_manage_webhooks(client, member_factory, login):
    member = await member_factory(locale="en")
    await login(client, member)
    assert (await client.get("/integrations/webhooks")).status_code == 403
    assert (await client.get("/api/v1/webhooks")).status_code == 403


async def test_webhook_api_and_bad_input(client, database, member_factory, login, allow_private):
    operator = await member_factory(role="operator", locale="en")
    await login(client, operator)
    unknown = await client.send_json(
        "POST", "/api/v1/webhooks", {"url": "https://hooks.example.com/k", "events": ["nope"]}
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["field"] == "events"
    short = await client.send_json(
        "POST",
        "/api/v1/webhooks",
        {"url": "https://hooks.example.com/k", "events": ["post.created"], "secret": "short"},
    )
    assert short.json()["error"]["field"] == "secret"
    made = await client.send_json(
        "POST",
        "/api/v1/webhooks",
        {"url": "https://hooks.example.com/k", "events": ["post.created"]},
    )
    assert made.status_code == 201
    hook = made.json()
    assert len(hook["secret"]) >= 16
    listed = (await client.get("/api/v1/webhooks")).json()
    assert [item["url"] for item in listed] == ["https://hooks.example.com/k"]
    assert "secret" not in listed[0]
    log = (await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries")).json()
    assert log == {"items": [], "next_cursor": None}
    assert (await client.send_json("DELETE", f"/api/v1/webhooks/{hook['id']}")).status_code == 204
    assert (await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries")).status_code == 404
