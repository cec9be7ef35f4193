from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, IdMixin, utcnow


class Notification(IdMixin, Base):
    """Something a member should know about. Likes on one post share a row while it is unread
    ("A and 4 others liked your post"): ``group_key`` finds it, ``actor_count`` counts them."""

    __tablename__ = "notifications"
    __table_args__ = (
        # The list (newest activity first, keyset on updated_at, id) and the unread lookups.
        Index("ix_notifications_member_id_updated_at_id", "member_id", "updated_at", "id"),
        # At most one unread row per group: concurrent likes update it instead of adding rows.
        Index(
            "uq_notifications_unread_group",
            "member_id",
            "group_key",
            unique=True,
            sqlite_where=text("read_at IS NULL AND group_key IS NOT NULL"),
            postgresql_where=text("read_at IS NULL AND group_key IS NOT NULL"),
        ),
        # "Show unread only": the unread rows alone, newest first (a row leaves when read).
        Index(
            "ix_notifications_unread",
            "member_id",
            "updated_at",
            "id",
            sqlite_where=text("read_at IS NULL"),
            postgresql_where=text("read_at IS NULL"),
        ),
        # Digests look for unread rows not yet sent in one.
        Index("ix_notifications_member_id_digested_at", "member_id", "digested_at"),
    )

    member_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="SET NULL")
    )
    actor_count: Mapped[int] = mapped_column(default=1)
    subject_type: Mapped[str | None] = mapped_column(String(30))
    subject_id: Mapped[int | None] = mapped_column(BigIntId)
    topic_id: Mapped[int | None] = mapped_column(BigIntId)
    group_key: Mapped[str | None] = mapped_column(String(80))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]
    digested_at: Mapped[datetime | None]
