from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, IdMixin, utcnow


class NpsSurvey(IdMixin, Base):
    """An NPS survey: the 0-10 question, a reason question, optional extra questions, an
    audience (everyone, a saved segment, a minimum rank, or confirmed ambassadors) and dates."""

    __tablename__ = "nps_surveys"
    __table_args__ = (Index("ix_nps_surveys_opens_at", "opens_at"),)

    title: Mapped[str] = mapped_column(String(120))
    subject: Mapped[str] = mapped_column(String(120))
    reason_question: Mapped[str] = mapped_column(String(300))
    extra_questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    audience: Mapped[str] = mapped_column(String(12), default="everyone")
    segment_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("analytics_segments.id", ondelete="SET NULL")
    )
    min_rank_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("ranks.id", ondelete="SET NULL")
    )
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
