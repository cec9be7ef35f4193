from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, IdMixin, utcnow


class PointExternalAward(IdMixin, Base):
    """An operator's award or deduction through the API, remembered by its Idempotency-Key so
    a retried call replays the first answer instead of paying twice."""

    __tablename__ = "point_external_awards"
    __table_args__ = (UniqueConstraint("operator_id", "idempotency_key"),)

    operator_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("members.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("members.id", ondelete="CASCADE"))
    amount: Mapped[int]
    response_status: Mapped[int] = mapped_column(default=201)
    response_body: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
