from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, IdMixin, utcnow


class PointRule(IdMixin, Base):
    """How many points one activity verb pays, to whom, and how much a day at most.

    Admins edit these rows; the ledger keeps what was paid, so a change applies from then on."""

    __tablename__ = "point_rules"

    verb: Mapped[str] = mapped_column(String(40), unique=True)
    actor_points: Mapped[int] = mapped_column(default=0)
    recipient_points: Mapped[int] = mapped_column(default=0)
    # Most points one member may earn from this rule in one community day (None: no cap).
    daily_cap: Mapped[int | None]
    enabled: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="SET NULL")
    )
