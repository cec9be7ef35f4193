"""Time: UTC in the database; the community's own calendar day for daily counts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from app.config import get_settings


def now() -> datetime:
    return datetime.now(UTC)


def community_day(moment: datetime | None = None) -> date:
    """The calendar day in the community's time zone: daily visits, caps and rollups use it."""
    zone = ZoneInfo(get_settings().community_timezone)
    return (moment or now()).astimezone(zone).date()
