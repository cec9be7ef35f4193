from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, utcnow


class MemberExternal(Base):
    """What the brand knows about a member from outside the community (CSV import): its own
    customer id, purchases, and free-form attributes. ``purchase_total_minor`` is the total in
    hundredths of the currency unit, so amounts stay exact on every database."""

    __tablename__ = "member_external"

    member_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    purchase_count: Mapped[int | None]
    purchase_total_minor: Mapped[int | None] = mapped_column(BigInteger)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
