"""Reads for points pages and the API. Every list is keyset-paginated over an index."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    String,
    and_,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.activity import verbs
from app.kit import clock
from app.kit.errors import Invalid, NotFound
from app.kit.i18n import gettext as _
from app.kit.sql import read_prebuilt
from app.models import (
    Activity,
    Member,
    PointKindTotal,
    PointLedgerEntry,
    PointPeriodTotal,
    PointRule,
    Role,
    Upload,
)
from app.models.base import INT32_RANGE, INT64_RANGE
from app.models.upload import upload_url
from app.points import policy
from app.points.ladder import Ladder, RankView, load_ladder
from app.points.service import PERIODS, period_start
from app.uploads.avatars import avatar_url

LEDGER_PAGE = 30
BOARD_PAGE = 25


@dataclass(frozen=True)
class Standing:
    """A member's points and where they stand on the ladder."""

    lifetime: int
    spendable: int
    rank: RankView | None
    next_rank: RankView | None

    @property
    def to_next(self) -> int | None:
        return None if self.next_rank is None else self.next_rank.threshold - self.lifetime

    @property
    def progress_max(self) -> int:
        if self.next_rank is None:
            return 1
        floor = self.rank.threshold if self.rank else 0
        return max(1, self.next_rank.threshold - floor)

    @property
    def progress_value(self) -> int:
        if self.next_rank is None:
            return 1
        floor = self.rank.threshold if self.rank else 0
        return min(self.progress_max, max(0, self.lifetime - floor))


def standing(member: Member, ladder: Ladder) -> Standing:
    return Standing(
        lifetime=member.lifetime_points,
        spendable=member.spendable_points,
        rank=ladder.of_member(member),
        next_rank=ladder.next_after(member.lifetime_points),
    )


async def visible_member(session: AsyncSession, handle: str) -> Member:
    member = (
        await session.execute(select(Member).where(Member.handle == handle.lower()))
    ).scalar_one_or_none()
    if member is None or member.email_verified_at is None:
        raise NotFound()
    return member


# --- ledger ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerRow:
    entry: PointLedgerEntry

    @property
    def reason(self) -> str:
        entry = self.entry
        side = entry.rule.rsplit("/", 1)[-1] if "/" in entry.rule else ""
        label = policy.kind_label(entry.kind, side)
        if entry.reversal and entry.kind in policy.REVERSAL_LABELS:
            label = policy.kind_label(entry.kind, side, reversal=True)
        elif entry.reversal:
            label = _("Taken back: %(reason)s", reason=label)
        if entry.note:
            label = f"{label} — {entry.note}"
        return label


async def ledger_page(
    session: AsyncSession, member_id: int, *, before: int | None, limit: int = LEDGER_PAGE
) -> tuple[list[LedgerRow], int | None]:
    """Newest first, served by the (member_id, id) index."""
    query = (
        select(PointLedgerEntry)
        .where(PointLedgerEntry.member_id == member_id)
        .order_by(PointLedgerEntry.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(PointLedgerEntry.id < before)
    rows = list((await session.execute(query)).scalars().all())
    more = len(rows) > limit
    rows = rows[:limit]
    return [LedgerRow(row) for row in rows], (rows[-1].id if more and rows else None)


# --- profile figures ------------------------------------------------------------------------

# Built once and run with parameters straight on the driver (app.kit.sql.read_prebuilt): the
# ORM's execution took more of the page than the statement itself. The bound parameters take
# their columns' types.
_totals = PointPeriodTotal.__table__.c
_activities = Activity.__table__.c
_kinds = PointKindTotal.__table__.c
_WEEKLY_WHERE = (
    _totals.member_id == bindparam("member_id"),
    _totals.period == "week",
    _totals.start >= bindparam("first"),
)
_DAYS_WHERE = (
    _activities.actor_id == bindparam("member_id"),
    _activities.occurred_at >= bindparam("since"),
    _activities.verb != verbs.RANK_REACHED,
)
_KINDS_WHERE = (_kinds.member_id == bindparam("member_id"), _kinds.points != 0)
# The three figures in one round trip: (part, day, kind, number) rows.
_PROFILE_FIGURES = union_all(
    select(literal_column("'week'"), _totals.start, cast(null(), String), _totals.points).where(
        *_WEEKLY_WHERE
    ),
    select(literal_column("'day'"), _activities.day, cast(null(), String), func.count())
    .where(*_DAYS_WHERE)
    .group_by(_activities.day),
    select(literal_column("'kind'"), cast(null(), Date), _kinds.kind, _kinds.points).where(
        *_KINDS_WHERE
    ),
)


def _profile_figures(_insert: Any) -> Any:
    return _PROFILE_FIGURES


def _first_week(weeks: int) -> date:
    return period_start("week", clock.community_day()) - timedelta(weeks=weeks - 1)


def _since(days: int) -> datetime:
    return clock.now() - timedelta(days=days + 1)


def _week_list(first: date, weeks: int, rows: dict[date, Any]) -> list[tuple[date, int]]:
    return [
        (first + timedelta(weeks=index), int(rows.get(first + timedelta(weeks=index), 0)))
        for index in range(weeks)
    ]


def _kind_totals(rows: Iterable[tuple[str, Any]]) -> list[tuple[str, int]]:
    totals = [(policy.kind_label(kind), int(points)) for kind, points in rows if points]
    return sorted(totals, key=lambda item: (-item[1], item[0]))


@dataclass(frozen=True)
class ProfileFigures:
    weeks: list[tuple[date, int]]
    days: dict[date, int]
    breakdown: list[tuple[str, int]]


async def profile_figures(
    session: AsyncSession, member_id: int, *, weeks: int = 12, days: int = 365
) -> ProfileFigures:
    """A member's profile figures, read in one statement: points per week for the last
    ``weeks`` weeks (oldest first, from the period totals); activities per community day over
    the last ``days`` days (rank-ups excluded: not the member's doing; an index-only scan of
    (actor_id, occurred_at, verb, day), a year of the member's activities at most); lifetime
    points by kind, largest first (reversals net out), from the totals kept per kind."""
    first = _first_week(weeks)
    params = {"member_id": member_id, "first": first, "since": _since(days)}
    week_rows: dict[date, Any] = {}
    day_counts: dict[date, int] = {}
    kind_rows: list[tuple[str, Any]] = []
    rows = await read_prebuilt(session, "points.profile_figures", _profile_figures, params)
    for part, day, kind, number in rows:
        if part == "week":
            week_rows[day] = number
        elif part == "day":
            day_counts[day] = int(number)
        else:
            kind_rows.append((kind, number))
    return ProfileFigures(
        weeks=_week_list(first, weeks, week_rows),
        days=day_counts,
        breakdown=_kind_totals(kind_rows),
    )


# --- leaderboards ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardMember:
    """What a leaderboard shows of a member (``member_link``'s name, role, rank and
    ambassador badges, and the avatar), read as columns rather than loaded as a member and
    an upload: loading them was half of the page's time."""

    id: int
    handle: str
    display_name: str
    role: str
    rank_id: int | None
    lifetime_points: int
    ambassador_badge: str
    avatar_url: str | None

    @classmethod
    def of(cls, member: Member) -> BoardMember:
        return cls(
            member.id,
            member.handle,
            member.display_name,
            member.role,
            member.rank_id,
            member.lifetime_points,
            member.ambassador_badge,
            avatar_url(member),
        )


@dataclass(frozen=True)
class BoardRow:
    position: int
    member: BoardMember
    points: int


@dataclass(frozen=True)
class Board:
    period: str
    start: date
    rows: list[BoardRow]
    next_after: str | None
    me: BoardRow | None


# A page link's points are a period total (a 32-bit integer in the database) and its member an
# id (64 bits): PostgreSQL refuses to bind anything larger, and no link of ours holds it.
_ID_RANGE = range(1, INT64_RANGE.stop)


def parse_cursor(value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    points, _sep, member_id = value.partition(":")
    try:
        cursor = int(points), int(member_id)
    except ValueError:
        cursor = None
    if cursor is None or cursor[0] not in INT32_RANGE or cursor[1] not in _ID_RANGE:
        raise Invalid(_("This page link is not valid."), field="after")
    return cursor


_BOARD_MEMBER_COLUMNS = (
    Member.id,
    Member.handle,
    Member.display_name,
    Member.role,
    Member.rank_id,
    Member.lifetime_points,
    Member.ambassador_badge,
    Upload.storage_name,
)


def _on_board(query: Any, exclude_staff: bool) -> Any:
    """``query`` over a period's board (parameters ``p_period`` and ``p_start``): the members
    with points in it and a verified address, the staff left out if asked."""
    query = query.join(Member, Member.id == PointPeriodTotal.member_id).where(
        PointPeriodTotal.period == bindparam("p_period"),
        PointPeriodTotal.start == bindparam("p_start", type_=Date),
        PointPeriodTotal.points > 0,
        Member.email_verified_at.is_not(None),
    )
    return query.where(Member.role == Role.member.value) if exclude_staff else query


def _board_page(exclude_staff: bool, after: bool) -> Callable[[Any], Any]:
    def build(_insert: Any) -> Any:
        query = _on_board(
            select(PointPeriodTotal.points, *_BOARD_MEMBER_COLUMNS), exclude_staff
        ).outerjoin(Upload, Upload.id == Member.avatar_upload_id)
        if after:  # after (p_points, p_member): fewer points, or as many and a later member
            query = query.where(
                or_(
                    PointPeriodTotal.points < bindparam("p_points"),
                    and_(
                        PointPeriodTotal.points == bindparam("p_points"),
                        PointPeriodTotal.member_id > bindparam("p_member"),
                    ),
                )
            )
        return query.order_by(PointPeriodTotal.points.desc(), PointPeriodTotal.member_id).limit(
            bindparam("p_limit", type_=Integer)
        )

    return build


def _board_ahead(exclude_staff: bool) -> Callable[[Any], Any]:
    def build(_insert: Any) -> Any:
        # Before (p_points, p_member): more points, or as many and an earlier member.
        return _on_board(select(func.count()).select_from(PointPeriodTotal), exclude_staff).where(
            or_(
                PointPeriodTotal.points > bindparam("p_points"),
                and_(
                    PointPeriodTotal.points == bindparam("p_points"),
                    PointPeriodTotal.member_id < bindparam("p_member"),
                ),
            )
        )

    return build


def _board_points(_insert: Any) -> Any:
    return select(PointPeriodTotal.points).where(
        PointPeriodTotal.period == bindparam("p_period"),
        PointPeriodTotal.start == bindparam("p_start", type_=Date),
        PointPeriodTotal.member_id == bindparam("p_member"),
    )


def _board_member(row: tuple[Any, ...]) -> BoardMember:
    """The member of a board row (its points, then :data:`_BOARD_MEMBER_COLUMNS`)."""
    _points, member_id, handle, display_name, role, rank_id, lifetime, badge, storage = row
    avatar = None if storage is None else upload_url(storage)
    return BoardMember(member_id, handle, display_name, role, rank_id, lifetime, badge, avatar)


async def _position(
    session: AsyncSession, board: dict[str, Any], exclude_staff: bool, points: int, member_id: int
) -> int:
    """1 + how many rows come before (points, member_id) in board order."""
    [(count,)] = await read_prebuilt(
        session,
        ("points.board_ahead", exclude_staff),
        _board_ahead(exclude_staff),
        {**board, "p_points": points, "p_member": member_id},
    )
    return int(count) + 1


async def leaderboard(
    session: AsyncSession,
    period: str,
    *,
    exclude_staff: bool,
    after: str | None,
    viewer: Member | None,
    limit: int = BOARD_PAGE,
) -> Board:
    """A page of a period's board, most points first, and the viewer's own row: each read
    by a statement built once (app.kit.sql.read_prebuilt)."""
    if period not in PERIODS:
        raise Invalid(_("Choose all time, this month or this week."), field="period")
    start = period_start(period, clock.community_day())
    cursor = parse_cursor(after)
    board: dict[str, Any] = {"p_period": period, "p_start": start}
    params: dict[str, Any] = {**board, "p_limit": limit + 1}
    if cursor is not None:
        params["p_points"], params["p_member"] = cursor
    found = await read_prebuilt(
        session,
        ("points.board", exclude_staff, cursor is not None),
        _board_page(exclude_staff, cursor is not None),
        params,
    )
    more = len(found) > limit
    found = found[:limit]
    first_position = 1
    if cursor is not None and found:
        first_position = await _position(
            session, board, exclude_staff, int(found[0][0]), int(found[0][1])
        )
    rows = [
        BoardRow(position=first_position + index, member=_board_member(row), points=int(row[0]))
        for index, row in enumerate(found)
    ]
    next_after = f"{rows[-1].points}:{rows[-1].member.id}" if more and rows else None
    me = None
    if viewer is not None and not (exclude_staff and viewer.is_staff):
        me = next((row for row in rows if row.member.id == viewer.id), None)
        if me is None:
            mine = await read_prebuilt(
                session, "points.board_points", _board_points, {**board, "p_member": viewer.id}
            )
            if mine and mine[0][0] > 0:
                points = int(mine[0][0])
                position = await _position(session, board, exclude_staff, points, viewer.id)
                me = BoardRow(position=position, member=BoardMember.of(viewer), points=points)
    return Board(period=period, start=start, rows=rows, next_after=next_after, me=me)


# --- rules ------------------------------------------------------------------------------------


async def rules(session: AsyncSession, *, enabled_only: bool = False) -> list[PointRule]:
    query = select(PointRule).order_by(PointRule.position, PointRule.id)
    if enabled_only:
        # What pays: a rule left over for a verb that can never pay is not shown as paying.
        query = query.where(
            PointRule.enabled.is_(True), PointRule.verb.not_in(sorted(policy.UNPAYABLE))
        )
    return list((await session.execute(query)).scalars().all())


async def ladder(session: AsyncSession) -> Ladder:
    return await load_ladder(session)
