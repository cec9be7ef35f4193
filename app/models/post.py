from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, IdMixin, postgresql_only, utcnow


class Post(IdMixin, Base):
    """One message in a topic; number 1 opens the topic. Markdown ``source`` is kept beside the
    sanitised ``cooked`` HTML that pages show, and ``plain`` text for search and snippets."""

    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("topic_id", "number"),
        Index("ix_posts_author_id_created_at", "author_id", "created_at"),
        postgresql_only(
            Index(
                "ix_posts_plain_trgm",
                "plain",
                postgresql_using="gin",
                postgresql_ops={"plain": "gin_trgm_ops"},
            )
        ),
    )

    topic_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("topics.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("members.id", ondelete="CASCADE"))
    number: Mapped[int]
    source: Mapped[str] = mapped_column(Text)
    cooked: Mapped[str] = mapped_column(Text)
    plain: Mapped[str] = mapped_column(Text, default="")
    reply_to_post_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("posts.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    revision_count: Mapped[int] = mapped_column(default=0)
    like_count: Mapped[int] = mapped_column(default=0)
    score: Mapped[int] = mapped_column(default=0)
    deleted_at: Mapped[datetime | None]
    deleted_by_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="SET NULL")
    )
    delete_reason: Mapped[str] = mapped_column(String(200), default="")
    # Moderation (app.moderation): hidden by flags (hidden_by_id None) or by a moderator, and
    # new members' posts held until approved. Both stay visible to staff only.
    hidden_at: Mapped[datetime | None]
    hidden_by_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="SET NULL")
    )
    hidden_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    needs_approval: Mapped[bool] = mapped_column(default=False, server_default="0", index=True)
