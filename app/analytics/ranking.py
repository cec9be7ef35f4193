"""The engagement ranking of the analytics population, read along its index.

Members rank by ``heat_base`` (engagement), highest first, ties by member id (older members
first), as :func:`app.analytics.metrics.deciles` orders them. The index
``ix_analytics_member_scores_ranking`` holds the score rows in exactly that order, so the
member at a given place is found by stepping along it from the place found before, and no
ranking of the whole population is ever sorted: the nine members where deciles 2..10 start,
at 100,000 members, cost a walk of the index once (about 5 ms on SQLite) rather than a sort
of every member (about 150 ms).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics import policy
from app.models import AnalyticsMemberScore as Score
from app.models import Member


def outside_population() -> Any:
    """The ids of the members outside the analytics population (staff: a handful)."""
    return select(Member.id).where(Member.role.in_(policy.STAFF_ROLES))


def in_population(member_id: Any) -> Any:
    """``member_id`` belongs to the analytics population. Naming the few members outside it
    spares a lookup of every member's row: a member's row exists for each of its scores and
    daily rows (their foreign keys), so this is the same as joining the members by role."""
    return member_id.not_in(outside_population())


async def population(session: AsyncSession) -> int:
    """How many members the analytics population holds: everybody less the staff (a count
    of the members' smallest index, and a handful of the role's)."""
    members = await session.scalar(select(func.count()).select_from(Member))
    staff = await session.scalar(select(func.count()).select_from(outside_population().subquery()))
    return int(members or 0) - int(staff or 0)


async def population_rows(session: AsyncSession) -> Any:
    """The clause that keeps the population's score rows. Reading an index's entries alone is
    some 50 times faster than testing each one's member against the staff, so the test is
    made only when some staff member has scores (one who had them before joining the staff)."""
    outside = await session.scalar(
        select(func.count()).select_from(Score).where(Score.member_id.in_(outside_population()))
    )
    return in_population(Score.member_id) if outside else true()


async def scored_members(session: AsyncSession, rows: Any) -> int:
    """How many members of the population have a score row (``rows``: :func:`population_rows`;
    with no staff rows to leave out, a count of the table's smallest index)."""
    return int(await session.scalar(select(func.count()).select_from(Score).where(rows)) or 0)


async def members_at(
    session: AsyncSession, positions: Iterable[int], rows: Any
) -> dict[int, tuple[float, int]]:
    """The ``(heat_base, member_id)`` at each 0-based position of the ranking of the
    population's score rows (``rows``: :func:`population_rows`); positions past its end are
    left out."""
    found: dict[int, tuple[float, int]] = {}
    previous: tuple[float, int] | None = None
    at = -1  # the position of ``previous``
    for position in sorted(set(positions)):
        if position < 0:
            continue
        stmt = select(Score.heat_base, Score.member_id).where(rows)
        if previous is not None:
            # Ranked after the member found last: less engaged, or as engaged and newer.
            heat, member_id = previous
            stmt = stmt.where(
                Score.heat_base <= heat,
                or_(Score.heat_base < heat, Score.member_id > member_id),
            )
        row = (
            await session.execute(
                stmt.order_by(Score.heat_base.desc(), Score.member_id)
                .offset(position - at - 1)
                .limit(1)
            )
        ).first()
        if row is None:
            break
        previous, at = (float(row[0]), int(row[1])), position
        found[position] = previous
    return found
