"""Reads for the operator pages and API. The dashboard reads rollups and small score tables,
never the activity log (the member page's timeline is the one place that lists activities, for
one member, through an index)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, exists, func, literal_column, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app import models
from app.activity import verbs
from app.analytics import active, advocates, ambassadors, metrics, policy, ranking, segments
from app.config import get_settings
from app.kit import clock
from app.kit.errors import Invalid, NotFound
from app.kit.i18n import gettext as _
from app.models import (
    Activity,
    AmbassadorStatusChange,
    AnalyticsDaily,
    AnalyticsMemberDaily,
    AnalyticsMemberScore,
    AnalyticsQuestion,
    AnalyticsTopicDaily,
    Member,
    MemberExternal,
    NpsResponse,
    NpsSurvey,
    Post,
    Rank,
    Topic,
)
from app.models.analytics_member_daily import DECILE_FACTS

Score = AnalyticsMemberScore
Daily = AnalyticsMemberDaily
TopicDaily = AnalyticsTopicDaily
MAX_RANGE_DAYS = 366
PAGE_SIZE = 50

# Dashboard definitions (README, "Analytics").
POST_VERBS = (verbs.POST_CREATED, verbs.ANSWER_CREATED)


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> DateRange:
        """The period of the same length that ends the day before this one starts."""
        return DateRange(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]

    def bounds(self) -> tuple[datetime, datetime]:
        """The range as UTC instants (community days start at local midnight)."""
        zone = ZoneInfo(get_settings().community_timezone)
        first = datetime.combine(self.start, time(), zone)
        last = datetime.combine(self.end + timedelta(days=1), time(), zone)
        return first, last

    def query(self) -> str:
        return f"start={self.start.isoformat()}&end={self.end.isoformat()}"


def parse_range(start: str | None, end: str | None, today: date | None = None) -> DateRange:
    """?start=YYYY-MM-DD&end=YYYY-MM-DD, by default the 30 days ending today."""
    today = today or clock.community_day()
    try:
        last = date.fromisoformat(end) if end else today
    except ValueError as exc:
        raise Invalid(_("Enter a date as YYYY-MM-DD."), field="end") from exc
    try:
        first = date.fromisoformat(start) if start else last - timedelta(days=29)
    except ValueError as exc:
        raise Invalid(_("Enter a date as YYYY-MM-DD."), field="start") from exc
    if first > last:
        raise Invalid(_("The start date must not be after the end date."), field="start")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise Invalid(
            _("Choose a range of at most %(days)s days.", days=MAX_RANGE_DAYS), field="start"
        )
    return DateRange(first, last)


# --- rollup reads ------------------------------------------------------------------------------


async def verb_days(
    session: AsyncSession, rng: DateRange, verb_names: tuple[str, ...]
) -> dict[str, dict[date, int]]:
    rows = await session.execute(
        select(AnalyticsDaily.verb, AnalyticsDaily.day, AnalyticsDaily.count).where(
            AnalyticsDaily.day.between(rng.start, rng.end), AnalyticsDaily.verb.in_(verb_names)
        )
    )
    result: dict[str, dict[date, int]] = {verb: {} for verb in verb_names}
    for verb, day, count in rows.all():
        result[verb][day] = count
    return result


def _per_day(rng: DateRange, *parts: tuple[int, dict[date, int]]) -> list[int]:
    return [sum(sign * counts.get(day, 0) for sign, counts in parts) for day in rng.each_day()]


@dataclass
class Table:
    """One chart's numbers: what the chart draws and what its CSV download contains."""

    name: str
    title: str
    header: list[str]
    rows: list[list[Any]] = field(default_factory=list)


@dataclass
class Figure:
    label: str
    current: float | None
    previous: float | None
    unit: str = ""

    @property
    def change(self) -> float | None:
        return metrics.change(self.current, self.previous)


async def _series(session: AsyncSession, rng: DateRange) -> dict[str, list[int]]:
    names = (
        verbs.SIGNED_UP,
        verbs.TOPIC_CREATED,
        *POST_VERBS,
        verbs.LIKE_GIVEN,
        verbs.LIKE_UNDONE,
        verbs.FLAG_RESOLVED,
    )
    counts = await verb_days(session, rng, names)
    return {
        "new_members": _per_day(rng, (1, counts[verbs.SIGNED_UP])),
        "topics": _per_day(rng, (1, counts[verbs.TOPIC_CREATED])),
        "posts": _per_day(rng, *((1, counts[verb]) for verb in POST_VERBS)),
        "likes": _per_day(rng, (1, counts[verbs.LIKE_GIVEN]), (-1, counts[verbs.LIKE_UNDONE])),
        "flags_resolved": _per_day(rng, (1, counts[verbs.FLAG_RESOLVED])),
    }


async def _flags_raised(session: AsyncSession, rng: DateRange) -> list[int]:
    flag_model = getattr(models, "Flag", None)
    if flag_model is None:
        return [0] * rng.days
    first, last = rng.bounds()
    rows = await session.execute(
        select(flag_model.created_at).where(
            flag_model.created_at >= first, flag_model.created_at < last
        )
    )
    per_day = Counter(clock.community_day(moment) for moment in rows.scalars())
    return [per_day.get(day, 0) for day in rng.each_day()]


async def _questions(session: AsyncSession, rng: DateRange) -> dict[str, Any]:
    asked = Counter(
        (
            await session.execute(
                select(AnalyticsQuestion.asked_day).where(
                    AnalyticsQuestion.asked_day.between(rng.start, rng.end)
                )
            )
        ).scalars()
    )
    answered_rows = (
        await session.execute(
            select(AnalyticsQuestion.answered_day, AnalyticsQuestion.first_answer_seconds).where(
                AnalyticsQuestion.answered_day.between(rng.start, rng.end)
            )
        )
    ).all()
    delays: dict[date, list[int]] = defaultdict(list)
    for day, seconds in answered_rows:
        if day is not None:
            delays[day].append(int(seconds or 0))
    unanswered = await session.scalar(
        select(func.count())
        .select_from(AnalyticsQuestion)
        .where(
            AnalyticsQuestion.asked_day.between(rng.start, rng.end),
            AnalyticsQuestion.answered_at.is_(None),
        )
    )
    all_delays = [seconds for values in delays.values() for seconds in values]
    return {
        "asked": [asked.get(day, 0) for day in rng.each_day()],
        "answered": [len(delays.get(day, [])) for day in rng.each_day()],
        "median_hours": [
            None if not delays.get(day) else (metrics.median(delays[day]) or 0) / 3600
            for day in rng.each_day()
        ],
        "median_seconds": metrics.median(all_delays),
        "unanswered": int(unanswered or 0),
    }


@dataclass
class Dashboard:
    rng: DateRange
    figures: list[Figure]
    tables: dict[str, Table]


async def dashboard(session: AsyncSession, rng: DateRange) -> Dashboard:
    prev = rng.previous
    active_members = await active.load(session, prev.start, rng.end)
    now_active = active_members.series(rng.start, rng.end)
    then_active = active_members.series(prev.start, prev.end)
    now_series, then_series = await _series(session, rng), await _series(session, prev)
    now_q, then_q = await _questions(session, rng), await _questions(session, prev)
    now_flags, then_flags = await _flags_raised(session, rng), await _flags_raised(session, prev)
    now_distinct = await active_members.distinct(session, rng.start, rng.end)
    then_distinct = await active_members.distinct(session, prev.start, prev.end)

    def mean(values: list[int]) -> float:
        return sum(values) / len(values) if values else 0.0

    def hours(seconds: float | None) -> float | None:
        return None if seconds is None else seconds / 3600

    figures = [
        Figure(_("Active members"), now_distinct, then_distinct),
        Figure(
            _("Average DAU"),
            mean([c.dau for c in now_active]),
            mean([c.dau for c in then_active]),
        ),
        Figure(
            _("DAU/MAU"),
            now_active[-1].stickiness if now_active else None,
            then_active[-1].stickiness if then_active else None,
            "%",
        ),
        Figure(_("New members"), sum(now_series["new_members"]), sum(then_series["new_members"])),
        Figure(_("Topics"), sum(now_series["topics"]), sum(then_series["topics"])),
        Figure(_("Posts"), sum(now_series["posts"]), sum(then_series["posts"])),
        Figure(_("Likes"), sum(now_series["likes"]), sum(then_series["likes"])),
        Figure(_("Questions answered"), sum(now_q["answered"]), sum(then_q["answered"])),
        Figure(
            _("Median time to first answer"),
            hours(now_q["median_seconds"]),
            hours(then_q["median_seconds"]),
            "h",
        ),
        Figure(_("Unanswered questions"), now_q["unanswered"], then_q["unanswered"]),
        Figure(_("Flags raised"), sum(now_flags), sum(then_flags)),
    ]
    days = rng.each_day()
    tables = {
        "active": Table(
            "active",
            _("Active members (DAU / WAU / MAU)"),
            ["day", "dau", "wau", "mau", "dau_mau_percent", "previous_dau", "previous_mau"],
            [
                [c.day, c.dau, c.wau, c.mau, c.stickiness, p.dau, p.mau]
                for c, p in zip(now_active, then_active, strict=True)
            ],
        ),
        "content": Table(
            "content",
            _("New members, topics, posts and likes"),
            ["day", "new_members", "topics", "posts", "likes", "previous_posts"],
            [
                [
                    day,
                    now_series["new_members"][i],
                    now_series["topics"][i],
                    now_series["posts"][i],
                    now_series["likes"][i],
                    then_series["posts"][i],
                ]
                for i, day in enumerate(days)
            ],
        ),
        "questions": Table(
            "questions",
            _("Questions asked and answered"),
            ["day", "asked", "answered", "median_hours_to_first_answer", "previous_answered"],
            [
                [
                    day,
                    now_q["asked"][i],
                    now_q["answered"][i],
                    now_q["median_hours"][i],
                    then_q["answered"][i],
                ]
                for i, day in enumerate(days)
            ],
        ),
        "flags": Table(
            "flags",
            _("Flags"),
            ["day", "flags_raised", "flags_resolved", "previous_flags_raised"],
            [
                [day, now_flags[i], now_series["flags_resolved"][i], then_flags[i]]
                for i, day in enumerate(days)
            ],
        ),
    }
    return Dashboard(rng, figures, tables)


async def rank_table(session: AsyncSession) -> Table:
    rows = await session.execute(
        select(Member.rank_id, func.count())
        .where(Member.role.in_(policy.POPULATION_ROLES))
        .group_by(Member.rank_id)
    )
    ranks = list((await session.execute(select(Rank).order_by(Rank.threshold))).scalars())
    known = {rank.id for rank in ranks}
    counts: dict[int | None, int] = {}
    for rank_id, n in rows.all():
        key = rank_id if rank_id in known else None  # as the outer join to ranks counted them
        counts[key] = counts.get(key, 0) + n
    table = Table("ranks", _("Rank distribution"), ["rank", "members"])
    if counts.get(None):
        table.rows.append([_("No rank yet"), counts[None]])
    table.rows.extend([rank.name, counts.get(rank.id, 0)] for rank in ranks)
    return table


TOP_CONTENT = 10


async def top_content(session: AsyncSession, rng: DateRange) -> tuple[Table, Table]:
    """The ten topics with the most visitors, and with the most likes given in the range (likes
    still standing), from the per-day topic rollup: one pass over the range's rows (an
    index-only scan), ranked in SQL, so only the twenty winners come back."""
    totals = (
        select(
            TopicDaily.topic_id,
            func.sum(TopicDaily.likes).label("likes"),
            func.sum(TopicDaily.views).label("views"),
        )
        .where(TopicDaily.day.between(rng.start, rng.end))
        .group_by(TopicDaily.topic_id)
        .subquery()
    )
    standing = exists().where(Topic.id == totals.c.topic_id, Topic.deleted_at.is_(None))
    ranked = (
        select(
            totals.c.topic_id,
            totals.c.likes,
            totals.c.views,
            func.row_number()
            .over(order_by=(totals.c.likes.desc(), totals.c.topic_id))
            .label("by_likes"),
            func.row_number()
            .over(order_by=(totals.c.views.desc(), totals.c.topic_id))
            .label("by_views"),
        )
        .where(standing)
        .subquery()
    )
    rows = (
        await session.execute(
            select(ranked).where(
                or_(
                    and_(ranked.c.by_likes <= TOP_CONTENT, ranked.c.likes > 0),
                    and_(ranked.c.by_views <= TOP_CONTENT, ranked.c.views > 0),
                )
            )
        )
    ).all()
    top_likes = sorted(
        (-int(row.likes), row.topic_id)
        for row in rows
        if row.by_likes <= TOP_CONTENT and row.likes > 0
    )
    top_views = sorted(
        (-int(row.views), row.topic_id)
        for row in rows
        if row.by_views <= TOP_CONTENT and row.views > 0
    )
    wanted = {topic_id for _n, topic_id in (*top_likes, *top_views)}
    titles: dict[int, str] = {}
    if wanted:
        titles = dict(
            (await session.execute(select(Topic.id, Topic.title).where(Topic.id.in_(wanted)))).all()
        )
    views = [(topic_id, titles[topic_id], -n) for n, topic_id in top_views]
    likes = [(topic_id, titles[topic_id], -n) for n, topic_id in top_likes]
    return (
        Table(
            "top_views",
            _("Top content by views"),
            ["topic_id", "title", "views"],
            [list(row) for row in views],
        ),
        Table(
            "top_likes",
            _("Top content by likes"),
            ["topic_id", "title", "likes"],
            [list(row) for row in likes],
        ),
    )


async def cohort_table(session: AsyncSession, rng: DateRange, unit: str) -> Table:
    """Members who joined in the range, by the week or month they joined, and the share of
    each group active in each period after. Counted in the database, reading only the daily
    rollup rows of the members who joined in the range."""
    periods = metrics.periods_between(rng.start, rng.end, unit)
    first, last = rng.bounds()
    zone = ZoneInfo(get_settings().community_timezone)
    joined_in = active.period_of(
        Member.created_at, [datetime.combine(start, time(), zone) for start in periods]
    )
    joined = (
        Member.role.in_(policy.POPULATION_ROLES),
        Member.created_at >= first,
        Member.created_at < last,
    )
    sizes = select(joined_in.label("slot"), Member.id).where(*joined).subquery()
    active_days = (
        select(
            joined_in.label("joined"),
            active.period_of(Daily.day, periods).label("slot"),
            Daily.member_id,
        )
        .join(Daily, Daily.member_id == Member.id)
        .where(*joined, Daily.day.between(rng.start, rng.end), Daily.done > 0)
        .subquery()
    )
    counts = await session.execute(
        select(
            active_days.c.joined, active_days.c.slot, func.count(active_days.c.member_id.distinct())
        ).group_by(active_days.c.joined, active_days.c.slot)
    )
    rows = metrics.cohorts(
        periods,
        dict(
            (await session.execute(select(sizes.c.slot, func.count()).group_by(sizes.c.slot))).all()
        ),
        {(joined_slot, slot): count for joined_slot, slot, count in counts.all()},
    )
    width = len(rows)
    table = Table(
        "cohorts",
        _("Retention by sign-up week") if unit == "week" else _("Retention by sign-up month"),
        ["cohort", "members", *[f"period_{k}_percent" for k in range(width)]],
    )
    table.rows = [[row.period, row.size, *row.shares] for row in rows]
    return table


async def churn_table(session: AsyncSession, rng: DateRange) -> Table:
    periods = metrics.periods_between(rng.start, rng.end, "month")
    members, again = await active.returning(session, periods, rng.end)
    rows = metrics.churn(periods, members, again[1:])
    return Table(
        "churn",
        _("Monthly churn"),
        ["month", "active", "not_active_next_month", "churn_percent"],
        [[row.period, row.active, row.churned, row.rate] for row in rows],
    )


async def decile_table(session: AsyncSession, rng: DateRange) -> Table:
    """The members in ten equal groups by engagement (as :func:`metrics.deciles` ranks them; a
    member without scores counts as 0) and each group's share of the period's posts, answers
    and likes received. Only the nine members where deciles 2..10 start are looked up in the
    ranking; then the period's daily rows are summed per member and those per decile."""
    count = await ranking.population(session)
    # Where deciles 2..10 start (none past the end), as (heat_base, member_id).
    firsts = [first for first in metrics.decile_starts(count)[1:] if first < count]
    heat = func.coalesce(Score.heat_base, 0.0)
    rows = await ranking.population_rows(session)
    if await ranking.scored_members(session, rows) == count:
        starts = await ranking.members_at(session, firsts, rows)
    else:
        # Some members have no score row yet (an import, say), and rank as 0 among the
        # others: rank everybody, and keep the nine.
        ranked = (
            select(
                heat.label("heat"),
                Member.id.label("member_id"),
                func.row_number().over(order_by=(heat.desc(), Member.id)).label("position"),
            )
            .outerjoin(Score, Score.member_id == Member.id)
            .where(Member.role.in_(policy.POPULATION_ROLES))
            .subquery()
        )
        starts = {
            int(position) - 1: (float(start_heat), int(start_id))
            for position, start_heat, start_id in (
                await session.execute(
                    select(ranked.c.position, ranked.c.heat, ranked.c.member_id).where(
                        ranked.c.position.in_({first + 1 for first in firsts})
                    )
                )
            ).all()
        }
    # Each member's sums first (one pass over the day-first index), then each member's
    # decile: the boundaries are compared once per member, not once per daily row.
    verb = Daily.verb
    totals = (
        select(
            Daily.member_id,
            func.sum(case((verb.in_(POST_AND_TOPIC_VERBS), Daily.done), else_=0)).label("posts"),
            func.sum(case((verb == verbs.ANSWER_CREATED, Daily.done), else_=0)).label("answers"),
            func.sum(
                case(
                    (verb == verbs.LIKE_GIVEN, Daily.received),
                    (verb == verbs.LIKE_UNDONE, -Daily.received),
                    else_=0,
                )
            ).label("likes"),
        )
        # The clause of the partial index that holds these rows, day first.
        .where(Daily.day.between(rng.start, rng.end), text(DECILE_FACTS))
        .group_by(Daily.member_id)
        .subquery()
    )
    decile: Any = literal_column("1")
    for start_heat, start_id in starts.values():
        at_or_after = or_(
            heat < start_heat, and_(heat == start_heat, totals.c.member_id >= start_id)
        )
        decile = decile + case((at_or_after, 1), else_=0)
    placed = (
        select(decile.label("decile"), totals.c.posts, totals.c.answers, totals.c.likes)
        .outerjoin(Score, Score.member_id == totals.c.member_id)
        .where(ranking.in_population(totals.c.member_id))
        .subquery()
    )
    sums = await session.execute(
        select(
            placed.c.decile,
            func.sum(placed.c.posts),
            func.sum(placed.c.answers),
            func.sum(placed.c.likes),
        ).group_by(placed.c.decile)
    )
    shares = metrics.decile_shares(
        metrics.decile_sizes(count),
        {
            int(row_decile): (int(posts or 0), int(answers or 0), int(likes or 0))
            for row_decile, posts, answers, likes in sums.all()
        },
    )
    return Table(
        "deciles",
        _("Decile analysis by engagement"),
        ["decile", "members", "posts_percent", "answers_percent", "likes_received_percent"],
        [[r.decile, r.members, r.posts, r.answers, r.likes_received] for r in shares],
    )


POST_AND_TOPIC_VERBS = (verbs.TOPIC_CREATED, verbs.POST_CREATED)


async def distribution_tables(session: AsyncSession) -> tuple[Table, Table]:
    """The members by advocate type and by RFM group, counted in one pass over their index."""
    advocate_counts: Counter[str] = Counter()
    rfm_counts: Counter[str] = Counter()
    for kind, group, members in (
        await session.execute(
            select(Score.advocate_type, Score.rfm_group, func.count())
            .where(await ranking.population_rows(session))
            .group_by(Score.advocate_type, Score.rfm_group)
        )
    ).all():
        advocate_counts[kind] += members
        rfm_counts[group] += members
    kinds = Table(
        "advocates",
        _("Advocate types"),
        ["advocate_type", "members"],
        [
            [str(advocates.LABELS[kind]), advocate_counts[kind]]
            for kind in (*advocates.ADVOCATE_TYPES, "")
        ],
    )
    rfm = Table(
        "rfm",
        _("RFM groups"),
        ["group", "members"],
        [[str(RFM_LABELS[group]), rfm_counts[group]] for group in metrics.RFM_GROUPS],
    )
    return kinds, rfm


def _rfm_labels() -> dict[str, Any]:
    from app.kit.i18n import lazy_gettext

    return {
        "champions": lazy_gettext("Champions"),
        "loyal": lazy_gettext("Loyal"),
        "new": lazy_gettext("New"),
        "at_risk": lazy_gettext("At risk"),
        "dormant": lazy_gettext("Dormant"),
        "occasional": lazy_gettext("Occasional"),
    }


RFM_LABELS = _rfm_labels()
TABLE_NAMES = (
    "active",
    "content",
    "questions",
    "flags",
    "ranks",
    "top_views",
    "top_likes",
    "cohorts",
    "churn",
    "deciles",
    "advocates",
    "rfm",
)


async def table_by_name(
    session: AsyncSession, name: str, rng: DateRange, unit: str = "month"
) -> Table:
    if name in ("active", "content", "questions", "flags"):
        return (await dashboard(session, rng)).tables[name]
    if name == "ranks":
        return await rank_table(session)
    if name in ("top_views", "top_likes"):
        views, likes = await top_content(session, rng)
        return views if name == "top_views" else likes
    if name == "cohorts":
        return await cohort_table(session, rng, unit)
    if name == "churn":
        return await churn_table(session, rng)
    if name == "deciles":
        return await decile_table(session, rng)
    if name in ("advocates", "rfm"):
        kinds, rfm = await distribution_tables(session)
        return kinds if name == "advocates" else rfm
    raise NotFound()


# --- members -------------------------------------------------------------------------------------

SORTS = ("engagement", "points", "last_active", "reach", "joined")


def _sort_key(sort: str) -> Any:
    if sort == "engagement":
        return func.coalesce(Score.heat_base, 0.0)
    if sort == "points":
        return Member.lifetime_points
    if sort == "last_active":
        return func.coalesce(Score.last_active_day, date(1970, 1, 1))
    if sort == "reach":
        return func.coalesce(Score.reach, 0)
    return Member.id


def _cursor_value(sort: str, raw: str) -> Any:
    if sort == "engagement":
        return float(raw)
    if sort == "last_active":
        return date.fromisoformat(raw)
    return int(raw)


@dataclass
class MemberRow:
    member: Member
    score: AnalyticsMemberScore | None
    external: MemberExternal | None
    engagement: float


@dataclass
class MemberPage:
    rows: list[MemberRow]
    next_cursor: str | None


def member_query(
    data: segments.MemberFilter, today: date, segment_filter: Any = None
) -> Select[Member, AnalyticsMemberScore, MemberExternal]:
    query = segments.base_query().where(*segments.conditions(data, today))
    if segment_filter is not None:
        query = query.where(*segments.conditions(segment_filter, today))
    return query


async def member_page(
    session: AsyncSession,
    data: segments.MemberFilter,
    *,
    sort: str,
    cursor: str | None,
    segment_id: int | None = None,
    limit: int = PAGE_SIZE,
) -> MemberPage:
    """Keyset pages of the member table: (sort value, id) descending."""
    if sort not in SORTS:
        raise Invalid(_("Choose one of the offered values."), field="sort")
    today = clock.community_day()
    criteria = await ambassadors.load_criteria(session)
    extra = None
    if segment_id is not None:
        extra = segments.segment_filter(await segments.get_segment(session, segment_id))
    key = _sort_key(sort)
    # The page's ids first, sorting only (key, id) through every matching member, then their
    # rows: sorting whole rows costs five times as much at 100,000 members.
    query = (
        member_query(data, today, extra)
        .with_only_columns(Member.id)
        .order_by(key.desc(), Member.id.desc())
    )
    if cursor:
        raw, _sep, last_id = cursor.rpartition("|")
        try:
            value, after_id = _cursor_value(sort, raw), int(last_id)
        except ValueError as exc:
            raise Invalid(_("This value is not valid."), field="cursor") from exc
        query = query.where(or_(key < value, and_(key == value, Member.id < after_id)))
    ids = list((await session.execute(query.limit(limit + 1))).scalars())
    found = {
        member.id: (member, score, external)
        for member, score, external in (
            await session.execute(segments.base_query().where(Member.id.in_(ids)))
        ).all()
    }
    rows = [found[member_id] for member_id in ids if member_id in found]
    page = [
        MemberRow(
            member,
            score,
            external,
            metrics.engagement(score.heat_base, today, criteria.monthly_decay) if score else 0.0,
        )
        for member, score, external in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        key_value: Any = {
            "engagement": last.score.heat_base if last.score else 0.0,
            "points": last.member.lifetime_points,
            "last_active": (last.score.last_active_day if last.score else None) or date(1970, 1, 1),
            "reach": last.score.reach if last.score else 0,
            "joined": last.member.id,
        }[sort]
        raw = key_value.isoformat() if isinstance(key_value, date) else repr(key_value)
        next_cursor = f"{raw}|{last.member.id}"
    return MemberPage(page, next_cursor)


async def all_member_rows(
    session: AsyncSession, data: segments.MemberFilter, segment_id: int | None
) -> list[MemberRow]:
    """Every matching member, for the CSV export (in id order)."""
    today = clock.community_day()
    criteria = await ambassadors.load_criteria(session)
    extra = None
    if segment_id is not None:
        extra = segments.segment_filter(await segments.get_segment(session, segment_id))
    rows = (await session.execute(member_query(data, today, extra).order_by(Member.id))).all()
    return [
        MemberRow(
            member,
            score,
            external,
            metrics.engagement(score.heat_base, today, criteria.monthly_decay) if score else 0.0,
        )
        for member, score, external in rows
    ]


async def get_member(session: AsyncSession, member_id: int) -> Member:
    member = await session.get(Member, member_id)
    if member is None or member.role not in policy.POPULATION_ROLES:
        raise NotFound()
    return member


@dataclass
class MemberDetail:
    member: Member
    score: AnalyticsMemberScore | None
    external: MemberExternal | None
    engagement: float
    rank: Rank | None
    timeline: list[Activity]
    next_before: int | None
    nps_answers: list[tuple[NpsResponse, NpsSurvey]]
    history: list[tuple[AmbassadorStatusChange, Member | None]]
    campaign_entries: list[tuple[Any, Any]]
    flags_raised: int
    flags_received: int
    explanation: list[dict[str, Any]]


async def member_detail(
    session: AsyncSession, member_id: int, before: int | None = None
) -> MemberDetail:
    member = await get_member(session, member_id)
    criteria = await ambassadors.load_criteria(session)
    score = await session.get(Score, member_id)
    external = await session.get(MemberExternal, member_id)
    rank = await session.get(Rank, member.rank_id) if member.rank_id else None
    timeline_query = (
        select(Activity)
        .where(or_(Activity.actor_id == member_id, Activity.recipient_id == member_id))
        .order_by(Activity.id.desc())
        .limit(PAGE_SIZE + 1)
    )
    if before is not None:
        timeline_query = timeline_query.where(Activity.id < before)
    timeline = list((await session.execute(timeline_query)).scalars())
    next_before = timeline[PAGE_SIZE - 1].id if len(timeline) > PAGE_SIZE else None
    nps_answers = [
        (response, survey)
        for response, survey in (
            await session.execute(
                select(NpsResponse, NpsSurvey)
                .join(NpsSurvey, NpsSurvey.id == NpsResponse.survey_id)
                .where(NpsResponse.member_id == member_id)
                .order_by(NpsResponse.created_at.desc())
                .limit(20)
            )
        ).all()
    ]
    actor = Member.__table__.alias("actor")
    history_rows = (
        await session.execute(
            select(AmbassadorStatusChange, actor.c.display_name)
            .outerjoin(actor, actor.c.id == AmbassadorStatusChange.actor_id)
            .where(AmbassadorStatusChange.member_id == member_id)
            .order_by(AmbassadorStatusChange.id.desc())
            .limit(50)
        )
    ).all()
    entry_model = getattr(models, "CampaignEntry", None)
    campaign_model = getattr(models, "Campaign", None)
    entries: list[tuple[Any, Any]] = []
    if entry_model is not None and campaign_model is not None:
        entries = [
            (entry, campaign)
            for entry, campaign in (
                await session.execute(
                    select(entry_model, campaign_model)
                    .join(campaign_model, campaign_model.id == entry_model.campaign_id)
                    .where(entry_model.member_id == member_id)
                    .order_by(entry_model.created_at.desc())
                    .limit(20)
                )
            ).all()
        ]
    flag_model = getattr(models, "Flag", None)
    raised = received = 0
    if flag_model is not None:
        raised = int(
            await session.scalar(
                select(func.count())
                .select_from(flag_model)
                .where(flag_model.flagger_id == member_id)
            )
            or 0
        )
        received = int(
            await session.scalar(
                select(func.count())
                .select_from(flag_model)
                .join(Post, Post.id == flag_model.post_id)
                .where(Post.author_id == member_id)
            )
            or 0
        )
    today = clock.community_day()
    return MemberDetail(
        member=member,
        score=score,
        external=external,
        engagement=metrics.engagement(score.heat_base, today, criteria.monthly_decay)
        if score
        else 0.0,
        rank=rank,
        timeline=timeline[:PAGE_SIZE],
        next_before=next_before,
        nps_answers=nps_answers,
        history=[(change, name) for change, name in history_rows],
        campaign_entries=entries,
        flags_raised=raised,
        flags_received=received,
        explanation=[
            {**entry, **ambassadors.describe(entry)}
            for entry in (score.explanation if score else [])
        ],
    )


async def ambassador_lists(
    session: AsyncSession,
) -> dict[str, list[tuple[Member, AnalyticsMemberScore]]]:
    """Flagged (awaiting review), confirmed, candidates and dismissed, each with its scores."""
    rows = (
        await session.execute(
            select(Member, Score)
            .join(Score, Score.member_id == Member.id)
            .where(
                Member.role.in_(policy.POPULATION_ROLES),
                or_(Score.ambassador_status != "", Score.detection != ""),
            )
            .order_by(Score.heat_base.desc(), Member.id)
            .limit(500)
        )
    ).all()
    lists: dict[str, list[tuple[Member, AnalyticsMemberScore]]] = {
        "flagged": [],
        "confirmed": [],
        "candidates": [],
        "dismissed": [],
    }
    for member, score in rows:
        if score.ambassador_status == ambassadors.FLAGGED:
            lists["flagged"].append((member, score))
        elif score.ambassador_status == ambassadors.CONFIRMED:
            lists["confirmed"].append((member, score))
        elif score.ambassador_status == ambassadors.DISMISSED:
            lists["dismissed"].append((member, score))
        elif score.detection == ambassadors.CANDIDATE:
            lists["candidates"].append((member, score))
    return lists
