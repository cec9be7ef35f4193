from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.i18n import get_locale
from app.models.base import Base, IdMixin, utcnow


class Category(IdMixin, Base):
    """A forum section. ``visibility`` decides who sees it, ``posting`` who may write in it;
    ``min_rank_threshold`` (lifetime points) applies to either when set to ``min_rank``."""

    __tablename__ = "categories"
    __table_args__ = (Index("ix_categories_position_id", "position", "id"),)

    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name_en: Mapped[str] = mapped_column(String(80))
    name_ja: Mapped[str] = mapped_column(String(80), default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    description_ja: Mapped[str] = mapped_column(Text, default="")
    colour: Mapped[str] = mapped_column(String(7), default="#b3261e")
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(12), default="discussion")
    visibility: Mapped[str] = mapped_column(String(12), default="everyone")
    posting: Mapped[str] = mapped_column(String(12), default="members")
    min_rank_threshold: Mapped[int | None]
    topic_count: Mapped[int] = mapped_column(default=0)
    post_count: Mapped[int] = mapped_column(default=0)
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

    @property
    def is_questions(self) -> bool:
        return self.kind == "question"
