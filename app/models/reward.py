from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.i18n import get_locale
from app.models.base import Base, BigIntId, IdMixin, utcnow


class Reward(IdMixin, Base):
    """An item of the rewards catalogue, bought with spendable points."""

    __tablename__ = "rewards"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("cost > 0", name="cost_positive"),
        Index("ix_rewards_active_cost", "active", "cost"),
    )

    name_en: Mapped[str] = mapped_column(String(120))
    name_ja: Mapped[str] = mapped_column(String(120), default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    description_ja: Mapped[str] = mapped_column(Text, default="")
    image_upload_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("uploads.id", ondelete="SET NULL")
    )
    cost: Mapped[int]
    stock: Mapped[int] = mapped_column(default=0)
    min_rank_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("ranks.id", ondelete="SET NULL")
    )
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def name(self) -> str:
        if get_locale() == "ja" and self.name_ja:
            return self.name_ja
        return self.name_en

    @property
    def description(self) -> str:
        if get_locale() == "ja" and self.description_ja:
            return self.description_ja
        return self.description_en
