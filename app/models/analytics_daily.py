from __future__ import annotations

from datetime import date

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import CLUSTERED, Base


class AnalyticsDaily(Base):
    """How many activities of one verb the community recorded on one community day.

    Kept by app.analytics.rollups in the same transaction as each activity (an atomic upsert),
    so the dashboard sums a few hundred rows instead of scanning the activity log.
    """

    __tablename__ = "analytics_daily"
    __table_args__ = CLUSTERED

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    verb: Mapped[str] = mapped_column(String(40), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
