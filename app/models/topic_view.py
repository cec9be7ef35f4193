from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, utcnow


class TopicView(Base):
    """One row per visitor (member, or anonymous browser) per topic per community day: the
    topic's view counter and the "page views per content" analytics both come from here."""

    __tablename__ = "topic_views"
    __table_args__ = (Index("ix_topic_views_day_topic_id", "day", "topic_id"),)

    topic_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    visitor_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    member_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
