"""Helpers shared by the kit's tests."""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait up to 5 s for ``condition`` to hold, checking every 10 ms; fail naming ``what``."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


@contextmanager
def writers_lock_file(database: Any) -> Iterator[int]:
    """The SQLite writers' lock file (app/db.py ``_WriterQueue``), opened as another worker
    process would (an open file of its own); let go and closed afterwards."""
    path = f"{database.engine.url.database.removeprefix('file:')}-writers"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        yield fd
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def waiting_on(fd: int) -> bool:
    """Whether some writer is blocked on the lock file's flock (the kernel lists waiters
    with "->" in /proc/locks, by device and inode; the inode alone is matched, as overlay
    file systems may report another device number)."""
    inode = f":{os.fstat(fd).st_ino} "
    lines = Path("/proc/locks").read_text().splitlines()
    return any("->" in line and "FLOCK" in line and inode in line for line in lines)
