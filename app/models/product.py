from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.i18n import get_locale
from app.models.base import Base, BigIntId, IdMixin, utcnow


class Product(IdMixin, Base):
    """A product of the brand that members rate and review."""

    __tablename__ = "products"

    name_en: Mapped[str] = mapped_column(String(120))
    name_ja: Mapped[str] = mapped_column(String(120), default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    description_ja: Mapped[str] = mapped_column(Text, default="")
    image_upload_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("uploads.id", ondelete="SET NULL")
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
