"""Notification email: the member's language, plain text with an HTML alternative, a working
sign-in-free unsubscribe link (also as List-Unsubscribe), real SMTP delivery, digests."""

from __future__ import annotations

import asyncio
import re
import socket
from datetime import timedelta
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from app.kit import clock
from app.notifications.digest import send_digests
from tests.notifications.helpers import mails_to, make_topic, notifications_of, reply


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.arrived = asyncio.Event()
        self.loop = asyncio.get_running_loop()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        self.loop.call_soon_threadsafe(self.arrived.set)
        return "250 OK"


@pytest.fixture
async def smtp(settings, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setattr(settings, "smtp_url", f"smtp://127.0.0.1:{port}")
    yield inbox
    controller.stop()


async def test_reply_mail_in_the_members_language_with_unsubscribe(
    client, make_client, database, member_factory
):
    author = await member_factory(email="aiko@example.com", locale="ja")
    replier = await member_factory(name="Ken", locale="en")
    topic = await make_topic(database, author, title="札幌のラーメン")

    await reply(database, replier, topic)

    [mail] = await mails_to(database, "aiko@example.com")
    assert "Ken" in mail.subject
    assert "札幌のラーメン" in mail.subject
    assert "返信" in mail.subject
    assert "http://testserver/p/" in mail.body_text
    assert "<html" in mail.body_html
    assert "札幌のラーメン" in mail.body_html
    assert mail.unsubscribe_url.startswith("http://testserver/unsubscribe/")
    assert mail.unsubscribe_url in mail.body_text
    [row] = await notifications_of(database, author)
    assert row.emailed_at is not None

    # A stranger's browser, never signed in, follows the link from the mail.
    browser = make_client()
    path = mail.unsubscribe_url.removeprefix("http://testserver")
    page = await browser.get(path, headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "Stop emails about: Replies to my topics and posts?" in page.text
    # RFC 8058 one-click: the mail program POSTs without any page, cookie or CSRF token.
    done = await browser.post(
        path, data={"List-Unsubscribe": "One-Click"}, headers={"Accept-Language": "en"}
    )
    assert done.status_code == 200
    assert "You will no longer get these emails" in done.text

    await reply(database, replier, topic)
    assert len(await mails_to(database, "aiko@example.com")) == 1
    assert len(await notifications_of(database, author)) == 2  # still told in the app

    forged = await browser.get(path[:-3] + "abc", headers={"Accept-Language": "en"})
    assert forged.status_code == 404


async def test_likes_do_not_mail_by_default(database, member_factory):
    from tests.notifications.helpers import like

    author = await member_factory(email="liked@example.com", locale="en")
    fan = await member_factory(locale="en")
    topic = await make_topic(database, author)
    await like(database, fan, author, topic, 5)
    assert await mails_to(database, "liked@example.com") == []


async def test_mail_goes_through_a_real_smtp_server(smtp, database, member_factory):
    author = await member_factory(email="smtp@example.com", name="Aiko", locale="en")
    replier = await member_factory(name="Ken", locale="en")
    topic = await make_topic(database, author, title="Espresso <tips>")

    await reply(database, replier, topic)
    await asyncio.wait_for(smtp.arrived.wait(), 5)

    [message] = smtp.messages
    assert message["To"] == "smtp@example.com"
    assert message["Subject"] == "[Kizuna] Ken replied in Espresso <tips>"
    assert re.fullmatch(r"<http://testserver/unsubscribe/\S+>", message["List-Unsubscribe"])
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    parts = {part.get_content_type(): part for part in message.walk()}
    plain = parts["text/plain"].get_payload(decode=True).decode()
    html = parts["text/html"].get_payload(decode=True).decode()
    assert "Hello Aiko," in plain
    assert "Espresso <tips>" in plain
    assert "Espresso &lt;tips&gt;" in html
    [mail] = await mails_to(database, "smtp@example.com")
    assert mail.sent_at is not None
    assert mail.last_error == ""


async def test_daily_digest_collects_what_was_not_mailed(client, database, member_factory, login):
    author = await member_factory(email="digest@example.com", locale="en")
    replier = await member_factory(name="Ken", locale="en")
    topic = await make_topic(database, author, title="Hand drip")
    await login(client, author)
    await client.submit(
        "/settings/notifications", {"reply": "app", "mention": "app", "digest": "daily"}
    )
    await reply(database, replier, topic)
    await reply(database, replier, topic, mentions=[author.id])
    assert await mails_to(database, "digest@example.com") == []

    assert await send_digests(database, "daily") == 1
    [mail] = await mails_to(database, "digest@example.com")
    assert mail.subject == "[Kizuna] 2 unread notifications"
    assert "Ken replied in Hand drip" in mail.body_text
    assert "Ken mentioned you in Hand drip" in mail.body_text
    assert "/unsubscribe/" in mail.unsubscribe_url

    # Each notification goes into one digest only; nothing new, nothing sent.
    assert await send_digests(database, "daily") == 0
    assert await send_digests(database, "weekly") == 0
    later = clock.now() + timedelta(days=2)
    await reply(database, replier, topic)
    assert await send_digests(database, "daily", now=later + timedelta(days=2)) == 0
