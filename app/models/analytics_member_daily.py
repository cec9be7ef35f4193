from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId


class AnalyticsMemberDaily(Base):
    """Per member, per community day, per verb: how often the member did it (``done``) and how
    often it was done to them (``received``). A member is active on a day when any row of that
    day has ``done > 0``: DAU/WAU/MAU, cohorts, churn, RFM and engagement all read this table."""

    __tablename__ = "analytics_member_daily"
    __table_args__ = (
        Index("ix_analytics_member_daily_day_member_id", "day", "member_id"),
        # The primary key's columns and the counts: a member's days (the score batch after
        # each write, a member's first activity of a day) are read from the index alone.
        Index(
            "ix_analytics_member_daily_member_day_verb_counts",
            "member_id",
            "day",
            "verb",
            "done",
            "received",
        ),
    )

    member_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    verb: Mapped[str] = mapped_column(String(40), primary_key=True)
    done: Mapped[int] = mapped_column(default=0)
    received: Mapped[int] = mapped_column(default=0)
