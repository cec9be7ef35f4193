from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.i18n import get_locale
from app.models.base import Base, BigIntId, IdMixin, utcnow


class CampaignKind(enum.StrEnum):
    application = "application"
    post = "post"
    survey = "survey"
    event = "event"


class CampaignState(enum.StrEnum):
    draft = "draft"
    scheduled = "scheduled"
    open = "open"
    closed = "closed"
    announced = "announced"


class Audience(enum.StrEnum):
    everyone = "everyone"
    rank = "rank"
    segment = "segment"
    ambassadors = "ambassadors"
    candidates = "candidates"
    invited = "invited"


class Selection(enum.StrEnum):
    first_come = "first_come"
    lottery = "lottery"


class Campaign(IdMixin, Base):
    """A member-only campaign. Who may see it is decided by app.campaigns.policy, in SQL."""

    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_state_id", "state", "id"),)

    title_en: Mapped[str] = mapped_column(String(140))
    title_ja: Mapped[str] = mapped_column(String(140), default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    description_ja: Mapped[str] = mapped_column(Text, default="")
    # Sanitised HTML of the Markdown above ("cooked"), rendered as is.
    description_en_html: Mapped[str] = mapped_column(Text, default="")
    description_ja_html: Mapped[str] = mapped_column(Text, default="")
    cover_upload_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("uploads.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(16), default=CampaignKind.application.value)
    state: Mapped[str] = mapped_column(String(16), default=CampaignState.draft.value)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    audience: Mapped[str] = mapped_column(String(16), default=Audience.everyone.value)
    audience_rank_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("ranks.id", ondelete="SET NULL")
    )
    # A saved segment of app.analytics (no foreign key: segments belong to that feature).
    audience_segment_id: Mapped[int | None] = mapped_column(BigIntId)
    # Show members outside the audience a locked teaser instead of nothing (off by default).
    teaser: Mapped[bool] = mapped_column(default=False)
    selection: Mapped[str] = mapped_column(String(16), default=Selection.first_come.value)
    # Seats (first come) or winners (lottery); None: everyone who enters takes part.
    capacity: Mapped[int | None]
    # Kept up to date with an atomic conditional UPDATE so seats never oversell.
    entry_count: Mapped[int] = mapped_column(default=0)
    lottery_seed: Mapped[str | None] = mapped_column(String(64))
    drawn_at: Mapped[datetime | None]
    # Ask-fatigue: leave out members asked more than fatigue_limit times in fatigue_days days.
    fatigue_limit: Mapped[int | None]
    fatigue_days: Mapped[int] = mapped_column(default=30)
    # Set when the campaign opens: asks from here until opened_at count against the limit.
    fatigue_since: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    announced_at: Mapped[datetime | None]

    @property
    def title(self) -> str:
        if get_locale() == "ja" and self.title_ja:
            return self.title_ja
        return self.title_en

    @property
    def description_html(self) -> str:
        if get_locale() == "ja" and self.description_ja_html:
            return self.description_ja_html
        return self.description_en_html

    @property
    def is_full(self) -> bool:
        return (
            self.selection == Selection.first_come
            and self.capacity is not None
            and self.entry_count >= self.capacity
        )
