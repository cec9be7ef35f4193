from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, SmallInteger
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, utcnow


class AnswerVote(Base):
    """A member's up (+1) or down (-1) vote on a post in a Q&A topic; one each, changeable."""

    __tablename__ = "answer_votes"
    __table_args__ = (Index("ix_answer_votes_member_id", "member_id"),)

    post_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
