from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, IdMixin, utcnow


class Flag(IdMixin, Base):
    """A member's report of a post (a topic is flagged through its opening post). One per
    member per post; ``weight`` is fixed when the flag is raised (rank and past accuracy)."""

    __tablename__ = "flags"
    __table_args__ = (
        UniqueConstraint("post_id", "flagger_id"),
        # The review queue: pending flags grouped per post.
        Index("ix_flags_status_post_id", "status", "post_id"),
        Index("ix_flags_flagger_id_id", "flagger_id", "id"),
    )

    post_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("posts.id", ondelete="CASCADE"))
    flagger_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("members.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text, default="")
    weight: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="SET NULL")
    )
