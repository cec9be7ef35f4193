from __future__ import annotations

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId


class TopicTag(Base):
    __tablename__ = "topic_tags"
    __table_args__ = (Index("ix_topic_tags_tag_id_topic_id", "tag_id", "topic_id"),)

    topic_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True
    )
