from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, IdMixin, utcnow


def upload_url(storage_name: str) -> str:
    """Where an upload stored under ``storage_name`` is served."""
    return f"/uploads/{storage_name}"


class UploadPurpose(enum.StrEnum):
    post = "post"
    avatar = "avatar"


class Upload(IdMixin, Base):
    """An image a member uploaded, re-encoded and stored under a random name.

    The file lives at ``<upload_dir>/<storage_name[:2]>/<storage_name>``; the client's own file
    name is never stored or used. The row and the file exist together or not at all.
    """

    __tablename__ = "uploads"
    __table_args__ = (
        Index("ix_uploads_uploader_member_id_created_at", "uploader_member_id", "created_at"),
    )

    storage_name: Mapped[str] = mapped_column(String(40), unique=True)
    # Images stay in the posts that show them when their uploader's account goes.
    uploader_member_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="SET NULL")
    )
    purpose: Mapped[str] = mapped_column(String(10), default=UploadPurpose.post.value)
    content_type: Mapped[str] = mapped_column(String(20))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    byte_size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def url(self) -> str:
        return upload_url(self.storage_name)
