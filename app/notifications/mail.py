"""Outgoing mail: written to the outbox in the action's transaction, sent after it commits.

With ``KIZUNA_SMTP_URL`` (``smtp://user:pass@host:port``, ``smtps://`` for implicit TLS,
``?starttls=1`` to upgrade) mail is delivered through aiosmtplib; without it, it stays in the
outbox, which admins can read at /admin/outbox.

A mail may carry an HTML alternative beside its plain text, and an unsubscribe address that is
sent as ``List-Unsubscribe`` so mail programs can offer their own "unsubscribe" button.
"""

from __future__ import annotations

import logging
from email import policy
from email.message import EmailMessage
from email.utils import parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings, get_settings
from app.db import after_commit, get_database
from app.kit import clock
from app.models import OutboxMail

logger = logging.getLogger(__name__)


def build_message(settings: Settings, mail: OutboxMail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Message-ID"] = (
        f"<kizuna-{mail.id}@{urlsplit(settings.base_url).hostname or 'localhost'}>"
    )
    if mail.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(mail.body_text)
    if mail.body_html:
        message.add_alternative(mail.body_html, subtype="html")
    return message


async def deliver(settings: Settings, message: EmailMessage) -> None:
    parts = urlsplit(settings.smtp_url)
    options = parse_qs(parts.query)
    # Flattened here, allowing RFC 5322's 998-character lines: with the usual 78, a long
    # unbreakable header such as List-Unsubscribe's URL is mangled into encoded words.
    raw = message.as_bytes(policy=policy.SMTP.clone(max_line_length=998))
    await aiosmtplib.send(
        raw,
        sender=parseaddr(str(message["From"]))[1],
        recipients=[parseaddr(str(message["To"]))[1]],
        hostname=parts.hostname or "localhost",
        port=parts.port or (465 if parts.scheme == "smtps" else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=parts.scheme == "smtps",
        start_tls=options.get("starttls", ["0"])[0] in ("1", "true", "yes"),
        timeout=20,
    )


async def queue_mail(
    session: AsyncSession,
    to_address: str,
    subject: str,
    body: str,
    *,
    html: str = "",
    unsubscribe_url: str = "",
) -> OutboxMail:
    mail = OutboxMail(
        to_address=to_address,
        subject=subject[:200],
        body_text=body,
        body_html=html,
        unsubscribe_url=unsubscribe_url[:500],
    )
    session.add(mail)
    await session.flush()
    settings = get_settings()
    if settings.env == "development" and not settings.smtp_url:
        logger.warning("mail to %s kept in the outbox: %s\n%s", to_address, subject, body)
    if settings.smtp_url:
        message = build_message(settings, mail)
        mail_id = mail.id

        async def send() -> None:
            await _send_and_mark(settings, message, mail_id)

        after_commit(session, send)
    return mail


async def _send_and_mark(settings: Settings, message: EmailMessage, mail_id: int) -> None:
    error = ""
    try:
        await deliver(settings, message)
    except (aiosmtplib.SMTPException, OSError) as exc:
        error = str(exc)[:500]
        logger.warning("mail %s not delivered: %s", mail_id, error)
    async with get_database().transaction() as session:
        values: dict[str, object] = {"attempts": OutboxMail.attempts + 1, "last_error": error}
        if not error:
            values["sent_at"] = clock.now()
        await session.execute(update(OutboxMail).where(OutboxMail.id == mail_id).values(**values))
