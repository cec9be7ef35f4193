"""``kizuna analytics recompute``: rebuild every member's scores (and, if asked, the rollups)."""

from __future__ import annotations

from typing import Any

from app.config import get_settings
from app.db import Database, set_database
from app.models import AnalyticsActive, AnalyticsActiveReturn, AnalyticsMemberScore


async def vacuum(database: Database, tables: list[str]) -> None:
    """On PostgreSQL, vacuum and analyse the tables just rewritten. Every row rewritten leaves
    a dead one behind, and its page unmarked in the visibility map until autovacuum comes by,
    so reads meant to use an index alone (the scores page's counts and ranking) would visit
    every row in the table meanwhile: at 100,000 members the scores page took 329-370 ms right
    after a recompute and 190-230 ms once vacuumed (bench/ANALYSIS.md, session 30)."""
    if database.engine.dialect.name != "postgresql":
        return
    async with database.engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in tables:
            await autocommit.exec_driver_sql(f'VACUUM (ANALYZE) "{table}"')


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
        rewritten: list[Any] = [AnalyticsMemberScore]
        if rebuild_rollups:
            rewritten += [*rollups.REBUILT, AnalyticsActive, AnalyticsActiveReturn]
        await vacuum(database, [model.__tablename__ for model in rewritten])
    finally:
        await database.dispose()
        set_database(None)
    return 0
