from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, IdMixin, utcnow


class CampaignInvite(IdMixin, Base):
    """A member on a campaign's invited list, and/or asked when it opened.

    ``invited``: the operator put them on the list (the "invited" audience).
    ``asked_at``: the campaign opened with them in its audience; ask-fatigue counts these.
    """

    __tablename__ = "campaign_invites"
    __table_args__ = (
        UniqueConstraint("campaign_id", "member_id"),
        Index("ix_campaign_invites_member_id_asked_at", "member_id", "asked_at"),
    )

    campaign_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("campaigns.id", ondelete="CASCADE")
    )
    member_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("members.id", ondelete="CASCADE"))
    invited: Mapped[bool] = mapped_column(default=False)
    asked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
