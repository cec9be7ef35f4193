from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, IdMixin, utcnow


class CampaignView(IdMixin, Base):
    """The first time a member opened a campaign's page (unique viewers for analytics)."""

    __tablename__ = "campaign_views"
    __table_args__ = (UniqueConstraint("campaign_id", "member_id"),)

    campaign_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("campaigns.id", ondelete="CASCADE")
    )
    member_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("members.id", ondelete="CASCADE"))
    viewed_at: Mapped[datetime] = mapped_column(default=utcnow)
