from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, IdMixin, utcnow


class EntryStatus(enum.StrEnum):
    entered = "entered"
    selected = "selected"
    not_selected = "not_selected"


class CampaignEntry(IdMixin, Base):
    """One member's entry (application, post, survey answers or RSVP); one per campaign."""

    __tablename__ = "campaign_entries"
    __table_args__ = (
        UniqueConstraint("campaign_id", "member_id"),
        Index("ix_campaign_entries_campaign_id_id", "campaign_id", "id"),
        Index("ix_campaign_entries_member_id_created_at", "member_id", "created_at"),
    )

    campaign_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("campaigns.id", ondelete="CASCADE")
    )
    member_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("members.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=EntryStatus.entered.value)
    # {question id (as text): answer}; text and choices as strings, yes/no as bool, NPS as int.
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    body: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    attended: Mapped[bool | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
