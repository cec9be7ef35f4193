"""`kizuna uploads sweep`: delete upload files that lost their row (a crash between the file
write and the commit can leave one; see app.uploads.service)."""

from __future__ import annotations

from datetime import timedelta

from app.config import Settings
from app.db import Database
from app.uploads.service import sweep_orphans


async def sweep(settings: Settings, *, grace: timedelta) -> int:
    database = Database(settings)
    try:
        async with database.transaction(write=False) as session:
            return await sweep_orphans(session, grace=grace)
    finally:
        await database.dispose()
