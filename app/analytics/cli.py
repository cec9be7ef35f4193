"""``kizuna analytics recompute``: rebuild every member's scores (and, if asked, the rollups)."""

from __future__ import annotations

from app.config import get_settings
from app.db import Database, set_database


async def recompute(*, rebuild_rollups: bool) -> int:
    from app.analytics import rollups, service
    from app.main import create_app

    # Wire every activity listener (notifications, webhooks...) as the server does, so that the
    # "ambassador.flagged" activities recorded here reach them too.
    create_app()
    database = Database(get_settings())
    set_database(database)
    try:
        async with database.transaction() as session:
            if rebuild_rollups:
                replayed = await rollups.rebuild(session)
                print(f"Rollups rebuilt from {replayed} activities.")
            scored = await service.recompute_all(session)
        print(f"Scores recomputed for {scored} members.")
    finally:
        await database.dispose()
        set_database(None)
    return 0
