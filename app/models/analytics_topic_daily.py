from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Index
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import CLUSTERED, Base, BigIntId, postgresql_only


class AnalyticsTopicDaily(Base):
    """Per community day and topic: likes given that day to the topic's posts that still stand
    (a like taken back leaves the day it was given), and distinct visitors (the topic_views rows
    of that day). "Top content" sums a range of these instead of scanning every like.

    No foreign key on the topic: the dashboard joins topics (and so skips deleted ones), and a
    row for a topic that is gone is simply never read.
    """

    __tablename__ = "analytics_topic_daily"
    # Top content sums a range of days from the index alone (migration 0015); on SQLite from
    # the clustered table, which is that index (migration 0025).
    __table_args__ = (
        postgresql_only(
            Index(
                "ix_analytics_topic_daily_day_topic_likes_views",
                "day",
                "topic_id",
                "likes",
                "views",
            )
        ),
        CLUSTERED,
    )

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    topic_id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    likes: Mapped[int] = mapped_column(default=0)
    views: Mapped[int] = mapped_column(default=0)
