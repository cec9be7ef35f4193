"""Checking and re-encoding images with Pillow: pure functions, no database, no files.

Only JPEG, PNG, GIF and WebP are accepted, recognised by their content. Every accepted image
is decoded and encoded again, which drops EXIF (GPS position, camera serial), XMP, ICC and text
chunks and anything a crafted file might smuggle after the pixels.

Animated GIF and WebP keep their first frame only. Re-encoding every frame would multiply the
decoding cost by the frame count (a small file can declare thousands of frames) and the pixel
limit would have to be split across frames; a still image is also what avatars need.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from app.kit.errors import Invalid
from app.kit.i18n import gettext as _

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
AVATAR_SIZE = 256
JPEG_QUALITY = 85
WEBP_QUALITY = 85

# Pillow warns above this many pixels and refuses at twice as many; we refuse at the limit
# ourselves (see _check_pixels), before any pixel is decoded.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

# Pillow format -> (content type, file extension). MPO is a JPEG with extra pictures appended
# (some cameras); it is stored as a plain JPEG of its first picture.
FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}
_OUTPUT_FORMAT = {"MPO": "JPEG"}
EXTENSIONS = {extension: content_type for content_type, extension in FORMATS.values()}

# Formats people often try that we do not accept, recognised by their first bytes so the
# message can say "unsupported format" rather than "not an image".
_OTHER_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"8BPS", "PSD"),
    (b"\x00\x00\x00\x0cjP  ", "JPEG 2000"),
    (b"\xff\x0a", "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL ", "JPEG XL"),
)
_ISO_BRANDS = {b"heic": "HEIC", b"heix": "HEIC", b"mif1": "HEIF", b"avif": "AVIF"}


def _looks_allowed(head: bytes) -> bool:
    """Starts like a JPEG, PNG, GIF or WebP (so if Pillow cannot read it, it is damaged)."""
    return head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")) or (
        head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    )


class UploadTooLarge(Invalid):
    status_code = 413


@dataclass(frozen=True)
class ProcessedImage:
    data: bytes
    format: str
    width: int
    height: int

    @property
    def content_type(self) -> str:
        return FORMATS[self.format][0]

    @property
    def extension(self) -> str:
        return FORMATS[self.format][1]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def not_an_image() -> Invalid:
    return Invalid(
        _("This file is not an image. Upload a JPEG, PNG, GIF or WebP picture."), field="file"
    )


def too_large() -> UploadTooLarge:
    return UploadTooLarge(
        _("The image is too large: at most %(size)s MB.", size=MAX_BYTES // (1024 * 1024)),
        field="file",
    )


def _unsupported(kind: str) -> Invalid:
    return Invalid(
        _("%(kind)s images are not supported. Upload a JPEG, PNG, GIF or WebP picture.", kind=kind),
        field="file",
    )


def _too_many_pixels() -> Invalid:
    return Invalid(
        _(
            "The image has too many pixels: at most %(megapixels)s megapixels.",
            megapixels=MAX_PIXELS // 1_000_000,
        ),
        field="file",
    )


def _corrupt() -> Invalid:
    return Invalid(
        _("The image is damaged or incomplete and cannot be read."),
        field="file",
    )


def other_image_kind(head: bytes) -> str | None:
    """The name of a recognisable but unaccepted format, from the file's first bytes."""
    for signature, kind in _OTHER_SIGNATURES:
        if head.startswith(signature):
            return kind
    if head[4:8] == b"ftyp" and head[8:12] in _ISO_BRANDS:
        return _ISO_BRANDS[head[8:12]]
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in head.lower()):
        return "SVG"
    return None


def _check_pixels(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise _corrupt()
    if width * height > MAX_PIXELS:
        raise _too_many_pixels()


def _open(data: bytes) -> Image.Image:
    """Open (headers only), with the format allowlist and the pixel limit enforced."""
    try:
        image = Image.open(io.BytesIO(data), formats=list(FORMATS))
    except UnidentifiedImageError:
        if _looks_allowed(data[:16]):
            raise _corrupt() from None
        kind = other_image_kind(data[:64])
        raise (_unsupported(kind) if kind else not_an_image()) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except Exception:
        # Pillow's parsers raise many kinds of errors on malformed headers.
        raise _corrupt() from None
    if image.format not in FORMATS and image.format not in _OUTPUT_FORMAT:
        image.close()
        raise not_an_image()
    try:
        _check_pixels(image.width, image.height)
    except Invalid:
        image.close()
        raise
    return image


def decode(data: bytes) -> tuple[Image.Image, str]:
    """Check ``data`` is a whole, sane JPEG/PNG/GIF/WebP and decode its first frame.

    Returns the decoded image and the format to store it in. Raises Invalid (field "file").
    """
    if not data:
        raise not_an_image()
    if len(data) > MAX_BYTES:
        raise too_large()
    with _open(data) as probe:
        try:
            probe.verify()
        except Exception:
            raise _corrupt() from None
    image = _open(data)
    output = _OUTPUT_FORMAT.get(str(image.format), str(image.format))
    try:
        image.seek(0)
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        image.close()
        raise _too_many_pixels() from None
    except Exception:
        image.close()
        raise _corrupt() from None
    return image, output


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        image.mode == "P" and "transparency" in image.info
    )


def _normalise_mode(image: Image.Image, output: str) -> Image.Image:
    """Bring pixels into a mode the output format stores faithfully."""
    if output == "JPEG":
        if image.mode in ("L", "RGB"):
            return image
        if _has_alpha(image):
            rgba = image.convert("RGBA")
            background = Image.new("RGB", rgba.size, (255, 255, 255))
            background.paste(rgba, mask=rgba.getchannel("A"))
            return background
        return image.convert("RGB")
    if output == "GIF":
        if image.mode in ("P", "L"):
            return image
        return image.convert("RGBA" if _has_alpha(image) else "RGB")
    if output == "PNG" and image.mode in ("1", "L", "LA", "RGB", "RGBA", "I;16", "I"):
        return image
    if output == "WEBP" and image.mode in ("RGB", "RGBA"):
        return image
    return image.convert("RGBA" if _has_alpha(image) else "RGB")


def _encode(image: Image.Image, output: str) -> bytes:
    # Metadata travels in .info (and the cached EXIF); a fresh dict leaves nothing to copy.
    transparency = image.info.get("transparency") if image.mode in ("P", "L") else None
    image.info = {}
    buffer = io.BytesIO()
    options: dict[str, object] = {}
    if output == "JPEG":
        options = {"quality": JPEG_QUALITY, "optimize": True}
    elif output == "WEBP":
        options = {"quality": WEBP_QUALITY, "method": 4}
    elif output == "GIF" and transparency is not None:
        options = {"transparency": transparency}
    image.save(buffer, format=output, exif=b"", **options)
    return buffer.getvalue()


def reencode(data: bytes, *, avatar: bool = False) -> ProcessedImage:
    """Decode, turn upright (EXIF orientation), optionally square for an avatar, re-encode."""
    image, output = decode(data)
    try:
        try:
            upright = ImageOps.exif_transpose(image)
        except Exception:
            # A damaged EXIF block only costs the orientation; the pixels are fine.
            upright = image.copy()
        if avatar:
            side = min(AVATAR_SIZE, upright.width, upright.height)
            if upright.mode not in ("RGB", "RGBA", "L"):
                upright = upright.convert("RGBA" if _has_alpha(upright) else "RGB")
            upright = ImageOps.fit(upright, (side, side), Image.Resampling.LANCZOS)
        final = _normalise_mode(upright, output)
        encoded = _encode(final, output)
    except Invalid:
        raise
    except Exception:
        raise _corrupt() from None
    finally:
        image.close()
    return ProcessedImage(data=encoded, format=output, width=final.width, height=final.height)
