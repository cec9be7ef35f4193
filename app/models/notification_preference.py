from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, IdMixin


class NotificationPreference(IdMixin, Base):
    """How a member wants one kind of notification: "app", "email" (in-app and email) or "off".
    The pseudo-kind "digest" holds the digest choice: "off", "daily" or "weekly".
    A missing row means the kind's default."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("member_id", "kind"),)

    member_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str] = mapped_column(String(10))
