from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, IdMixin, utcnow


class AmbassadorStatusChange(IdMixin, Base):
    """Every change of a member's ambassador status: who (None = the detector), when, why."""

    __tablename__ = "ambassador_status_changes"
    __table_args__ = (Index("ix_ambassador_status_changes_member_id_id", "member_id", "id"),)

    member_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("members.id", ondelete="CASCADE"))
    from_status: Mapped[str] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    actor_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="SET NULL")
    )
    note: Mapped[str] = mapped_column(String(500), default="")
    explanation: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
