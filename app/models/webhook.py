from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, IdMixin, utcnow


class Webhook(IdMixin, Base):
    """An operator's endpoint that receives signed JSON for the events it chose."""

    __tablename__ = "webhooks"

    url: Mapped[str] = mapped_column(String(500))
    # Kept as entered: it signs every delivery, so it cannot be stored hashed.
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
