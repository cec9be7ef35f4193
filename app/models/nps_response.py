from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, IdMixin, utcnow


class NpsResponse(IdMixin, Base):
    """One member's answer to a survey (at most one per survey)."""

    __tablename__ = "nps_responses"
    __table_args__ = (
        UniqueConstraint("survey_id", "member_id"),
        Index("ix_nps_responses_member_id_created_at", "member_id", "created_at"),
        Index("ix_nps_responses_survey_id_category_id", "survey_id", "category", "id"),
    )

    survey_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("nps_surveys.id", ondelete="CASCADE")
    )
    member_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("members.id", ondelete="CASCADE"))
    score: Mapped[int]
    category: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text, default="")
    extra_answers: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
