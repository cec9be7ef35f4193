"""Daily or weekly digests of unread notifications, for members who asked for one.

Run by ``kizuna notifications digest --period daily`` (and ``weekly``) from cron. Each member's
digest is its own transaction: a notification goes into at most one digest, and one failure
does not stop the others.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.config import get_settings
from app.db import Database
from app.kit import clock
from app.kit.i18n import ngettext
from app.kit.templating import render_string
from app.models import Member, Notification, NotificationPreference
from app.notifications import kinds
from app.notifications.mail import queue_mail
from app.notifications.service import in_locale, unsubscribe_url
from app.notifications.text import headline, target_url

PERIODS = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
MAX_LINES = 30
BATCH = 200


async def send_digests(database: Database, period: str, now: datetime | None = None) -> int:
    """Mail each member who chose ``period`` what is unread and was never mailed; returns the
    number of digests sent."""
    if period not in PERIODS:
        raise ValueError(f"unknown digest period {period!r}")
    moment = now or clock.now()
    since = moment - PERIODS[period]
    sent = 0
    after_id = 0
    while True:
        async with database.transaction(write=False) as session:
            member_ids = list(
                (
                    await session.execute(
                        select(NotificationPreference.member_id)
                        .where(
                            NotificationPreference.kind == kinds.DIGEST,
                            NotificationPreference.channel == period,
                            NotificationPreference.member_id > after_id,
                        )
                        .order_by(NotificationPreference.member_id)
                        .limit(BATCH)
                    )
                ).scalars()
            )
        if not member_ids:
            return sent
        after_id = member_ids[-1]
        for member_id in member_ids:
            if await _send_one(database, member_id, since, moment):
                sent += 1


async def _send_one(database: Database, member_id: int, since: datetime, now: datetime) -> bool:
    settings = get_settings()
    async with database.transaction() as session:
        member = await session.get(Member, member_id)
        if member is None or member.email_verified_at is None:
            return False
        rows = list(
            (
                await session.execute(
                    select(Notification)
                    .where(
                        Notification.member_id == member_id,
                        Notification.digested_at.is_(None),
                        Notification.read_at.is_(None),
                        Notification.emailed_at.is_(None),
                        Notification.updated_at >= since,
                    )
                    .order_by(Notification.updated_at.desc(), Notification.id.desc())
                    .limit(MAX_LINES)
                )
            ).scalars()
        )
        if not rows:
            return False
        actor_ids = {row.actor_id for row in rows if row.actor_id is not None}
        actors = {
            actor.id: actor
            for actor in (
                await session.execute(select(Member).where(Member.id.in_(actor_ids)))
            ).scalars()
        }
        unsubscribe = unsubscribe_url(member.id, kinds.DIGEST)
        with in_locale(member):
            lines = [
                {
                    "text": headline(row, actors.get(row.actor_id or 0), html=False),
                    "html": headline(row, actors.get(row.actor_id or 0), html=True, absolute=True),
                    "link": f"{settings.base_url}{target_url(row)}",
                }
                for row in rows
            ]
            context = {
                "member": member,
                "lines": lines,
                "site_name": settings.site_name,
                "notifications_link": f"{settings.base_url}/notifications",
                "preferences_link": f"{settings.base_url}/settings/notifications",
                "unsubscribe_link": unsubscribe,
            }
            subject = ngettext(
                "[%(site)s] %(num)s unread notification",
                "[%(site)s] %(num)s unread notifications",
                len(lines),
                site=settings.site_name,
            )
            body = render_string("notifications/mail/digest.txt", **context)
            html = render_string("notifications/mail/digest.html", **context)
        await queue_mail(
            session,
            member.email,
            subject,
            body,
            html=html,
            unsubscribe_url=unsubscribe,
        )
        for row in rows:
            row.digested_at = now
    return True
