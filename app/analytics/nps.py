"""NPS surveys: operators create them for an audience; members in it answer once.

Results follow :func:`app.analytics.metrics.nps` (NPS, shares, 95% margin of error).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import ColumnElement, String, bindparam, exists, func, literal, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.activity import verbs
from app.activity.service import record
from app.analytics import ambassadors, metrics, policy, segments
from app.config import get_settings
from app.kit import clock
from app.kit.errors import Conflict, Invalid, NotFound
from app.kit.i18n import gettext as _
from app.kit.i18n import lazy_gettext
from app.kit.sql import read_prebuilt
from app.models import (
    Activity,
    AnalyticsMemberScore,
    AnalyticsSegment,
    Member,
    NpsResponse,
    NpsSurvey,
    Rank,
)

Audience = Literal["everyone", "segment", "rank", "ambassadors"]
AUDIENCE_LABELS = {
    "everyone": lazy_gettext("Every member"),
    "segment": lazy_gettext("A saved segment"),
    "rank": lazy_gettext("Members of a rank or higher"),
    "ambassadors": lazy_gettext("Confirmed ambassadors"),
}
MAX_EXTRA_QUESTIONS = 5
REASONS_PAGE = 50


class SurveyIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: str = Field(min_length=1, max_length=120)
    subject: str = Field(min_length=1, max_length=120)
    reason_question: str = Field(min_length=1, max_length=300)
    extra_questions: list[str] = Field(default_factory=list, max_length=MAX_EXTRA_QUESTIONS)
    audience: Audience = "everyone"
    segment_id: int | None = None
    min_rank_id: int | None = None
    opens_on: date
    closes_on: date

    @field_validator("title", "subject", "reason_question")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError(_("This field is required."))
        return value

    @field_validator("extra_questions")
    @classmethod
    def _questions(cls, value: list[str]) -> list[str]:
        cleaned = [" ".join(q.split()) for q in value if q.strip()]
        if any(len(q) > 300 for q in cleaned):
            raise ValueError(_("Must be at most %(max)s characters.", max=300))
        return cleaned


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    score: int = Field(ge=0, le=10)
    reason: str = Field(default="", max_length=2000)
    extra_answers: list[str] = Field(default_factory=list, max_length=MAX_EXTRA_QUESTIONS)

    @field_validator("extra_answers")
    @classmethod
    def _answers(cls, value: list[str]) -> list[str]:
        if any(len(answer) > 2000 for answer in value):
            raise ValueError(_("Must be at most %(max)s characters.", max=2000))
        return [answer.strip() for answer in value]


def _zone() -> ZoneInfo:
    return ZoneInfo(get_settings().community_timezone)


def is_open(survey: NpsSurvey, now: datetime | None = None) -> bool:
    now = now or clock.now()
    return survey.opens_at <= now < survey.closes_at


async def create_survey(session: AsyncSession, operator: Member, data: SurveyIn) -> NpsSurvey:
    if data.closes_on < data.opens_on:
        raise Invalid(_("The survey must close on or after the day it opens."), field="closes_on")
    segment_id = min_rank_id = None
    if data.audience == "segment":
        if data.segment_id is None or await session.get(AnalyticsSegment, data.segment_id) is None:
            raise Invalid(_("Choose a saved segment."), field="segment_id")
        segment_id = data.segment_id
    if data.audience == "rank":
        if data.min_rank_id is None or await session.get(Rank, data.min_rank_id) is None:
            raise Invalid(_("Choose a rank."), field="min_rank_id")
        min_rank_id = data.min_rank_id
    zone = _zone()
    survey = NpsSurvey(
        title=data.title,
        subject=data.subject,
        reason_question=data.reason_question,
        extra_questions=data.extra_questions,
        audience=data.audience,
        segment_id=segment_id,
        min_rank_id=min_rank_id,
        opens_at=datetime.combine(data.opens_on, time(), zone),
        closes_at=datetime.combine(data.closes_on + timedelta(days=1), time(), zone),
        created_by_id=operator.id,
        created_at=clock.now(),
    )
    session.add(survey)
    await session.flush()
    await announce_if_open(session, survey)
    return survey


async def announce_if_open(session: AsyncSession, survey: NpsSurvey) -> bool:
    """Record ``survey.opened`` once, when the survey is open: notifications tell its
    audience. The operator's act is not the members' participation, so there is no actor."""
    if not is_open(survey):
        return False
    recorded = await record(
        session,
        verbs.SURVEY_OPENED,
        actor_id=None,
        subject=("survey", survey.id),
        data={"survey_id": survey.id},
        dedupe_key=f"{_OPENED_KEY}{survey.id}",
    )
    return recorded is not None


# The dedupe key of a survey's ``survey.opened`` activity, before the survey's id.
_OPENED_KEY = "survey.opened:"


def _unannounced_open(now: Any) -> tuple[ColumnElement[bool], ...]:
    # The announcement is found by its dedupe key: one lookup in a unique index. Found by
    # its subject, it was looked for among every activity about the survey, one per answer
    # (1.8-4.7 ms with 1,602 answers at 10% scale), and every member's first request of a
    # community day asks (app.notifications.service._announce_surveys_after_commit).
    announced = select(Activity.id).where(
        Activity.dedupe_key == literal(_OPENED_KEY).concat(sql_cast(NpsSurvey.id, String))
    )
    return NpsSurvey.opens_at <= now, NpsSurvey.closes_at > now, ~exists(announced)


def _unannounced_build(_insert: Any) -> Any:
    return select(NpsSurvey.id).where(*_unannounced_open(bindparam("p_now"))).limit(1)


async def has_unannounced(session: AsyncSession) -> bool:
    """Is a survey open that its audience was not told about (one made ahead of its day)?
    Built once (app.kit.sql.prebuilt): every member's first request of a day asks."""
    found = await read_prebuilt(
        session, "nps.unannounced", _unannounced_build, {"p_now": clock.now()}
    )
    return bool(found)


async def announce_due(session: AsyncSession) -> int:
    """Announce every survey whose opening day has come since it was created."""
    due = (
        await session.execute(
            select(NpsSurvey).where(*_unannounced_open(clock.now())).order_by(NpsSurvey.id)
        )
    ).scalars()
    announced = 0
    for survey in list(due):
        announced += int(await announce_if_open(session, survey))
    return announced


async def close_survey(session: AsyncSession, survey_id: int) -> NpsSurvey:
    survey = await get_survey(session, survey_id)
    now = clock.now()
    if survey.closes_at > now:
        survey.closes_at = max(now, survey.opens_at)
        await session.flush()
    return survey


async def get_survey(session: AsyncSession, survey_id: int) -> NpsSurvey:
    survey = await session.get(NpsSurvey, survey_id)
    if survey is None:
        raise NotFound()
    return survey


async def in_audience(session: AsyncSession, survey: NpsSurvey, member: Member) -> bool:
    if member.role not in policy.POPULATION_ROLES:
        return False
    if survey.audience == "everyone":
        return True
    if survey.audience == "ambassadors":
        score = await session.get(AnalyticsMemberScore, member.id)
        return score is not None and score.ambassador_status == ambassadors.CONFIRMED
    if survey.audience == "rank":
        if survey.min_rank_id is None or member.rank_id is None:
            return False
        wanted = await session.get(Rank, survey.min_rank_id)
        mine = await session.get(Rank, member.rank_id)
        return wanted is not None and mine is not None and mine.threshold >= wanted.threshold
    if survey.audience == "segment" and survey.segment_id is not None:
        segment = await session.get(AnalyticsSegment, survey.segment_id)
        if segment is None:
            return False
        query = (
            segments.base_query()
            .where(Member.id == member.id)
            .where(*segments.conditions(segments.segment_filter(segment), clock.community_day()))
        )
        return (await session.execute(query)).first() is not None
    return False


async def audience_member_ids(session: AsyncSession, survey: NpsSurvey) -> list[int]:
    """Everyone in the survey's audience now, by id: the rule of :func:`in_audience` for all
    members at once (notifications tell them when the survey opens)."""
    population = Member.role.in_(policy.POPULATION_ROLES)
    if survey.audience == "segment":
        if (
            survey.segment_id is None
            or await session.get(AnalyticsSegment, survey.segment_id) is None
        ):
            return []
        return await segments.segment_member_ids(session, survey.segment_id)
    query = select(Member.id).where(population)
    if survey.audience == "ambassadors":
        query = query.join(AnalyticsMemberScore, AnalyticsMemberScore.member_id == Member.id).where(
            AnalyticsMemberScore.ambassador_status == ambassadors.CONFIRMED
        )
    elif survey.audience == "rank":
        wanted = await session.get(Rank, survey.min_rank_id) if survey.min_rank_id else None
        if wanted is None:
            return []
        query = query.join(Rank, Rank.id == Member.rank_id).where(
            Rank.threshold >= wanted.threshold
        )
    elif survey.audience != "everyone":
        return []
    return [
        int(member_id) for member_id in (await session.execute(query.order_by(Member.id))).scalars()
    ]


async def answered(session: AsyncSession, survey_id: int, member_id: int) -> NpsResponse | None:
    return (
        await session.execute(
            select(NpsResponse).where(
                NpsResponse.survey_id == survey_id, NpsResponse.member_id == member_id
            )
        )
    ).scalar_one_or_none()


async def survey_for_member(session: AsyncSession, survey_id: int, member: Member) -> NpsSurvey:
    """The survey if the member is in its audience and it has opened; 404 otherwise."""
    survey = await session.get(NpsSurvey, survey_id)
    if (
        survey is None
        or survey.opens_at > clock.now()
        or not await in_audience(session, survey, member)
    ):
        raise NotFound()
    return survey


async def open_surveys_for(session: AsyncSession, member: Member) -> list[NpsSurvey]:
    now = clock.now()
    done = select(NpsResponse.survey_id).where(NpsResponse.member_id == member.id)
    candidates = (
        await session.execute(
            select(NpsSurvey)
            .where(NpsSurvey.opens_at <= now, NpsSurvey.closes_at > now, NpsSurvey.id.not_in(done))
            .order_by(NpsSurvey.closes_at)
            .limit(20)
        )
    ).scalars()
    return [survey for survey in candidates if await in_audience(session, survey, member)]


async def answer(
    session: AsyncSession, member: Member, survey_id: int, data: AnswerIn
) -> NpsResponse:
    survey = await survey_for_member(session, survey_id, member)
    if not is_open(survey):
        raise Conflict(_("This survey is closed."))
    if await answered(session, survey.id, member.id) is not None:
        raise Conflict(_("You have already answered this survey."))
    extras = (data.extra_answers + [""] * len(survey.extra_questions))[
        : len(survey.extra_questions)
    ]
    response = NpsResponse(
        survey_id=survey.id,
        member_id=member.id,
        score=data.score,
        category=metrics.nps_category(data.score),
        reason=data.reason.strip(),
        extra_answers=extras,
        created_at=clock.now(),
    )
    try:
        async with session.begin_nested():
            session.add(response)
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(_("You have already answered this survey.")) from exc
    await record(
        session,
        verbs.SURVEY_ANSWERED,
        actor_id=member.id,
        subject=("survey", survey.id),
        data={"score": data.score, "category": response.category, "survey_id": survey.id},
        dedupe_key=f"survey:{survey.id}:{member.id}",
    )
    return response


# --- results -----------------------------------------------------------------------------------


@dataclass
class Breakdown:
    label: str
    result: metrics.NpsResult


@dataclass
class Results:
    survey: NpsSurvey
    result: metrics.NpsResult
    by_rank: list[Breakdown]
    by_ambassador: list[Breakdown]
    by_segment: list[Breakdown]


async def results(session: AsyncSession, survey_id: int) -> Results:
    survey = await get_survey(session, survey_id)
    rows = (
        await session.execute(
            select(
                NpsResponse.member_id,
                NpsResponse.score,
                Member.rank_id,
                AnalyticsMemberScore.ambassador_status,
            )
            .join(Member, Member.id == NpsResponse.member_id)
            .outerjoin(AnalyticsMemberScore, AnalyticsMemberScore.member_id == Member.id)
            .where(NpsResponse.survey_id == survey.id)
        )
    ).all()
    overall = metrics.nps(row.score for row in rows)
    by_rank_scores: dict[int | None, list[int]] = defaultdict(list)
    by_status: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        by_rank_scores[row.rank_id].append(row.score)
        by_status[row.ambassador_status or ""].append(row.score)
    ranks = list((await session.execute(select(Rank).order_by(Rank.threshold))).scalars())
    by_rank = [
        Breakdown(rank.name, metrics.nps(by_rank_scores[rank.id]))
        for rank in ranks
        if by_rank_scores.get(rank.id)
    ]
    if by_rank_scores.get(None):
        by_rank.insert(0, Breakdown(_("No rank yet"), metrics.nps(by_rank_scores[None])))
    by_ambassador = [
        Breakdown(str(ambassadors.STATUS_LABELS[status]), metrics.nps(scores))
        for status, scores in sorted(by_status.items())
    ]
    scores_of = {row.member_id: row.score for row in rows}
    by_segment: list[Breakdown] = []
    for segment in await segments.list_segments(session):
        ids = set(await segments.segment_member_ids(session, segment.id))
        picked = [score for member_id, score in scores_of.items() if member_id in ids]
        if picked:
            by_segment.append(Breakdown(segment.name, metrics.nps(picked)))
    return Results(survey, overall, by_rank, by_ambassador, by_segment)


async def reasons(
    session: AsyncSession,
    survey_id: int,
    *,
    category: str = "",
    q: str = "",
    before: int | None = None,
) -> tuple[list[tuple[NpsResponse, Member]], int | None]:
    """Answers with their reasons, newest first, filterable by category and text."""
    if category and category not in metrics.NPS_CATEGORIES:
        raise Invalid(_("Choose one of the offered values."), field="category")
    query = (
        select(NpsResponse, Member)
        .join(Member, Member.id == NpsResponse.member_id)
        .where(NpsResponse.survey_id == survey_id, NpsResponse.reason != "")
        .order_by(NpsResponse.id.desc())
        .limit(REASONS_PAGE + 1)
    )
    if category:
        query = query.where(NpsResponse.category == category)
    if q.strip():
        query = query.where(
            func.lower(NpsResponse.reason).contains(q.strip().lower(), autoescape=True)
        )
    if before is not None:
        query = query.where(NpsResponse.id < before)
    rows = [(response, member) for response, member in (await session.execute(query)).all()]
    next_before = rows[REASONS_PAGE - 1][0].id if len(rows) > REASONS_PAGE else None
    return rows[:REASONS_PAGE], next_before


async def trend(session: AsyncSession) -> list[tuple[NpsSurvey, metrics.NpsResult]]:
    """Every survey (oldest first) with its result: the NPS trend across surveys."""
    surveys = list(
        (
            await session.execute(select(NpsSurvey).order_by(NpsSurvey.opens_at, NpsSurvey.id))
        ).scalars()
    )
    scores: dict[int, list[int]] = defaultdict(list)
    for survey_id, score in (
        await session.execute(select(NpsResponse.survey_id, NpsResponse.score))
    ).all():
        scores[survey_id].append(score)
    return [(survey, metrics.nps(scores[survey.id])) for survey in surveys]


def extra_answers_from_form(form: dict[str, str], count: int) -> list[str]:
    return [form.get(f"extra_{i}", "") for i in range(count)]


def survey_form_data(form: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {key: value for key, value in form.items() if value != ""}
    data["extra_questions"] = [
        line for line in form.get("extra_questions", "").splitlines() if line.strip()
    ]
    return data
