from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId


class AnalyticsQuestion(Base):
    """A question and the delay until its first answer by someone other than the asker: the
    "questions answered", "unanswered" and "median time to first answer" charts read this."""

    __tablename__ = "analytics_questions"
    __table_args__ = (
        Index("ix_analytics_questions_asked_day", "asked_day"),
        Index("ix_analytics_questions_answered_day", "answered_day"),
    )

    topic_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True
    )
    asker_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="SET NULL")
    )
    asked_at: Mapped[datetime]
    asked_day: Mapped[date] = mapped_column(Date)
    answered_at: Mapped[datetime | None]
    answered_day: Mapped[date | None] = mapped_column(Date)
    first_answer_seconds: Mapped[int | None]
