"""Shapes of upload API responses."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.models import Member, Upload


class UploadOut(BaseModel):
    id: int
    url: str = Field(description="Where the image is served, e.g. /uploads/<name>.png")
    markdown: str = Field(description="A Markdown snippet to paste into a post")
    purpose: Literal["post", "avatar"]
    content_type: Literal["image/jpeg", "image/png", "image/gif", "image/webp"]
    width: int
    height: int
    byte_size: int

    @classmethod
    def of(cls, upload: Upload, markdown: str) -> UploadOut:
        return cls.model_validate(
            {
                "id": upload.id,
                "url": upload.url,
                "markdown": markdown,
                "purpose": upload.purpose,
                "content_type": upload.content_type,
                "width": upload.width,
                "height": upload.height,
                "byte_size": upload.byte_size,
            }
        )


class AvatarOut(BaseModel):
    avatar_url: str | None = Field(description="The member's avatar, or null for none")

    @classmethod
    def of(cls, member: Member) -> AvatarOut:
        avatar = member.avatar
        return cls(avatar_url=avatar.url if avatar is not None else None)
