from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import CLUSTERED, Base, BigIntId


class PointPeriodTotal(Base):
    """Points a member earned in one week, one month, or all time (period "all").

    Kept incrementally in the same transaction as each ledger row, so leaderboards read one
    index range instead of summing the ledger."""

    __tablename__ = "point_period_totals"
    __table_args__ = (
        Index("ix_point_period_totals_member_id", "member_id", "period", "start"),
        CLUSTERED,
    )

    period: Mapped[str] = mapped_column(String(5), primary_key=True)
    start: Mapped[date] = mapped_column(Date, primary_key=True)
    member_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    points: Mapped[int] = mapped_column(default=0)


# Leaderboards read (period, start) ordered by points, highest first, ties to the earlier member.
Index(
    "ix_point_period_totals_board",
    PointPeriodTotal.period,
    PointPeriodTotal.start,
    PointPeriodTotal.points.desc(),
    PointPeriodTotal.member_id,
)
