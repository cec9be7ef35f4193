from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, IdMixin, postgresql_only, utcnow

# A question nobody has answered yet (the partial index below).
UNANSWERED_SQL = "kind = 'question' AND reply_count = 0"


class Topic(IdMixin, Base):
    """A discussion or a question. Counters (replies, likes, views, last poster) are kept here
    on write, so topic lists never count rows per request."""

    __tablename__ = "topics"
    __table_args__ = (
        Index("ix_topics_category_activity", "category_id", "pinned", "last_posted_at", "id"),
        Index("ix_topics_category_created", "category_id", "created_at", "id"),
        Index("ix_topics_activity", "last_posted_at", "id"),
        Index("ix_topics_created", "created_at", "id"),
        Index("ix_topics_author_id_created_at", "author_id", "created_at"),
        # The "top" lists (most liked first): migration 0023.
        Index("ix_topics_top", "like_count", "id"),
        Index("ix_topics_category_top", "category_id", "like_count", "id"),
        # The unanswered questions (a few among thousands of topics), in the home list's
        # order: migration 0024. The condition is the topic lists' own (app.forums.queries).
        Index(
            "ix_topics_unanswered",
            "last_posted_at",
            "id",
            sqlite_where=text(UNANSWERED_SQL),
            postgresql_where=text(UNANSWERED_SQL),
        ),
        postgresql_only(
            Index(
                "ix_topics_title_trgm",
                "title",
                postgresql_using="gin",
                postgresql_ops={"title": "gin_trgm_ops"},
            )
        ),
    )

    category_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("categories.id"))
    author_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("members.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(12), default="discussion")
    pinned: Mapped[bool] = mapped_column(default=False)
    locked: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_posted_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_poster_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="SET NULL")
    )
    post_count: Mapped[int] = mapped_column(default=0)
    reply_count: Mapped[int] = mapped_column(default=0)
    like_count: Mapped[int] = mapped_column(default=0)
    view_count: Mapped[int] = mapped_column(BigInteger, default=0)
    score: Mapped[int] = mapped_column(default=0)
    accepted_post_id: Mapped[int | None] = mapped_column(BigIntId)
    deleted_at: Mapped[datetime | None]
    # Moderation (app.moderation): a topic follows its opening post (hidden, awaiting
    # approval); a closed topic takes no more replies and says why.
    hidden_at: Mapped[datetime | None]
    needs_approval: Mapped[bool] = mapped_column(default=False, server_default="0")
    closed_at: Mapped[datetime | None]
    closed_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")

    @property
    def is_question(self) -> bool:
        return self.kind == "question"

    @property
    def solved(self) -> bool:
        return self.accepted_post_id is not None
