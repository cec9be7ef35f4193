from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, IdMixin, utcnow


class WordFilter(IdMixin, Base):
    """A word or phrase admins watch for in posts and titles: ``block`` refuses the text,
    ``hold`` queues the post for approval, ``replace`` swaps the word for ``replacement``.
    ``normalized`` (NFKC, case-folded) is what matching uses and what must be unique."""

    __tablename__ = "word_filters"

    pattern: Mapped[str] = mapped_column(String(100))
    normalized: Mapped[str] = mapped_column(String(100), unique=True)
    action: Mapped[str] = mapped_column(String(10))
    replacement: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="SET NULL")
    )
