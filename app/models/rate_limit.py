from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import CLUSTERED, Base


class RateLimit(Base):
    """A fixed-window counter shared by every server process (kept in the database)."""

    __tablename__ = "rate_limits"
    __table_args__ = CLUSTERED

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    window_start: Mapped[datetime]
    count: Mapped[int] = mapped_column(default=0)
