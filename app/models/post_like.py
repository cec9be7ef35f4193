from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import CLUSTERED, Base, BigIntId, utcnow


class PostLike(Base):
    """One like per member per post."""

    __tablename__ = "post_likes"
    __table_args__ = (
        Index("ix_post_likes_member_id_created_at", "member_id", "created_at"),
        CLUSTERED,
    )

    post_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
