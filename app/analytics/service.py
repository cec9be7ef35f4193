"""Member scores (engagement, reach, RFM, decile, advocate type, ambassador detection) and the
analytics settings: the only code that writes them.

Scores follow each activity for the members it concerns (:func:`follow_activity`); the values
that depend on the passing of time or on everybody else (deciles, recency, the 90-day windows)
are refreshed for everyone by :func:`recompute_all` (``kizuna analytics recompute``, or the
"Recompute now" button), which reads only the rollups.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple, cast

from pydantic import BaseModel, Field
from sqlalchemy import (
    Column,
    Date,
    Float,
    Integer,
    MetaData,
    Table,
    and_,
    bindparam,
    case,
    distinct,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from app.activity import verbs
from app.analytics import advocates, ambassadors, metrics, policy, ranking
from app.analytics.ambassadors import Criteria, Facts
from app.analytics.rollups import TOUCHED_BY_ACTOR
from app.config import get_settings
from app.db import Database, after_commit
from app.kit import clock
from app.kit.sql import (
    database_key,
    dialect_name,
    in_ids,
    insert,
    read_prebuilt,
    run_prebuilt,
)
from app.models import (
    AnalyticsMemberDaily,
    AnalyticsMemberScore,
    AnalyticsSettings,
    AnalyticsTouch,
    Member,
    NpsResponse,
)

logger = logging.getLogger(__name__)
Score = AnalyticsMemberScore
Daily = AnalyticsMemberDaily
SKIPPED_VERBS = frozenset(
    {verbs.AMBASSADOR_FLAGGED, verbs.AMBASSADOR_CONFIRMED, verbs.AMBASSADOR_DISMISSED}
)
# Verbs after which the recipient's standing (and so their detection) may have changed.
STANDING_VERBS = frozenset({verbs.MEMBER_SILENCED, verbs.MEMBER_SUSPENDED})
# The columns the batch writes that an index holds: written only when they change.
INDEXED_SCORES = ("detection", "advocate_type", "rfm_group")
# Rows per executemany batch of the full recompute.
BULK_ROWS = 5000


def _heat_upsert(insert_: Any) -> Any:
    # One member's row, from a SELECT of the member that checks the role: members outside the
    # analytics population (staff) get no row.
    columns: dict[str, Any] = {
        "member_id": Member.id,
        "heat_base": bindparam("p_heat", type_=Float),
        "last_active_day": bindparam("p_day", type_=Date),
        "latest_nps": bindparam("p_nps", type_=Integer),
        "explanation": bindparam("p_explanation", type_=Score.explanation.type),
        "updated_at": bindparam("p_now", type_=Score.updated_at.type),
        "dirty": literal(True, Score.dirty.type),
    }
    # The other columns' defaults written out too: none is left for SQLAlchemy to compute at
    # each execution, so the statement can run on the driver as compiled (app.kit.sql).
    for column in cast(Table, Score.__table__).c:
        default = column.default
        if column.name not in columns and default is not None:
            assert isinstance(default, ScalarElementColumnDefault), column.name
            columns[column.name] = literal(default.arg, column.type)
    source = select(*(value.label(key) for key, value in columns.items())).where(
        Member.id == bindparam("p_member", type_=Integer),
        # The roles as values of their own, not one list SQLAlchemy expands per execution: so
        # the statement is compiled once (and runs on the driver, app.kit.sql).
        Member.role.in_([literal(role) for role in policy.POPULATION_ROLES]),
    )
    stmt = insert_(Score.__table__).from_select(list(columns), source)
    excluded = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=[Score.member_id],
        set_={
            "heat_base": Score.heat_base + excluded.heat_base,
            "last_active_day": case(
                (
                    and_(
                        excluded.last_active_day.is_not(None),
                        or_(
                            Score.last_active_day.is_(None),
                            Score.last_active_day < excluded.last_active_day,
                        ),
                    ),
                    excluded.last_active_day,
                ),
                else_=Score.last_active_day,
            ),
            "latest_nps": func.coalesce(excluded.latest_nps, Score.latest_nps),
            "updated_at": excluded.updated_at,
            "dirty": True,
        },
    )


async def _add_heat(
    session: AsyncSession, day: date, changes: dict[int, tuple[float, bool, int | None]]
) -> None:
    """Upsert the score of each member an activity concerns, each given (weight, active,
    latest NPS answer): add the weight to their engagement (move their last active day, note
    their NPS answer) and mark their other scores dirty. Members outside the analytics
    population (staff) are left alone."""
    criteria = await ambassadors.load_criteria(session)
    now = clock.now()
    # In member order, so two transactions touching the same two members (a like each way)
    # lock their score rows in the same order and cannot deadlock on PostgreSQL.
    for member_id in sorted(changes):
        weight, active, nps = changes[member_id]
        await run_prebuilt(
            session,
            "analytics.heat",
            _heat_upsert,
            {
                "p_member": member_id,
                "p_heat": metrics.heat_increment(weight, day, criteria.monthly_decay),
                "p_day": day if active else None,
                "p_nps": nps,
                "p_explanation": [],
                "p_now": now,
            },
        )


async def follow_activity(session: AsyncSession, activity: Any) -> None:
    """Follow an activity in the scores of the members it concerns (same transaction, one
    statement): their engagement and last active day at once; the rest (reach, RFM, decile,
    advocate type, ambassador detection) shortly after the commit (:func:`refresh_dirty`)."""
    if activity.verb in SKIPPED_VERBS:
        return
    criteria = await ambassadors.load_criteria(session)
    actor, recipient = activity.actor_id, activity.recipient_id
    changes: dict[int, tuple[float, bool, int | None]] = {}
    if actor is not None:
        nps: int | None = None
        if activity.verb == verbs.SURVEY_ANSWERED:
            score = (activity.data or {}).get("score")
            nps = score if isinstance(score, int) and not isinstance(score, bool) else None
        changes[actor] = (criteria.weights.get(activity.verb, 0.0), True, nps)
    if recipient is not None and recipient != actor:
        weight = criteria.weights.get(f"{activity.verb}:received", 0.0)
        if weight or activity.verb in TOUCHED_BY_ACTOR or activity.verb in STANDING_VERBS:
            changes[recipient] = (weight, False, None)
    if changes:
        await _add_heat(session, activity.day, changes)
        _refresh_after_commit(session)


# --- the dirty members' batch -------------------------------------------------------------------

# Members per batch transaction.
REFRESH_BATCH = 500
_REFRESH_KEY = "analytics_refresh_queued"
# Per database (engine URL) in this process: a batch waiting for the commits to gather (what
# wakes it early); a batch is running; another was asked meanwhile.
_gathering: dict[str, asyncio.Event] = {}
_refreshing: set[str] = set()
_asked_again: set[str] = set()
_background: set[asyncio.Task[int]] = set()


def _refresh_after_commit(session: AsyncSession) -> None:
    if session.info.get(_REFRESH_KEY):
        return
    session.info[_REFRESH_KEY] = True

    async def refresh() -> None:
        from app.db import get_database

        try:
            database = get_database()
        except RuntimeError:
            return  # a command-line job without the app's database: the next tick does it
        delay = get_settings().score_refresh_delay_seconds
        if delay > 0:
            _refresh_soon(database, delay)
        else:
            await refresh_pending(database)

    after_commit(session, refresh)


def _refresh_soon(database: Database, delay: float) -> None:
    """Refresh the dirty members ``delay`` seconds from now, in the background, unless a
    refresh is already waiting: the commits that mark members meanwhile are served by that
    one batch. Under a stream of likes a batch right after each commit served 14 of them,
    and each batch pays for two transactions, a turn among the writers and its reads of the
    settings; waiting 0.2 s, one served 92 (bench/ANALYSIS.md, session 38). A member's figures
    wait that much longer. Nothing is lost if the process stops meanwhile: the marks are in
    the database, and the scheduler's tick refreshes what is left."""
    key = database_key(database.engine.sync_engine)
    if key in _gathering:
        return
    wake = _gathering[key] = asyncio.Event()

    async def later() -> int:
        try:
            async with asyncio.timeout(delay):
                await wake.wait()
        except TimeoutError:
            pass
        finally:
            del _gathering[key]
        try:
            return await refresh_pending(database)
        except Exception:
            logger.exception("refreshing the scores after a commit failed; the next tick retries")
            return 0

    _keep(asyncio.get_running_loop().create_task(later()))


def _keep(task: asyncio.Task[int]) -> None:
    """Hold a background task until it ends (the loop keeps only a weak reference)."""
    _background.add(task)
    task.add_done_callback(_background.discard)


async def settle() -> None:
    """Run at once a batch waiting for its commits, and wait for every score refresh of this
    process in the background (and those they start): the app's shutdown calls it, so that a
    graceful stop leaves no member marked, and the tests between two tests."""
    for wake in _gathering.values():
        wake.set()
    while _background:
        await asyncio.gather(*list(_background), return_exceptions=True)


async def refresh_pending(database: Database) -> int:
    """Refresh every dirty member, in batches of :data:`REFRESH_BATCH`; returns how many were
    refreshed. Called after the commits that marked members dirty (see
    :func:`_refresh_soon`) and by the scheduler's tick. One batch at a time per process:
    asked while one runs, it returns at once and another pass follows the running one (so a
    burst of activity costs a few batches, not one transaction per activity)."""
    key = database_key(database.engine.sync_engine)
    if key in _refreshing:
        _asked_again.add(key)
        return 0
    _refreshing.add(key)
    batch = _batch_from_snapshot if database.engine.dialect.name == "sqlite" else _batch_locked
    total = 0
    try:
        while True:
            done = await batch(database)
            total += done
            if done < REFRESH_BATCH:
                break
    finally:
        _refreshing.discard(key)
    if key in _asked_again:
        _asked_again.discard(key)
        _keep(asyncio.get_running_loop().create_task(refresh_pending(database)))
    return total


def _dirty_members(limit: int) -> Any:
    return _dirty_build(None).params(p_limit=limit)


# The batch's statements are built once (app.kit.sql.prebuilt) and take the members as one
# parameter (app.kit.sql.in_ids), so they run straight on the driver: through the
# ORM each cost more than its SQL, and a like's batch, which usually refreshes two members,
# runs seven of them (bench/ANALYSIS.md, session 16).
def _dirty_build(_insert: Any) -> Any:
    return (
        select(Score.member_id)
        # The column alone, as the partial index's clause says (its model explains).
        .where(Score.dirty)
        .order_by(Score.member_id)
        .limit(bindparam("p_limit", type_=Integer))
    )


# A member's columns that MemberFacts holds, in its order.
_FACT_COLUMNS = (
    Member.id,
    Member.created_at,
    Member.lifetime_points,
    Member.silenced_until,
    Member.suspended_until,
)


class _FactsRow(NamedTuple):
    id: int
    created_at: datetime
    lifetime_points: int
    silenced_until: datetime | None
    suspended_until: datetime | None
    role: str
    heat_base: float
    last_active_day: date | None
    latest_nps: int | None
    detection: str
    advocate_type: str
    rfm_group: str
    ambassador_status: str
    updated_at: datetime


def _facts_build(_insert: Any) -> Any:
    return (
        select(
            *_FACT_COLUMNS,
            Member.role,
            Score.heat_base,
            Score.last_active_day,
            Score.latest_nps,
            Score.detection,
            Score.advocate_type,
            Score.rfm_group,
            Score.ambassador_status,
            Score.updated_at,
        )
        .join(Score, Score.member_id == Member.id)
        .where(in_ids(Member.id, "p_ids"))
        .order_by(Member.id)
    )


def _frequency_build(_insert: Any) -> Any:
    return (
        select(Daily.member_id, func.count(distinct(Daily.day)))
        .where(in_ids(Daily.member_id, "p_ids"), Daily.day >= bindparam("p_since"), Daily.done > 0)
        .group_by(Daily.member_id)
    )


def _reach_build(_insert: Any) -> Any:
    return (
        select(AnalyticsTouch.member_id, func.count())
        .where(
            in_ids(AnalyticsTouch.member_id, "p_ids"),
            AnalyticsTouch.last_day >= bindparam("p_since"),
        )
        .group_by(AnalyticsTouch.member_id)
    )


def _signals_build(_insert: Any) -> Any:
    return (
        select(Daily.member_id, Daily.verb, func.sum(Daily.done), func.sum(Daily.received))
        .where(
            in_ids(Daily.member_id, "p_ids"),
            Daily.day >= bindparam("p_since"),
            # Each verb a bound value of its own (not an IN list SQLAlchemy expands per run).
            Daily.verb.in_([literal(verb) for verb in sorted(advocates.signal_verbs())]),
        )
        .group_by(Daily.member_id, Daily.verb)
    )


def _stamps_build(_insert: Any) -> Any:
    return select(Score.member_id, Score.updated_at).where(
        in_ids(Score.member_id, "p_ids"), Score.dirty
    )


def _score_update_build(shape: tuple[str, ...]) -> Callable[[Any], Any]:
    def build(_insert: Any) -> Any:
        table = cast(Table, Score.__table__)
        return (
            update(table)
            .where(table.c.member_id == bindparam("b_member_id"))
            .values({key: bindparam(key) for key in shape if key != "b_member_id"})
        )

    return build


async def _batch_locked(database: Database) -> int:
    """One batch in one write transaction (PostgreSQL: the rows are locked, not the
    database), after a cheap look for any dirty member. Returns how many were refreshed."""
    async with database.transaction(write=False) as reading:
        if await reading.scalar(_dirty_members(1)) is None:
            return 0
    async with database.transaction() as session:
        return await refresh_dirty(session, limit=REFRESH_BATCH)


async def _batch_from_snapshot(database: Database) -> int:
    """One batch on SQLite, where a write transaction holds the database's only write lock:
    the dirty members' scores are computed in a read transaction (a snapshot, taking no
    lock), then written in a short write transaction for the members no activity has marked
    again since the snapshot (the others stay dirty for the next batch). Computed under the
    lock, a batch kept every other writer waiting while it read the rollups. Returns how many
    members were considered."""
    today = clock.community_day()
    async with database.transaction(write=False) as reading:
        dirty = await read_prebuilt(
            reading, "analytics.dirty", _dirty_build, {"p_limit": REFRESH_BATCH}
        )
        member_ids = [member_id for (member_id,) in dirty]
        if not member_ids:
            return 0
        computed = await _compute_scores(reading, member_ids, today)
    async with database.transaction() as session:
        await _write_scores(session, computed, recheck=True)
    return len(member_ids)


async def refresh_dirty(
    session: AsyncSession, *, limit: int = REFRESH_BATCH, today: date | None = None
) -> int:
    """Recompute the scores of up to ``limit`` dirty members from the rollups, clear their
    mark, and flag or unflag ambassadors among them; returns how many were refreshed.

    On PostgreSQL the rows are locked (``SKIP LOCKED``: a batch never waits for another one),
    on SQLite write transactions take turns, so each member is refreshed by one batch at a
    time and each flag change is recorded once."""
    query = _dirty_members(limit)
    if dialect_name(session) == "postgresql":
        query = query.with_for_update(skip_locked=True)
    member_ids = list((await session.execute(query)).scalars())
    if not member_ids:
        return 0
    await refresh_members(session, member_ids, today or clock.community_day())
    return len(member_ids)


async def _deciles(session: AsyncSession, heats: dict[int, float]) -> dict[int, int]:
    """The deciles of these members (as :func:`_decile` places each): for more than a few of
    them in a community small enough to count exactly, from one read of the ranking."""
    bounds = await _bounds(session)
    if bounds.population > EXACT_DECILES_UP_TO or len(heats) < 4:
        population = bounds.population if bounds.population > EXACT_DECILES_UP_TO else None
        if population is None and heats:
            population = await ranking.population(session)
        return {
            member_id: await _decile(session, member_id, heat, population)
            for member_id, heat in heats.items()
        }
    ranked = sorted(
        (
            await session.execute(
                select(Score.heat_base, Score.member_id)
                .join(Member, Member.id == Score.member_id)
                .where(Member.role.in_(policy.POPULATION_ROLES))
            )
        ).all(),
        key=lambda row: (-row[0], row[1]),
    )
    population = await ranking.population(session)
    return {
        member_id: metrics.decile_of(
            bisect.bisect_left(ranked, (-heat, member_id), key=lambda row: (-row[0], row[1])),
            population,
        )
        for member_id, heat in heats.items()
    }


@dataclass
class _Computed:
    """A batch's new scores, computed by :func:`_compute_scores` and written by
    :func:`_write_scores`."""

    # Each member's ``updated_at`` as read: every activity that marks a member dirty moves it.
    stamps: dict[int, datetime]
    updates: list[dict[str, Any]]
    # Members whose detection moved them in or out of the flagged status.
    changed: list[tuple[int, str]]


async def refresh_members(session: AsyncSession, member_ids: list[int], today: date) -> None:
    """Recompute these members' scores (all but engagement, last active day and latest NPS,
    which activities keep) with one query per source, as :func:`recompute_all` does for
    everybody."""
    await _write_scores(session, await _compute_scores(session, member_ids, today))


async def _compute_scores(session: AsyncSession, member_ids: list[int], today: date) -> _Computed:
    criteria = await ambassadors.load_criteria(session)
    now = clock.now()
    ids = {"p_ids": member_ids}
    rows = [
        _FactsRow(*row)
        for row in await read_prebuilt(session, "analytics.facts", _facts_build, ids)
    ]
    since = {**ids, "p_since": today - timedelta(days=policy.REACH_DAYS)}
    frequency = dict(await read_prebuilt(session, "analytics.frequency", _frequency_build, since))
    reach = dict(await read_prebuilt(session, "analytics.reach", _reach_build, since))
    counts = await _signal_counts(session, today, member_ids)
    deciles = await _deciles(
        session,
        {row.id: row.heat_base for row in rows if row.role in policy.POPULATION_ROLES},
    )
    updates: list[dict[str, Any]] = []
    changed: list[tuple[int, str]] = []
    for row in rows:
        if row.role not in policy.POPULATION_ROLES:
            # Left the population (a role change): only the mark goes.
            updates.append({"b_member_id": row.id, "dirty": False})
            continue
        values = _scores(
            MemberFacts(
                row.id, row.created_at, row.lifetime_points, row.silenced_until, row.suspended_until
            ),
            criteria,
            today,
            now,
            heat_base=row.heat_base,
            last_active_day=row.last_active_day,
            latest_nps=row.latest_nps,
            frequency=int(frequency.get(row.id, 0)),
            reach=int(reach.get(row.id, 0)),
            decile=deciles[row.id],
            counts=counts.get(row.id, {}),
        )
        detection = values["detection"]
        for kept in ("heat_base", "last_active_day", "latest_nps"):
            values.pop(kept)
        for indexed in INDEXED_SCORES:
            # Only when it moves: an indexed column written rewrites its index entry even
            # with the same value (a page of the index for every member refreshed).
            if values[indexed] == getattr(row, indexed):
                del values[indexed]
        updates.append({"b_member_id": row.id, **values, "dirty": False})
        status = row.ambassador_status
        if (detection == ambassadors.AMBASSADOR and status == "") or (
            detection != ambassadors.AMBASSADOR and status == ambassadors.FLAGGED
        ):
            changed.append((row.id, detection))
    return _Computed({row.id: row.updated_at for row in rows}, updates, changed)


async def _write_scores(
    session: AsyncSession, computed: _Computed, *, recheck: bool = False
) -> None:
    """Write computed scores and follow the detections that changed. With ``recheck``
    (computed in an earlier transaction), only for the members still dirty with the same
    ``updated_at``: an activity since then changed their facts, so their figures wait for
    the next batch."""
    updates, changed = computed.updates, computed.changed
    if recheck and computed.stamps:
        current = dict(
            await read_prebuilt(
                session, "analytics.stamps", _stamps_build, {"p_ids": list(computed.stamps)}
            )
        )
        still = {
            member_id
            for member_id, stamp in computed.stamps.items()
            if current.get(member_id) == stamp
        }
        updates = [row for row in updates if row["b_member_id"] in still]
        changed = [move for move in changed if move[0] in still]
    for shape in {tuple(update_row) for update_row in updates}:
        same = [update_row for update_row in updates if tuple(update_row) == shape]
        await run_prebuilt(
            session, ("analytics.score_update", shape), _score_update_build(shape), same
        )
    await _follow_changes(session, changed)


async def _follow_changes(session: AsyncSession, changed: list[tuple[int, str]]) -> None:
    """Flag or unflag the members whose detection changed (history row, activity, webhooks).
    Their scores and member rows are loaded a slice at a time and the status changes of a
    slice are flushed together (the first recompute of a large community flags thousands)."""
    for start in range(0, len(changed), BULK_ROWS):
        chunk = changed[start : start + BULK_ROWS]
        ids = [member_id for member_id, _detection in chunk]
        scores = {
            score.member_id: score
            for score in (
                await session.execute(
                    select(Score)
                    .where(Score.member_id.in_(ids))
                    .execution_options(populate_existing=True)
                )
            ).scalars()
        }
        # The members' rows join the session now, so each status change finds its member
        # there instead of asking for it.
        await session.execute(select(Member).where(Member.id.in_(ids)))
        moves = [
            (scores[member_id], detection) for member_id, detection in chunk if member_id in scores
        ]
        await ambassadors.follow_detections(session, moves)
    # Score objects already in the session are stale now.
    for instance in list(session.identity_map.values()):
        if isinstance(instance, AnalyticsMemberScore):
            session.expire(instance)


async def _signal_counts(
    session: AsyncSession, today: date, member_ids: list[int] | None = None
) -> dict[int, dict[tuple[str, str], int]]:
    since = today - timedelta(days=advocates.SIGNAL_DAYS)
    found: Sequence[tuple[Any, ...]]
    if member_ids is None:
        found = (
            await session.execute(
                select(Daily.member_id, Daily.verb, func.sum(Daily.done), func.sum(Daily.received))
                .where(Daily.day >= since, Daily.verb.in_(advocates.signal_verbs()))
                .group_by(Daily.member_id, Daily.verb)
            )
        ).all()
    else:
        found = await read_prebuilt(
            session, "analytics.signals", _signals_build, {"p_ids": member_ids, "p_since": since}
        )
    counts: dict[int, dict[tuple[str, str], int]] = defaultdict(dict)
    for mid, verb, done, received in found:
        counts[mid][(verb, "done")] = int(done or 0)
        counts[mid][(verb, "received")] = int(received or 0)
    return counts


# Deciles rank a member among everybody. Up to this many members the rank is counted on every
# activity (exact); above it, counting would cost a scan of the population per activity, so the
# member is placed against the decile boundaries of the whole population, recounted at most
# every DECILE_BOUNDS_SECONDS per process (boundaries barely move between two counts in a
# community that large; ``kizuna analytics recompute`` sets every decile exactly).
EXACT_DECILES_UP_TO = 5000
DECILE_BOUNDS_SECONDS = 300.0


@dataclass(frozen=True)
class _DecileBounds:
    counted_at: float
    population: int
    # The (heat_base, member_id) of the first member of deciles 2..10, in ranking order.
    starts: tuple[tuple[float, int], ...]


_decile_bounds: dict[str, _DecileBounds] = {}


def _ahead_of(heat_base: float, member_id: int) -> Any:
    return or_(
        Score.heat_base > heat_base,
        and_(Score.heat_base == heat_base, Score.member_id < member_id),
    )


async def _bounds(session: AsyncSession) -> _DecileBounds:
    key = database_key(session.get_bind().engine)
    cached = _decile_bounds.get(key)
    if cached is not None and time.monotonic() - cached.counted_at < DECILE_BOUNDS_SECONDS:
        return cached
    population = await ranking.population(session)
    starts: list[tuple[float, int]] = []
    if population > EXACT_DECILES_UP_TO:
        found = await ranking.members_at(
            session, metrics.decile_starts(population)[1:], await ranking.population_rows(session)
        )
        starts = [found[position] for position in sorted(found)]
    bounds = _DecileBounds(time.monotonic(), population, tuple(starts))
    _decile_bounds[key] = bounds
    return bounds


async def _decile(
    session: AsyncSession, member_id: int, heat_base: float, population: int | None = None
) -> int:
    bounds = await _bounds(session)
    if bounds.population <= EXACT_DECILES_UP_TO:
        ahead = await session.scalar(
            select(func.count())
            .select_from(Score)
            .join(Member, Member.id == Score.member_id)
            .where(Member.role.in_(policy.POPULATION_ROLES), _ahead_of(heat_base, member_id))
        )
        if population is None:
            population = await ranking.population(session)
        return metrics.decile_of(int(ahead or 0), population)
    # Past each boundary member (ranked at or after them) is one decile further down.
    return 1 + sum(
        1
        for start_heat, start_id in bounds.starts
        if heat_base < start_heat or (heat_base == start_heat and member_id >= start_id)
    )


@dataclass(frozen=True)
class MemberFacts:
    """What a member's scores are computed from (besides the rollup aggregates)."""

    member_id: int
    created_at: datetime
    lifetime_points: int
    silenced_until: datetime | None
    suspended_until: datetime | None


def _scores(
    facts: MemberFacts,
    criteria: Criteria,
    today: date,
    now: datetime,
    *,
    heat_base: float,
    last_active_day: date | None,
    latest_nps: int | None,
    frequency: int,
    reach: int,
    decile: int | None,
    counts: dict[tuple[str, str], int],
) -> dict[str, Any]:
    """Every score column of one member (all but ``ambassador_status``), and ``detection``."""
    contribution = int(facts.lifetime_points or 0)
    days_since = None if last_active_day is None else (today - last_active_day).days
    r_score = metrics.recency_score(days_since)
    f_score = metrics.frequency_score(frequency)
    m_score = metrics.monetary_score(contribution)
    joined = (today - clock.community_day(facts.created_at)).days
    silenced = facts.silenced_until is not None and facts.silenced_until > now
    suspended = facts.suspended_until is not None and facts.suspended_until > now
    detection, explanation = ambassadors.assess(
        Facts(
            decile=decile,
            engagement=metrics.engagement(heat_base, today, criteria.monthly_decay),
            last_active_day=last_active_day,
            reach=reach,
            latest_nps=latest_nps,
            silenced=silenced,
            suspended=suspended,
        ),
        criteria,
        today,
    )
    return {
        "heat_base": heat_base,
        "last_active_day": last_active_day,
        "latest_nps": latest_nps,
        "frequency": frequency,
        "reach": reach,
        "decile": decile,
        "contribution": contribution,
        "r_score": r_score,
        "f_score": f_score,
        "m_score": m_score,
        "rfm_group": metrics.rfm_group(r_score, f_score, m_score, joined_days_ago=joined),
        "advocate_type": advocates.advocate_type(counts) if counts else "",
        "detection": detection,
        "explanation": explanation,
        "updated_at": now,
    }


@dataclass
class _Aggregate:
    heat: float = 0.0
    last_active: date | None = None
    frequency: int = 0


async def _aggregates(
    session: AsyncSession, criteria: Criteria, since: date
) -> dict[int, _Aggregate]:
    """Per member, from the daily rollups in one ``GROUP BY``: engagement at the epoch (each
    day's weighted counts times that day's decay factor, read from a small temporary table of
    factors), the last active day and active days since ``since``."""
    weights = criteria.weights
    done_weight = case(
        *((Daily.verb == verb, value) for verb, value in weights.items() if ":" not in verb),
        else_=0.0,
    )
    received_weight = case(
        *(
            (Daily.verb == key.split(":", 1)[0], value)
            for key, value in weights.items()
            if key.endswith(":received")
        ),
        else_=0.0,
    )
    days = list((await session.execute(select(Daily.day).distinct())).scalars())
    factors = Table(
        "tmp_heat_factors",
        MetaData(),
        Column("day", Date, primary_key=True),
        Column("factor", Float, nullable=False),
        prefixes=["TEMPORARY"],
    )
    connection = await session.connection()
    await connection.run_sync(lambda sync: factors.create(sync, checkfirst=False))
    try:
        if days:
            await session.execute(
                factors.insert(),
                [
                    {"day": day, "factor": metrics.heat_increment(1.0, day, criteria.monthly_decay)}
                    for day in days
                ],
            )
        active_day = case((Daily.done > 0, Daily.day))
        # No DISTINCT here, so that the database can hash-aggregate one pass over the table.
        rows = await session.execute(
            select(
                Daily.member_id,
                func.sum(
                    (done_weight * Daily.done + received_weight * Daily.received) * factors.c.factor
                ),
                func.max(active_day),
            )
            .join(factors, factors.c.day == Daily.day)
            .group_by(Daily.member_id)
        )
        result = {
            member_id: _Aggregate(float(heat or 0.0), last_active)
            for member_id, heat, last_active in rows.all()
        }
        # Active days of the recent window only (the index on day, member_id serves it).
        for member_id, frequency in (
            await session.execute(
                select(Daily.member_id, func.count(distinct(Daily.day)))
                .where(Daily.day >= since, Daily.done > 0)
                .group_by(Daily.member_id)
            )
        ).all():
            result.setdefault(member_id, _Aggregate()).frequency = int(frequency)
    finally:
        await connection.run_sync(lambda sync: factors.drop(sync, checkfirst=False))
    return result


async def recompute_all(session: AsyncSession, today: date | None = None) -> int:
    """Rebuild every member's scores from the rollups; returns how many members were scored.

    The aggregates come from SQL (one ``GROUP BY`` per source), the scores are written with
    one executemany ``UPDATE`` (and ``INSERT`` for members without a row yet); only members
    whose ambassador flag changes go through the ORM (history row, activity).
    """
    today = today or clock.community_day()
    now = clock.now()
    criteria = await ambassadors.load_criteria(session)
    members = [
        MemberFacts(*row)
        for row in (
            await session.execute(
                select(*_FACT_COLUMNS)
                .where(Member.role.in_(policy.POPULATION_ROLES))
                .order_by(Member.id)
            )
        ).all()
    ]
    statuses: dict[int, str] = dict(
        (await session.execute(select(Score.member_id, Score.ambassador_status))).all()
    )
    since = today - timedelta(days=policy.REACH_DAYS)
    aggregates = await _aggregates(session, criteria, since)
    reach = dict(
        (
            await session.execute(
                select(AnalyticsTouch.member_id, func.count())
                .where(AnalyticsTouch.last_day >= since)
                .group_by(AnalyticsTouch.member_id)
            )
        ).all()
    )
    latest_nps: dict[int, int] = {}
    for member_id, value in (
        await session.execute(
            select(NpsResponse.member_id, NpsResponse.score).order_by(
                NpsResponse.created_at, NpsResponse.id
            )
        )
    ).all():
        latest_nps[member_id] = value
    empty = _Aggregate()
    groups = metrics.deciles(
        {member.member_id: aggregates.get(member.member_id, empty).heat for member in members}
    )
    counts = await _signal_counts(session, today)
    updates: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    changed: list[tuple[int, str]] = []
    for member in members:
        aggregate = aggregates.get(member.member_id, empty)
        values = _scores(
            member,
            criteria,
            today,
            now,
            heat_base=aggregate.heat,
            last_active_day=aggregate.last_active,
            latest_nps=latest_nps.get(member.member_id),
            frequency=aggregate.frequency,
            reach=int(reach.get(member.member_id, 0)),
            decile=groups.get(member.member_id),
            counts=counts.get(member.member_id, {}),
        )
        values["dirty"] = False
        status = statuses.get(member.member_id)
        if status is None:
            inserts.append({"member_id": member.member_id, **values})
            status = ""
        else:
            updates.append({"b_member_id": member.member_id, **values})
        detection = values["detection"]
        if (detection == ambassadors.AMBASSADOR and status == "") or (
            detection != ambassadors.AMBASSADOR and status == ambassadors.FLAGGED
        ):
            changed.append((member.member_id, detection))
    table = cast(Table, Score.__table__)
    if updates:
        statement = (
            update(table)
            .where(table.c.member_id == bindparam("b_member_id"))
            .values({key: bindparam(key) for key in updates[0] if key != "b_member_id"})
        )
        for start in range(0, len(updates), BULK_ROWS):
            await session.execute(statement, updates[start : start + BULK_ROWS])
    for start in range(0, len(inserts), BULK_ROWS):
        await session.execute(insert(session, Score), inserts[start : start + BULK_ROWS])
    await _follow_changes(session, changed)
    return len(members)


class SettingsIn(BaseModel):
    top_deciles: int = Field(ge=1, le=10)
    active_days: int = Field(ge=1, le=365)
    min_reach: int = Field(ge=0, le=100000)
    exclude_detractors: bool = False
    badge_enabled: bool = False
    badge_label: str = Field(default="", max_length=40)
    monthly_decay_percent: float = Field(ge=0, le=90)
    weights: dict[str, float] = Field(default_factory=dict)


async def update_settings(session: AsyncSession, admin: Member, data: SettingsIn) -> None:
    policy.check_edit_settings(admin)
    row = await session.get(AnalyticsSettings, 1)
    if row is None:
        row = AnalyticsSettings(id=1)
        session.add(row)
    row.top_deciles = data.top_deciles
    row.active_days = data.active_days
    row.min_reach = data.min_reach
    row.exclude_detractors = data.exclude_detractors
    row.badge_enabled = data.badge_enabled
    row.badge_label = data.badge_label.strip()
    row.monthly_decay = data.monthly_decay_percent / 100
    row.weights = {
        key: value
        for key, value in data.weights.items()
        if key in policy.DEFAULT_WEIGHTS and value != policy.DEFAULT_WEIGHTS[key]
    }
    row.updated_at = clock.now()
    row.updated_by_id = admin.id
    await session.flush()
    ambassadors.forget_criteria(session)
    criteria = await ambassadors.load_criteria(session)
    # New weights, decay or thresholds apply to everyone at once.
    await recompute_all(session)
    confirmed = select(Score.member_id).where(Score.ambassador_status == ambassadors.CONFIRMED)
    await session.execute(
        update(Member)
        .where(Member.id.in_(confirmed))
        .values(ambassador_badge=criteria.badge_value)
        .execution_options(synchronize_session=False)
    )
