from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, IdMixin, utcnow


class Activity(IdMixin, Base):
    """One meaningful action, recorded once. Points, rollups and pushes hang on these rows."""

    __tablename__ = "activities"
    __table_args__ = (
        # Covers a member's timeline and, with verb and day, the profile's year calendar as an
        # index-only scan.
        Index("ix_activities_actor_occurred_verb_day", "actor_id", "occurred_at", "verb", "day"),
        Index("ix_activities_verb_day", "verb", "day"),
        Index("ix_activities_subject", "subject_type", "subject_id"),
        Index("ix_activities_recipient_id_occurred_at", "recipient_id", "occurred_at"),
    )

    verb: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="CASCADE")
    )
    recipient_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="CASCADE")
    )
    subject_type: Mapped[str | None] = mapped_column(String(30))
    subject_id: Mapped[int | None] = mapped_column(BigIntId)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    day: Mapped[date] = mapped_column(Date)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
