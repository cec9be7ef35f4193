from __future__ import annotations

from datetime import date

from sqlalchemy import Date
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base

# ``AnalyticsActiveReturn.previous_day`` when the member had no active day in the
# :data:`RETURN_LOOKBACK_DAYS` before (or ever): every date range the dashboard asks about starts
# later than that, so one value stands for all of them.
NO_PREVIOUS_DAY = date(1970, 1, 1)
RETURN_LOOKBACK_DAYS = 366


class AnalyticsActive(Base):
    """Per community day: how many members were active (``members``, DAU), and how many
    members' 7-day and 30-day activity windows close that day.

    A member active on day ``d`` whose next active day is ``n`` counts in the 7-day window of
    every day from ``d`` to ``min(d + 7, n) - 1``: the row of ``min(d + 7, n)`` holds that
    closing in ``week_ends`` (30 days: ``month_ends``). So WAU of day ``E`` is the sum of
    ``members`` minus the sum of ``week_ends`` over all rows up to ``E`` (MAU likewise), exact
    and a few hundred rows whatever the community's size. Every role is counted here; the
    dashboard subtracts the few staff members itself, so a role change needs no rewrite.
    Kept by app.analytics.rollups on a member's first activity of a day.
    """

    __tablename__ = "analytics_active"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    members: Mapped[int] = mapped_column(default=0)
    week_ends: Mapped[int] = mapped_column(default=0)
    month_ends: Mapped[int] = mapped_column(default=0)


class AnalyticsActiveReturn(Base):
    """Members active on ``day`` whose previous active day was ``previous_day``
    (:data:`NO_PREVIOUS_DAY` when none in the :data:`RETURN_LOOKBACK_DAYS` before).

    The distinct members active at least once in a range ``[a, b]`` are the rows with ``day``
    in the range and ``previous_day < a`` (each member's first active day in the range), so the
    dashboard's "active members" reads a few thousand rows instead of every member-day.
    """

    __tablename__ = "analytics_active_returns"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    previous_day: Mapped[date] = mapped_column(Date, primary_key=True)
    members: Mapped[int] = mapped_column(default=0)
