from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import CLUSTERED, Base, BigIntId


class PointKindTotal(Base):
    """Lifetime points a member earned under one kind of action (the profile's breakdown).

    Kept in the same transaction as each ledger row that moves lifetime points, so a profile
    reads a handful of rows instead of summing the member's whole ledger."""

    __tablename__ = "point_kind_totals"
    __table_args__ = CLUSTERED

    member_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    points: Mapped[int] = mapped_column(default=0)
