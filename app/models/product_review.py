from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, IdMixin, utcnow


class ProductReview(IdMixin, Base):
    """A member's rating (1-5) and review of a product; one per member and product."""

    __tablename__ = "product_reviews"
    __table_args__ = (
        UniqueConstraint("product_id", "member_id"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        Index("ix_product_reviews_product_id_id", "product_id", "id"),
    )

    product_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("products.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("members.id", ondelete="CASCADE"))
    rating: Mapped[int]
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
