from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, IdMixin, utcnow


class AnalyticsSegment(IdMixin, Base):
    """A saved, named member filter: a live count, and an audience for surveys and campaigns."""

    __tablename__ = "analytics_segments"

    name: Mapped[str] = mapped_column(String(80), unique=True)
    filters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
