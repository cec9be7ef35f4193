from __future__ import annotations

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, IdMixin


class CampaignEntryPhoto(IdMixin, Base):
    """A photo (an app.uploads image) attached to a post-campaign entry."""

    __tablename__ = "campaign_entry_photos"
    __table_args__ = (UniqueConstraint("entry_id", "upload_id"),)

    entry_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("campaign_entries.id", ondelete="CASCADE")
    )
    upload_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("uploads.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
