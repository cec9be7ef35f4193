"""Active members (DAU / WAU / MAU and "active members" over a range) from two small rollups.

A member is active on a community day when they did anything that day (a ``done`` count in
``analytics_member_daily``). Two tables summarise who was active when, without one row per
member and day (see the models for the exact definitions):

- ``analytics_active``: per day, members active that day and how many 7-day and 30-day windows
  close that day; running sums give WAU and MAU of any day;
- ``analytics_active_returns``: per day, members active that day by their previous active day;
  the distinct members of a range are those whose previous active day is before it.

Both count every role. The dashboard's population is members only, so readers subtract the
staff's own activity (a handful of people, read per member). Both are kept exactly as activities
arrive (:func:`mark_active`, on a member's first activity of a day, including activities
recorded for an earlier day), rebuilt by :func:`rebuild` with one ``INSERT ... SELECT`` each, and
written the same way by ``kizuna bench-data`` (:func:`fold`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, bindparam, case, func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics import community, metrics, policy
from app.kit.sql import dialect_name, run_prebuilt
from app.models import AnalyticsActive, AnalyticsActiveReturn, AnalyticsMemberDaily, Member
from app.models.analytics_active import NO_PREVIOUS_DAY, RETURN_LOOKBACK_DAYS
from app.models.base import BigIntId

Daily = AnalyticsMemberDaily
WEEK, MONTH = 7, 30
# The namespace of the per-member advisory lock on PostgreSQL ("KZ").
LOCK_NAMESPACE = 0x4B5A


def window_end(day: date, window: int, following: date | None) -> date:
    """The day a member active on ``day`` leaves the ``window``-day count, given their next
    active day: ``min(day + window, following)``."""
    end = day + timedelta(days=window)
    return end if following is None or following > end else following


def return_key(day: date, previous: date | None) -> date:
    if previous is None or (day - previous).days > RETURN_LOOKBACK_DAYS:
        return NO_PREVIOUS_DAY
    return previous


@dataclass
class Folded:
    """The two rollups' rows: day -> [members, week_ends, month_ends] and
    (day, previous_day) -> members."""

    active: dict[date, list[int]]
    returns: dict[tuple[date, date], int]


def fold(member_days: Iterable[tuple[int, date]]) -> Folded:
    """Both rollups from every (member, active day), for bench-data and the tests. The pairs
    must be distinct and sorted by member, then day."""
    active: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0])
    returns: dict[tuple[date, date], int] = defaultdict(int)
    last_member: int | None = None
    days: list[date] = []

    def flush() -> None:
        for index, day in enumerate(days):
            previous = days[index - 1] if index else None
            following = days[index + 1] if index + 1 < len(days) else None
            active[day][0] += 1
            active[window_end(day, WEEK, following)][1] += 1
            active[window_end(day, MONTH, following)][2] += 1
            returns[(day, return_key(day, previous))] += 1

    for member_id, day in member_days:
        if member_id != last_member:
            flush()
            last_member, days = member_id, []
        days.append(day)
    flush()
    return Folded(dict(active), dict(returns))


# --- write path ---------------------------------------------------------------------------------


async def mark_active(session: AsyncSession, member_id: int, day: date, verb: str) -> None:
    """Called when ``member_id`` did ``verb`` for the first time on ``day``: if it is their
    first activity of that day at all, count them in, and move the windows of their previous
    active day (which now ends no later than this one)."""
    if dialect_name(session) == "postgresql":
        # Two first activities of one member at once (two verbs, or two days) must not both
        # count: the second waits here and then sees the first one's rows.
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:namespace, :key)"),
            {"namespace": LOCK_NAMESPACE, "key": member_id & 0x7FFFFFFF},
        )
    other, previous, following = (
        await run_prebuilt(
            session,
            "active.neighbours",
            _neighbours_query,
            {"p_member": member_id, "p_day": day, "p_verb": verb},
        )
    ).one()
    if other:
        return
    changes: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0])
    changes[day][0] += 1
    for slot, window in ((1, WEEK), (2, MONTH)):
        changes[window_end(day, window, following)][slot] += 1
        if previous is not None:
            before = window_end(previous, window, following)
            after = window_end(previous, window, day)
            if before != after:
                changes[before][slot] -= 1
                changes[after][slot] += 1
    _add_active(session, changes)
    moves: dict[tuple[date, date], int] = defaultdict(int)
    moves[(day, return_key(day, previous))] += 1
    if following is not None:
        moves[(following, return_key(following, previous))] -= 1
        moves[(following, return_key(following, day))] += 1
    _add_returns(session, moves)


def _neighbours_query(_insert: Any) -> Any:
    # Another verb already done that day, the member's active day before this one and the one
    # after: three seeks in the (member, day, verb, done) index. One pass over all the
    # member's days read 2,458 rows for the busiest member of the 10% benchmark (3.4 ms).
    table = Daily.__table__
    member = table.c.member_id == bindparam("p_member", type_=BigIntId)
    day = bindparam("p_day", type_=Date)
    done = table.c.done > 0
    other = (
        select(func.count())
        .where(member, table.c.day == day, table.c.verb != bindparam("p_verb"), done)
        .scalar_subquery()
    )
    previous = (
        select(table.c.day)
        .where(member, table.c.day < day, done)
        .order_by(table.c.day.desc())
        .limit(1)
        .scalar_subquery()
    )
    following = (
        select(table.c.day)
        .where(member, table.c.day > day, done)
        .order_by(table.c.day)
        .limit(1)
        .scalar_subquery()
    )
    return select(other, previous, following)


def _add_active(session: AsyncSession, changes: dict[date, list[int]]) -> None:
    kept = community.tally(session).active
    for day, (members, week_ends, month_ends) in changes.items():
        kept[day][0] += members
        kept[day][1] += week_ends
        kept[day][2] += month_ends


def _add_returns(session: AsyncSession, moves: dict[tuple[date, date], int]) -> None:
    community.tally(session).returns.update(moves)


# --- rebuild ------------------------------------------------------------------------------------


def _plus(dialect: str, column: str, days: int) -> str:
    if dialect == "postgresql":
        return f"({column} + {days})"
    return f"date({column}, '{days:+d} days')"


def rebuild_statements(dialect: str) -> list[str]:
    """SQL that refills both rollups from ``analytics_member_daily`` (after emptying them)."""
    least = "LEAST" if dialect == "postgresql" else "MIN"
    iso = NO_PREVIOUS_DAY.isoformat()
    none = f"DATE '{iso}'" if dialect == "postgresql" else f"'{iso}'"
    linked = (
        "WITH active AS (SELECT member_id, day FROM analytics_member_daily WHERE done > 0 "
        "GROUP BY member_id, day), "
        "linked AS (SELECT day, LAG(day) OVER w AS previous_day, LEAD(day) OVER w AS next_day "
        "FROM active WINDOW w AS (PARTITION BY member_id ORDER BY day)) "
    )

    def end(window: int) -> str:
        plus = _plus(dialect, "day", window)
        return f"{least}({plus}, COALESCE(next_day, {plus}))"

    active = (
        linked + ", events AS ("
        "SELECT day, 1 AS members, 0 AS week_ends, 0 AS month_ends FROM linked "
        f"UNION ALL SELECT {end(WEEK)}, 0, 1, 0 FROM linked "
        f"UNION ALL SELECT {end(MONTH)}, 0, 0, 1 FROM linked) "
        "INSERT INTO analytics_active (day, members, week_ends, month_ends) "
        "SELECT day, SUM(members), SUM(week_ends), SUM(month_ends) FROM events GROUP BY day"
    )
    cutoff = _plus(dialect, "day", -RETURN_LOOKBACK_DAYS)
    returns = (
        linked + ", keyed AS (SELECT day, CASE WHEN previous_day IS NULL "
        f"OR previous_day < {cutoff} THEN {none} ELSE previous_day END AS previous_day "
        "FROM linked) "
        "INSERT INTO analytics_active_returns (day, previous_day, members) "
        "SELECT day, previous_day, COUNT(*) FROM keyed GROUP BY day, previous_day"
    )
    return [
        "DELETE FROM analytics_active",
        "DELETE FROM analytics_active_returns",
        active,
        returns,
    ]


async def rebuild(session: AsyncSession) -> None:
    for statement in rebuild_statements(dialect_name(session)):
        await session.execute(text(statement))


# --- read path ----------------------------------------------------------------------------------


@dataclass
class Active:
    """DAU / WAU / MAU of each day of a span for the members of the analytics population, and
    the staff's own active days (to take out of other counts)."""

    counts: dict[date, metrics.ActiveCounts]
    staff_pairs: list[tuple[int, date]]

    def series(self, first: date, last: date) -> list[metrics.ActiveCounts]:
        return [self.counts[first + timedelta(days=i)] for i in range((last - first).days + 1)]

    async def distinct(self, session: AsyncSession, first: date, last: date) -> int:
        """Members active at least once from ``first`` to ``last`` (at most 366 days)."""
        if (last - first).days >= RETURN_LOOKBACK_DAYS:
            raise ValueError("a range of at most 366 days")
        total = await session.scalar(
            select(func.coalesce(func.sum(AnalyticsActiveReturn.members), 0)).where(
                AnalyticsActiveReturn.day.between(first, last),
                AnalyticsActiveReturn.previous_day < first,
            )
        )
        staff = {member for member, day in self.staff_pairs if first <= day <= last}
        return int(total or 0) - len(staff)


async def staff_active_pairs(
    session: AsyncSession, first: date, last: date
) -> list[tuple[int, date]]:
    """(member, day) for each day a member outside the population (staff) was active."""
    staff = select(Member.id).where(Member.role.not_in(policy.POPULATION_ROLES))
    rows = await session.execute(
        select(Daily.member_id, Daily.day)
        .distinct()
        .where(Daily.member_id.in_(staff), Daily.day.between(first, last), Daily.done > 0)
    )
    return [(member_id, day) for member_id, day in rows.all()]


def period_of(column: Any, starts: Sequence[Any]) -> Any:
    """SQL for the index of the period a value falls in: ``i`` from ``starts[i]`` up to the
    next start (the last period has no end), -1 before the first. A binary search of nested
    ``CASE``s, so a row of a year's weeks costs six comparisons, not fifty-three."""

    def search(low: int, high: int) -> Any:
        # The index is in low..high; starts[low] <= value (or low == -1), value < starts[high + 1].
        if low == high:
            return literal_column(str(low))
        middle = (low + high + 1) // 2
        return case((column < starts[middle], search(low, middle - 1)), else_=search(middle, high))

    return search(-1, len(starts) - 1)


async def returning(
    session: AsyncSession, periods: Sequence[date], last: date
) -> tuple[list[int], list[int]]:
    """For consecutive periods (their first days; the last one ends on ``last``): how many
    members of the population were active in each, and how many of those had been active in
    the one before. Read from ``analytics_active_returns``, at most a few rows per period pair
    whatever the community's size: a member's first active day in a period is the row whose
    previous day is before it, and they were active in the period before exactly when that
    previous day falls in it."""
    returns = AnalyticsActiveReturn
    keyed = (
        select(
            period_of(returns.day, periods).label("slot"),
            period_of(returns.previous_day, periods).label("previous"),
            returns.members,
        )
        .where(returns.day.between(periods[0], last))
        .subquery()
    )
    rows = await session.execute(
        select(keyed.c.slot, keyed.c.previous, func.sum(keyed.c.members))
        .where(keyed.c.previous < keyed.c.slot)
        .group_by(keyed.c.slot, keyed.c.previous)
    )
    active = [0] * len(periods)
    again = [0] * len(periods)
    for slot, previous, members in rows.all():
        active[slot] += int(members)
        if previous == slot - 1:
            again[slot] += int(members)
    # The rollup counts every role: take the staff's own active periods out.
    staff: list[set[int]] = [set() for _ in periods]
    for member_id, day in await staff_active_pairs(session, periods[0], last):
        staff[bisect_right(periods, day) - 1].add(member_id)
    for slot, members in enumerate(staff):
        active[slot] -= len(members)
        if slot:
            again[slot] -= len(members & staff[slot - 1])
    return active, again


async def load(session: AsyncSession, first: date, last: date) -> Active:
    """Everything needed for DAU/WAU/MAU of the days ``first``..``last`` and for distinct
    active members of ranges inside them."""
    staff_pairs = await staff_active_pairs(session, first - timedelta(days=MONTH - 1), last)
    staff = {c.day: c for c in metrics.active_counts(staff_pairs, first, last)}
    rows = await session.execute(
        select(
            AnalyticsActive.day,
            AnalyticsActive.members,
            AnalyticsActive.week_ends,
            AnalyticsActive.month_ends,
        )
        .where(AnalyticsActive.day <= last)
        .order_by(AnalyticsActive.day)
    )
    started = week_ended = month_ended = 0
    running = (0, 0)  # (WAU, MAU) as of the last row read
    members_of: dict[date, int] = {}
    totals: dict[date, tuple[int, int]] = {}
    for day, members, week_ends, month_ends in rows.all():
        started += members
        week_ended += week_ends
        month_ended += month_ends
        if day < first:
            running = (started - week_ended, started - month_ended)
        else:
            members_of[day] = members
            totals[day] = (started - week_ended, started - month_ended)
    counts: dict[date, metrics.ActiveCounts] = {}
    day = first
    while day <= last:
        running = totals.get(day, running)
        mine = staff[day]
        counts[day] = metrics.ActiveCounts(
            day,
            members_of.get(day, 0) - mine.dau,
            running[0] - mine.wau,
            running[1] - mine.mau,
        )
        day += timedelta(days=1)
    return Active(counts, staff_pairs)
