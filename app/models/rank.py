from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.i18n import get_locale
from app.models.base import Base, IdMixin, utcnow


class Rank(IdMixin, Base):
    """One step of the rank ladder: reached at ``threshold`` lifetime points."""

    __tablename__ = "ranks"

    name_en: Mapped[str] = mapped_column(String(40))
    name_ja: Mapped[str] = mapped_column(String(40), default="")
    threshold: Mapped[int] = mapped_column(unique=True)
    colour: Mapped[str] = mapped_column(String(7), default="#8a827e")
    badge: Mapped[str] = mapped_column(String(16), default="")
    benefits_en: Mapped[str] = mapped_column(Text, default="")
    benefits_ja: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def name(self) -> str:
        if get_locale() == "ja" and self.name_ja:
            return self.name_ja
        return self.name_en

    @property
    def benefits(self) -> str:
        if get_locale() == "ja" and self.benefits_ja:
            return self.benefits_ja
        return self.benefits_en
