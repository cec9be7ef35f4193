from __future__ import annotations

import enum

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.i18n import get_locale
from app.models.base import Base, BigIntId, IdMixin


class QuestionKind(enum.StrEnum):
    text = "text"
    choice = "choice"
    yes_no = "yes_no"
    nps = "nps"


class CampaignQuestion(IdMixin, Base):
    """A question of an application form or a survey, asked in ``position`` order."""

    __tablename__ = "campaign_questions"
    __table_args__ = (
        Index("ix_campaign_questions_campaign_id_position", "campaign_id", "position"),
    )

    campaign_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("campaigns.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(10), default=QuestionKind.text.value)
    prompt_en: Mapped[str] = mapped_column(String(300))
    prompt_ja: Mapped[str] = mapped_column(String(300), default="")
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    required: Mapped[bool] = mapped_column(default=True)

    @property
    def prompt(self) -> str:
        if get_locale() == "ja" and self.prompt_ja:
            return self.prompt_ja
        return self.prompt_en
