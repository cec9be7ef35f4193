from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, utcnow


class TopicRead(Base):
    """How far a member has read in a topic: the highest post number they have seen."""

    __tablename__ = "topic_reads"
    __table_args__ = (Index("ix_topic_reads_topic_id", "topic_id"),)

    member_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    topic_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True
    )
    last_read_number: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
