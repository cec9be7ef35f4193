"""The server's SQLite writes are copied from the WAL back into the database file by a thread
of their own, never inside a writer's ``COMMIT`` (app/db.py ``_Checkpointer``): the WAL is
copied soon after the writes pause, it is started again from the top under writers that never
pause, and nothing written is lost on the way."""

from __future__ import annotations

import asyncio
import sqlite3
import struct
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import db as app_db
from app.config import Settings
from app.db import Database
from app.models import Base, Category
from tests.kit.helpers import until


@pytest.fixture
async def own_settings(settings: Settings, tmp_path: Path) -> Settings:
    """A database file of the test's own: the app's checkpointer copies the shared one."""
    if not settings.is_sqlite:
        pytest.skip("the WAL is SQLite's")
    own = settings.model_copy(
        update={"database_url": f"sqlite+aiosqlite:///{tmp_path / 'own.db'}", "data_dir": tmp_path}
    )
    schema = Database(own)
    async with schema.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    await schema.dispose()
    return own


def _paths(database: Database) -> tuple[Path, Path]:
    path = Path(database.engine.url.database.removeprefix("file:"))
    return path, Path(f"{path}-wal")


def _wal_header(wal: Path) -> bytes:
    with wal.open("rb") as file:
        return file.read(32)


def _wal_frames(wal: Path) -> int:
    """Frames the WAL file has room for (it is reused from the top, never shortened)."""
    size = wal.stat().st_size if wal.exists() else 0
    page_size = struct.unpack(">I", _wal_header(wal)[8:12])[0] if size >= 32 else 4096
    return max(0, (size - 32) // (page_size + 24))


def _wal_restarts(wal: Path) -> int:
    """The WAL header's checkpoint sequence: SQLite adds one each time it starts the WAL
    again from the top."""
    return struct.unpack(">I", _wal_header(wal)[12:16])[0]


def _left_to_copy(path: Path) -> int:
    """Frames of the WAL not yet in the database file, read from the WAL index beside it
    (``PRAGMA wal_checkpoint`` would tell, but copy them as it did)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        connection.execute("SELECT count(*) FROM categories").fetchone()
        shm = Path(f"{path}-shm").read_bytes()
    finally:
        connection.close()
    # The WAL index header (twice, 48 bytes each), then the checkpoint info: its first
    # field is the number of frames copied back; mxFrame is the header's 5th u32.
    max_frame = struct.unpack("=I", shm[16:20])[0]
    backfilled = struct.unpack("=I", shm[96:100])[0]
    return max_frame - backfilled


async def _add_categories(database: Database, prefix: str, count: int) -> None:
    for n in range(count):
        async with database.transaction() as session:
            session.add(
                Category(
                    slug=f"{prefix}-{n}",
                    name_en=f"{prefix} {n}",
                    name_ja=f"{prefix} {n}",
                    description_en="x" * 3000,  # most of a page: a few frames per write
                )
            )


async def _categories(database: Database) -> int:
    async with database.transaction(write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(Category)) or 0)


def _checkpoint_threads() -> set[threading.Thread]:
    """Checkpointer threads alive (the app's own included)."""
    return {t for t in threading.enumerate() if t.name == "kizuna-sqlite-checkpoint"}


async def test_no_commit_copies_the_wal_back(own_settings: Settings, monkeypatch):
    """Past SQLite's 1,000 frames, a COMMIT would copy the WAL back while holding every other
    writer up; here none does, and stopping the server does not wait out the pause."""
    monkeypatch.setattr(app_db, "CHECKPOINT_PAUSE_SECONDS", 3600.0)
    others = _checkpoint_threads()
    database = Database(own_settings)
    path, wal = _paths(database)
    try:
        await _add_categories(database, "quiet", 500)
        assert _wal_frames(wal) > 1000
        assert _left_to_copy(path) > 1000  # SQLite alone would have copied them back
        assert _checkpoint_threads() - others  # ours, waiting out its pause
    finally:
        await asyncio.wait_for(database.dispose(), 5)
    assert not _checkpoint_threads() - others
    with sqlite3.connect(path) as reopened:
        assert reopened.execute("SELECT count(*) FROM categories").fetchone()[0] == 500


async def test_the_wal_is_copied_back_once_the_writes_pause(own_settings: Settings, monkeypatch):
    monkeypatch.setattr(app_db, "CHECKPOINT_PAUSE_SECONDS", 0.01)
    database = Database(own_settings)
    path, _wal = _paths(database)
    try:
        await _add_categories(database, "burst", 50)
        await until(lambda: _left_to_copy(path) == 0, "the WAL copied back")
        assert await _categories(database) == 50
    finally:
        await database.dispose()


async def test_writers_that_never_pause_still_get_the_wal_started_again(
    own_settings: Settings, monkeypatch
):
    """A passive checkpoint copies only what was written before it began, and SQLite starts
    the WAL again only when a writer begins with all of it copied: with writers always
    queued, the checkpointer takes a turn among them now and then (a seal) to copy the
    last frames, so the WAL file stays small."""
    monkeypatch.setattr(app_db, "CHECKPOINT_PAUSE_SECONDS", 0.01)
    monkeypatch.setattr(app_db, "SEAL_FRAMES", 50)
    database = Database(own_settings)
    path, wal = _paths(database)
    try:
        await _add_categories(database, "first", 1)
        restarts = _wal_restarts(wal)
        # Four writers always queued: 600 writes of a few frames each.
        await asyncio.gather(*(_add_categories(database, f"w{w}", 150) for w in range(4)))
        assert _wal_restarts(wal) >= restarts + 3
        assert _wal_frames(wal) < 600  # without the seals: every frame, well over 1,200
        assert await _categories(database) == 601
    finally:
        await database.dispose()
    with sqlite3.connect(path) as reopened:  # all of it is in the file, not only the WAL
        assert reopened.execute("SELECT count(*) FROM categories").fetchone()[0] == 601
