from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, IdMixin, utcnow


class RedemptionStatus(enum.StrEnum):
    pending = "pending"
    fulfilled = "fulfilled"
    refused = "refused"


class Redemption(IdMixin, Base):
    """A member spent points on a reward; an operator fulfils it or refuses it (refund)."""

    __tablename__ = "redemptions"
    __table_args__ = (
        Index("ix_redemptions_member_id_id", "member_id", "id"),
        Index("ix_redemptions_status_id", "status", "id"),
    )

    reward_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("rewards.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("members.id", ondelete="CASCADE"))
    cost: Mapped[int]
    status: Mapped[str] = mapped_column(String(12), default=RedemptionStatus.pending.value)
    note: Mapped[str] = mapped_column(String(300), default="")
    decided_by_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
