"""Work that happens because time passed, not because somebody asked: a scheduled campaign
opens at its start and closes at its end (telling its audience), a survey made ahead is
announced on its opening day, and members whose analytics scores are marked dirty are
refreshed (app.analytics.service.refresh_pending; normally done shortly after each commit).

Each serving process runs :class:`Ticker`, which does one :func:`tick` every
``KIZUNA_SCHEDULER_SECONDS``. Several processes may tick at once: every step locks the rows it
moves and re-checks their state, and announcements carry a dedupe key, so each campaign opens
once and each audience is told once. ``kizuna tick`` runs the same pass from cron for setups
that prefer it. Page requests still move a due campaign on sight (app.campaigns.service), so a
visitor never sees a campaign in a state its dates contradict.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from app.db import Database
from app.kit.background import BackgroundLoop

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TickResult:
    campaigns_moved: int
    surveys_announced: int
    scores_refreshed: int = 0


async def tick(database: Database) -> TickResult:
    from app.analytics import nps
    from app.analytics import service as analytics
    from app.campaigns import service as campaigns

    async with database.transaction(write=False) as reading:
        campaigns_due = bool(await campaigns.due_campaign_ids(reading))
        surveys_due = await nps.has_unannounced(reading)
    moved = announced = 0
    if campaigns_due:
        async with database.transaction() as writing:
            moved = await campaigns.advance_due(writing)
    if surveys_due:
        async with database.transaction() as writing:
            announced = await nps.announce_due(writing)
    # Members whose scores still wait (their after-commit batch did not run: a crash, a
    # command-line job, a burst that outran it).
    refreshed = await analytics.refresh_pending(database)
    return TickResult(moved, announced, refreshed)


class Ticker(BackgroundLoop):
    """One :func:`tick` every ``seconds`` in each serving process."""

    def __init__(self, database: Database, seconds: float) -> None:
        super().__init__()
        self._database = database
        self._seconds = seconds

    async def _run(self) -> None:
        while True:
            try:
                await tick(self._database)
            except Exception:  # a database outage: try again next time
                logger.exception("scheduled pass failed")
            await asyncio.sleep(self._seconds)
