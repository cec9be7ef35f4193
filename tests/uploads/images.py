"""Images built with Pillow for upload tests, and helpers that post them like a browser."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from typing import Any

from PIL import Image
from PIL.ExifTags import IFD

from app.config import get_settings
from app.models import Member

GPS = {1: "N", 2: (35.0, 39.0, 29.0), 3: "E", 4: (139.0, 44.0, 28.0)}
ORIENTATION_ROTATE_90 = 6


def exif_with_gps(orientation: int = ORIENTATION_ROTATE_90) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "KizunaCam"
    exif.get_ifd(IFD.GPSInfo).update(GPS)
    return exif.tobytes()


def image_bytes(
    fmt: str, size: tuple[int, int] = (64, 48), *, mode: str = "RGB", exif: bool = True
) -> bytes:
    image = Image.new(mode, size, "red" if mode != "P" else 1)
    buffer = io.BytesIO()
    options: dict[str, Any] = {}
    if exif and fmt != "GIF":
        options["exif"] = exif_with_gps()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def animated_gif(frames: int = 3) -> bytes:
    images = [Image.new("P", (32, 32), index) for index in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, "GIF", save_all=True, append_images=images[1:], duration=80, loop=0)
    return buffer.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height``: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 4096))
        + chunk(b"IEND", b"")
    )


def stored_files() -> set[Path]:
    root = get_settings().upload_dir
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


async def post_upload(
    client: Any,
    content: bytes,
    filename: str = "photo.png",
    content_type: str = "image/png",
    *,
    url: str = "/uploads",
    alt: str | None = None,
    htmx: bool = False,
) -> Any:
    """Post a multipart form the way a browser does (CSRF token in the form)."""
    data = {"csrf_token": await client.csrf_token()}
    if alt is not None:
        data["alt"] = alt
    headers = {"HX-Request": "true"} if htmx else {}
    return await client.post(
        url, data=data, files={"file": (filename, content, content_type)}, headers=headers
    )


async def api_upload(
    client: Any,
    content: bytes,
    filename: str = "photo.png",
    content_type: str = "image/png",
    *,
    alt: str | None = None,
    token: str | None = None,
) -> Any:
    """Post to the JSON API: with the session and X-CSRF-Token, or with a bearer token."""
    headers = (
        {"Authorization": f"Bearer {token}"}
        if token
        else {"X-CSRF-Token": await client.csrf_token()}
    )
    data = {"alt": alt} if alt is not None else {}
    return await client.post(
        "/api/v1/uploads",
        data=data,
        files={"file": (filename, content, content_type)},
        headers=headers,
    )


async def give_avatar(client: Any, database: Any, login: Any, member: Any) -> str:
    """Sign ``member`` in on ``client`` and set an avatar as the settings page does; its URL."""
    await login(client, member)
    done = await post_upload(client, image_bytes("PNG", (64, 64)), url="/settings/avatar")
    assert done.status_code == 303
    async with database.transaction(write=False) as session:
        fresh = await session.get(Member, member.id)
        assert fresh is not None
        assert fresh.avatar is not None
        return str(fresh.avatar.url)
