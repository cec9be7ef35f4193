"""Moderation settings (admins change them; defaults live here) and posting limits.

Settings are rows in ``community_settings`` under ``moderation.<name>``; a missing row means
the default below. Posting limits use the database-backed fixed windows of
:mod:`app.kit.ratelimit`, so every server process counts the same attempts.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.kit import clock, ratelimit
from app.kit.errors import Invalid, TooManyRequests
from app.kit.i18n import ngettext
from app.kit.sql import insert, read_prebuilt
from app.models import CommunitySetting, Member

PREFIX = "moderation."
_LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{3,20}")


class ModerationSettings(BaseModel):
    """Everything an admin may tune. Field limits keep a typo from disabling moderation."""

    model_config = ConfigDict(extra="forbid")

    flag_threshold: float = Field(default=3.0, ge=0.5, le=100)
    flags_per_day: int = Field(default=10, ge=1, le=1000)
    approve_first_posts: int = Field(default=0, ge=0, le=50)
    new_member_days: int = Field(default=3, ge=0, le=365)
    post_interval_seconds: int = Field(default=5, ge=0, le=3600)
    new_member_post_interval_seconds: int = Field(default=30, ge=0, le=3600)
    topics_per_day: int = Field(default=20, ge=1, le=10_000)
    new_member_topics_per_day: int = Field(default=3, ge=1, le=10_000)
    new_member_max_links: int = Field(default=2, ge=0, le=100)
    new_member_max_mentions: int = Field(default=2, ge=0, le=100)


# Like Discourse's test mode: posting limits are off under KIZUNA_ENV=test unless a test
# switches them on by saving settings, so unrelated tests can post quickly.
TEST_DEFAULTS: dict[str, Any] = {
    "post_interval_seconds": 0,
    "new_member_post_interval_seconds": 0,
    "topics_per_day": 10_000,
    "new_member_topics_per_day": 10_000,
    "new_member_max_links": 100,
    "new_member_max_mentions": 100,
}


def _settings_query(_insert: Any) -> Any:
    return select(CommunitySetting.key, CommunitySetting.value).where(
        CommunitySetting.key.startswith(PREFIX)
    )


async def load_settings(session: AsyncSession) -> ModerationSettings:
    rows = await read_prebuilt(session, "moderation.settings", _settings_query, {})
    stored: dict[str, Any] = {key.removeprefix(PREFIX): value for key, value in rows}
    known = {
        name: value for name, value in stored.items() if name in ModerationSettings.model_fields
    }
    if get_settings().env == "test":
        known = TEST_DEFAULTS | known
    try:
        return ModerationSettings.model_validate(known)
    except ValueError:
        # A row written by an older version with other bounds: fall back to the defaults.
        return ModerationSettings()


async def save_settings(
    session: AsyncSession, actor: Member, new: ModerationSettings
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Store ``new``; returns the changed values before and after (for the audit log)."""
    current = (await load_settings(session)).model_dump()
    wanted = new.model_dump()
    before = {k: v for k, v in current.items() if wanted[k] != v}
    after = {k: wanted[k] for k in before}
    now = clock.now()
    for name, value in after.items():
        stmt = insert(session, CommunitySetting).values(
            key=PREFIX + name, value=value, updated_at=now, updated_by_id=actor.id
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[CommunitySetting.key],
            set_={"value": value, "updated_at": now, "updated_by_id": actor.id},
        )
        await session.execute(stmt)
    return before, after


def is_new_member(member: Member, settings: ModerationSettings) -> bool:
    return clock.now() - member.created_at < timedelta(days=settings.new_member_days)


def _wait_message(wait: int) -> str:
    if wait < 120:
        return ngettext(
            "You are posting too quickly. Try again in %(num)s second.",
            "You are posting too quickly. Try again in %(num)s seconds.",
            wait,
        )
    minutes = (wait + 59) // 60
    if minutes < 120:
        return ngettext(
            "You have reached your posting limit. Try again in %(num)s minute.",
            "You have reached your posting limit. Try again in %(num)s minutes.",
            minutes,
        )
    hours = (minutes + 59) // 60
    return ngettext(
        "You have reached your posting limit. Try again in %(num)s hour.",
        "You have reached your posting limit. Try again in %(num)s hours.",
        hours,
    )


async def check_post_rate(
    session: AsyncSession, member: Member, kind: str, source: str | None = None
) -> None:
    """Refuse a new topic or reply that comes too soon, or (for new members) carries too many
    links or mentions. ``kind`` is "topic" or "reply". Staff are not limited. Raises
    TooManyRequests (429 with Retry-After) or Invalid (field "body")."""
    if member.is_staff:
        return
    settings = await load_settings(session)
    new = is_new_member(member, settings)
    if source is not None and new:
        links = len(_LINK.findall(source))
        if links > settings.new_member_max_links:
            raise Invalid(
                ngettext(
                    "New members may include at most %(num)s link per post.",
                    "New members may include at most %(num)s links per post.",
                    settings.new_member_max_links,
                ),
                field="body",
            )
        mentions = len(set(_MENTION.findall(source)))
        if mentions > settings.new_member_max_mentions:
            raise Invalid(
                ngettext(
                    "New members may mention at most %(num)s person per post.",
                    "New members may mention at most %(num)s people per post.",
                    settings.new_member_max_mentions,
                ),
                field="body",
            )
    interval = settings.new_member_post_interval_seconds if new else settings.post_interval_seconds
    waits: list[int] = []
    if kind == "topic":
        per_day = settings.new_member_topics_per_day if new else settings.topics_per_day
        wait = await ratelimit.retry_after(session, f"topics:{member.id}", per_day, 86400)
        if wait is not None:
            waits.append(wait)
    if interval > 0:
        wait = await ratelimit.retry_after(session, f"post:{member.id}", 1, interval)
        if wait is not None:
            waits.append(wait)
    if waits:
        wait = max(waits)
        raise TooManyRequests(wait, _wait_message(wait))
    if interval > 0:
        await ratelimit.hit(session, f"post:{member.id}", interval)
    if kind == "topic":
        await ratelimit.hit(session, f"topics:{member.id}", 86400)
