"""Image uploads and avatars: the only code that writes upload rows and upload files.

A file and its row live or die together. The re-encoded image is written under a random name
(temporary file, fsync, ``os.replace``) before its row is flushed; the session remembers the
path, and a rollback of that session's transaction deletes it (see ``_discard_files``), so a
rejected or failed request leaves nothing behind. Files that lose their row on purpose
(a replaced or removed avatar) are deleted only after the commit (``app.db.after_commit``).
Only a crash between the two steps can leave a stray file; ``sweep_orphans`` removes those.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from starlette.datastructures import UploadFile

from app.config import get_settings
from app.db import after_commit
from app.kit import clock, ratelimit
from app.kit.errors import Forbidden, Invalid, TooManyRequests
from app.kit.i18n import gettext as _
from app.kit.i18n import ngettext
from app.models import Member, Upload, UploadPurpose
from app.uploads.images import MAX_BYTES, ProcessedImage, reencode, too_large

T = TypeVar("T")

UPLOADS_PER_HOUR = 30
RATE_WINDOW = 3600
IMAGE_WORKERS = 2
READ_CHUNK = 64 * 1024
ALT_MAX = 120
TEMP_PREFIX = ".tmp-"
SWEEP_GRACE = timedelta(hours=1)
# secrets.token_urlsafe(18) is exactly 24 URL-safe characters (144 random bits).
NAME_BYTES = 18
NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]{24}\.(?:jpg|png|gif|webp)")
_PENDING_FILES = "kizuna_upload_files"
_ALT_UNSAFE = re.compile(r"[\[\]\\<>\x00-\x1f\x7f]")

_limiter: anyio.CapacityLimiter | None = None


# --- files -------------------------------------------------------------------------------


def is_storage_name(name: str) -> bool:
    """Only names this module makes; anything else (``..``, slashes, NUL) is not a file here."""
    return NAME_PATTERN.fullmatch(name) is not None


def file_path(storage_name: str) -> Path:
    """Two-character subdirectories keep any one directory small."""
    if not is_storage_name(storage_name):
        raise ValueError("not an upload name")
    return get_settings().upload_dir / storage_name[:2] / storage_name


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _innermost(session: Session) -> SessionTransaction | None:
    return session.get_nested_transaction() or session.get_transaction()


def _track(session: AsyncSession, path: Path) -> None:
    """Remember a written file with the (sub)transaction its row belongs to."""
    pending: list[tuple[Path, SessionTransaction | None]] = session.info.setdefault(
        _PENDING_FILES, []
    )
    pending.append((path, _innermost(session.sync_session)))


def _inside(transaction: SessionTransaction | None, ending: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ending:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_commit")
def _keep_files(session: Session) -> None:
    # Releasing a savepoint also fires after_commit; only the outermost commit is final.
    ending = _innermost(session)
    if ending is None or not ending.nested:
        session.info.pop(_PENDING_FILES, None)


@event.listens_for(Session, "after_rollback")
def _discard_files(session: Session) -> None:
    # Fires for the whole transaction and for each savepoint rolled back: delete the files
    # written inside whichever of them is ending, keep the others.
    pending: list[tuple[Path, SessionTransaction | None]] = session.info.get(_PENDING_FILES, [])
    if not pending:
        return
    ending = _innermost(session)
    kept = []
    for path, written_in in pending:
        if ending is None or not ending.nested or _inside(written_in, ending):
            path.unlink(missing_ok=True)
        else:
            kept.append((path, written_in))
    session.info[_PENDING_FILES] = kept


async def _in_worker(function: Callable[..., T], *args: Any) -> T:
    """Pillow work runs in threads, at most IMAGE_WORKERS at once: a 40-megapixel image
    decodes to well over 100 MB, so unbounded parallel uploads could exhaust memory."""
    global _limiter
    if _limiter is None:
        _limiter = anyio.CapacityLimiter(IMAGE_WORKERS)
    return await anyio.to_thread.run_sync(function, *args, limiter=_limiter)


# --- checks ------------------------------------------------------------------------------


async def read_image_file(file: object) -> bytes:
    """The bytes of the form's ``file`` part, refusing it as soon as it passes the size limit."""
    if not isinstance(file, UploadFile):
        raise Invalid(_("Choose an image file to upload."), field="file")
    if file.size is not None and file.size > MAX_BYTES:
        raise too_large()
    chunks: list[bytes] = []
    size = 0
    while chunk := await file.read(READ_CHUNK):
        size += len(chunk)
        if size > MAX_BYTES:
            raise too_large()
        chunks.append(chunk)
    if size == 0 and not file.filename:
        # What a browser sends when the file input was left empty.
        raise Invalid(_("Choose an image file to upload."), field="file")
    return b"".join(chunks)


async def check_may_upload(session: AsyncSession, member: Member) -> None:
    """Silenced members may not upload; everyone else gets UPLOADS_PER_HOUR attempts an hour."""
    silenced_until = getattr(member, "silenced_until", None)
    if silenced_until is not None and silenced_until > clock.now():
        raise Forbidden(_("You cannot upload images while your account is silenced."))
    wait = await ratelimit.consume(
        session, f"uploads:member:{member.id}", UPLOADS_PER_HOUR, RATE_WINDOW
    )
    if wait is not None:
        minutes = max(1, (wait + 59) // 60)
        raise TooManyRequests(
            wait,
            ngettext(
                "You have uploaded many images recently. Try again in %(num)s minute.",
                "You have uploaded many images recently. Try again in %(num)s minutes.",
                minutes,
            ),
        )


def alt_text(alt: str | None, filename: str | None) -> str:
    """Alt text for the Markdown snippet: what the member typed, else the file's base name."""
    text = (alt or "").strip()
    if not text and filename:
        base = filename.replace("\\", "/").rsplit("/", 1)[-1]
        text = base.rsplit(".", 1)[0] if "." in base else base
    text = " ".join(_ALT_UNSAFE.sub(" ", text).split())[:ALT_MAX].strip()
    return text or _("image")


def markdown_for(upload: Upload, alt: str) -> str:
    return f"![{alt}]({upload.url})"


# --- writes ------------------------------------------------------------------------------


async def store_image(
    session: AsyncSession, member: Member, data: bytes, *, purpose: UploadPurpose
) -> Upload:
    """Check, re-encode and store an image; raises Invalid (field "file") if it is not one."""
    processed: ProcessedImage = await _in_worker(
        lambda: reencode(data, avatar=purpose == UploadPurpose.avatar)
    )
    name = f"{secrets.token_urlsafe(NAME_BYTES)}.{processed.extension}"
    path = file_path(name)
    await _in_worker(_write_atomically, path, processed.data)
    _track(session, path)
    upload = Upload(
        storage_name=name,
        uploader_member_id=member.id,
        purpose=purpose.value,
        content_type=processed.content_type,
        width=processed.width,
        height=processed.height,
        byte_size=len(processed.data),
        sha256=processed.sha256,
    )
    session.add(upload)
    try:
        await session.flush()
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return upload


async def _delete_upload(session: AsyncSession, upload: Upload) -> None:
    path = file_path(upload.storage_name)
    await session.delete(upload)
    await session.flush()

    async def remove_file() -> None:
        await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))

    after_commit(session, remove_file)


async def set_avatar(session: AsyncSession, member: Member, data: bytes) -> Upload:
    """Store a square avatar and make it the member's, retiring the previous one."""
    previous_id = member.avatar_upload_id
    upload = await store_image(session, member, data, purpose=UploadPurpose.avatar)
    member.avatar = upload
    await session.flush()
    if previous_id is not None:
        previous = await session.get(Upload, previous_id)
        if previous is not None:
            await _delete_upload(session, previous)
    return upload


async def remove_avatar(session: AsyncSession, member: Member) -> bool:
    """Back to no avatar. Returns False if there was none."""
    previous_id = member.avatar_upload_id
    if previous_id is None:
        return False
    member.avatar = None
    await session.flush()
    previous = await session.get(Upload, previous_id)
    if previous is not None:
        await _delete_upload(session, previous)
    return True


# --- maintenance -------------------------------------------------------------------------


def _stale_files(root: Path, cutoff: float) -> tuple[list[Path], dict[str, Path]]:
    temporary: list[Path] = []
    named: dict[str, Path] = {}
    if not root.is_dir():
        return temporary, named
    for folder in root.iterdir():
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            try:
                if not path.is_file() or path.stat().st_mtime >= cutoff:
                    continue
            except FileNotFoundError:
                continue
            if path.name.startswith(TEMP_PREFIX):
                temporary.append(path)
            elif is_storage_name(path.name):
                named[path.name] = path
    return temporary, named


async def sweep_orphans(session: AsyncSession, *, grace: timedelta = SWEEP_GRACE) -> int:
    """Delete upload files without a row (left by a crash), older than ``grace``.

    The grace period keeps files of requests still in flight. Returns how many were deleted.
    """
    cutoff = (clock.now() - grace).timestamp()
    temporary, named = await anyio.to_thread.run_sync(
        _stale_files, get_settings().upload_dir, cutoff
    )
    orphans = list(temporary)
    names = list(named)
    for start in range(0, len(names), 500):
        batch = names[start : start + 500]
        known = set(
            (
                await session.execute(
                    select(Upload.storage_name).where(Upload.storage_name.in_(batch))
                )
            ).scalars()
        )
        orphans.extend(named[name] for name in batch if name not in known)
    for path in orphans:
        path.unlink(missing_ok=True)
    return len(orphans)
