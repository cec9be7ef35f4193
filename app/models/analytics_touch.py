from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import CLUSTERED, Base, BigIntId


class AnalyticsTouch(Base):
    """The last day ``member`` touched ``other`` (``other`` liked or replied to the member, or
    accepted their answer; or the member answered ``other``'s question). Reach counts the rows
    of the last 90 days, exactly, without reading the activity log."""

    __tablename__ = "analytics_touches"
    __table_args__ = (
        Index("ix_analytics_touches_member_id_last_day", "member_id", "last_day"),
        CLUSTERED,
    )

    member_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    other_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    last_day: Mapped[date] = mapped_column(Date)
