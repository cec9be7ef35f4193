from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, IdMixin, utcnow


class PostRevision(IdMixin, Base):
    """The text of a post (and the topic title, for an opening post) before an edit."""

    __tablename__ = "post_revisions"
    __table_args__ = (UniqueConstraint("post_id", "number"),)

    post_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("posts.id", ondelete="CASCADE"))
    number: Mapped[int]
    title: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text)
    editor_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
