"""Upload endpoints of the JSON API (multipart/form-data in, JSON out)."""

from __future__ import annotations

from typing import Annotated

from fastapi import File, Form, UploadFile
from starlette.requests import Request

from app.accounts.deps import CurrentMember, SessionDep
from app.kit.errors import Invalid
from app.kit.routing import Router
from app.models import UploadPurpose
from app.pipeline import keep_writes
from app.uploads import service
from app.uploads.schemas import AvatarOut, UploadOut

router = Router(prefix="/api/v1", tags=["uploads"])

ImageFile = Annotated[
    UploadFile | None,
    File(description="A JPEG, PNG, GIF or WebP image, at most 8 MB and 40 megapixels"),
]


@router.post(
    "/uploads",
    response_model=UploadOut,
    status_code=201,
    summary="Upload an image for a post",
    description="The image is checked by its content, re-encoded without metadata (EXIF, GPS) "
    "and stored under a random name. Paste the returned `markdown` into a post. "
    "Animated images keep their first frame.",
)
async def upload_image(
    request: Request,
    session: SessionDep,
    viewer: CurrentMember,
    file: ImageFile = None,
    alt: Annotated[str, Form(max_length=500, description="Alt text for the image")] = "",
) -> UploadOut:
    await service.check_may_upload(session, viewer)
    try:
        data = await service.read_image_file(file)
        stored = await service.store_image(session, viewer, data, purpose=UploadPurpose.post)
    except Invalid:
        keep_writes(request)
        raise
    text = service.alt_text(alt, file.filename if file is not None else None)
    return UploadOut.of(stored, service.markdown_for(stored, text))


@router.put("/me/avatar", response_model=AvatarOut, summary="Set my avatar")
async def set_avatar(
    request: Request, session: SessionDep, viewer: CurrentMember, file: ImageFile = None
) -> AvatarOut:
    await service.check_may_upload(session, viewer)
    try:
        data = await service.read_image_file(file)
        await service.set_avatar(session, viewer, data)
    except Invalid:
        keep_writes(request)
        raise
    return AvatarOut.of(viewer)


@router.delete("/me/avatar", response_model=AvatarOut, summary="Remove my avatar")
async def remove_avatar(session: SessionDep, viewer: CurrentMember) -> AvatarOut:
    await service.remove_avatar(session, viewer)
    return AvatarOut.of(viewer)
