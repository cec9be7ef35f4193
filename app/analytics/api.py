"""Analytics in the JSON API: operators and admins under /api/v1/ops; members answer surveys."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request

from app.accounts.deps import CurrentMember, CurrentOperator, SessionDep
from app.analytics import ambassadors, metrics, nps, queries, segments
from app.kit.routing import Router
from app.models import AnalyticsMemberScore, Member

router = Router(prefix="/api/v1", tags=["analytics"])


def _range(request: Request) -> queries.DateRange:
    return queries.parse_range(request.query_params.get("start"), request.query_params.get("end"))


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 4)
    return value


def _table(table: queries.Table) -> dict[str, Any]:
    return {
        "name": table.name,
        "title": table.title,
        "columns": table.header,
        "rows": [[_plain(cell) for cell in row] for row in table.rows],
    }


def _nps(result: metrics.NpsResult) -> dict[str, Any]:
    return {
        "responses": result.responses,
        "nps": result.nps,
        "margin_of_error": result.margin,
        "low_sample": result.low_sample,
        "promoters": result.promoters,
        "passives": result.passives,
        "detractors": result.detractors,
        "shares": {category: result.share(category) for category in metrics.NPS_CATEGORIES},
        "distribution": list(result.distribution),
    }


def _score(member: Member, score: AnalyticsMemberScore | None, engagement: float) -> dict[str, Any]:
    return {
        "id": member.id,
        "handle": member.handle,
        "display_name": member.display_name,
        "lifetime_points": member.lifetime_points,
        "rank_id": member.rank_id,
        "engagement": round(engagement, 4),
        "reach": score.reach if score else 0,
        "last_active_day": _plain(score.last_active_day) if score else None,
        "decile": score.decile if score else None,
        "rfm": {
            "recency": score.r_score if score else 1,
            "frequency": score.f_score if score else 1,
            "monetary": score.m_score if score else 1,
            "group": score.rfm_group if score else "dormant",
        },
        "advocate_type": score.advocate_type if score else "",
        "detection": score.detection if score else "",
        "ambassador_status": score.ambassador_status if score else "",
        "latest_nps": score.latest_nps if score else None,
        "explanation": score.explanation if score else [],
    }


@router.get("/ops/dashboard", summary="Key figures and daily series for a date range")
async def dashboard(
    request: Request, session: SessionDep, viewer: CurrentOperator
) -> dict[str, Any]:
    rng = _range(request)
    data = await queries.dashboard(session, rng)
    return {
        "start": rng.start.isoformat(),
        "end": rng.end.isoformat(),
        "previous": {"start": rng.previous.start.isoformat(), "end": rng.previous.end.isoformat()},
        "figures": [
            {"label": f.label, "current": f.current, "previous": f.previous, "change": f.change}
            for f in data.figures
        ],
        "charts": {name: _table(table) for name, table in data.tables.items()},
    }


@router.get("/ops/charts/{name}", summary="One chart's data (the same as its CSV download)")
async def chart(
    name: str, request: Request, session: SessionDep, viewer: CurrentOperator
) -> dict[str, Any]:
    if name not in queries.TABLE_NAMES:
        from app.kit.errors import NotFound

        raise NotFound()
    unit = request.query_params.get("unit", "month")
    if unit not in ("week", "month"):
        from app.kit.errors import Invalid
        from app.kit.i18n import gettext as _

        raise Invalid(_("Choose one of the offered values."), field="unit")
    return _table(await queries.table_by_name(session, name, _range(request), unit))


@router.get("/ops/members", summary="Members with their scores (filters as query parameters)")
async def members(request: Request, session: SessionDep, viewer: CurrentOperator) -> dict[str, Any]:
    params = dict(request.query_params)
    data = segments.parse_filter(params)
    segment_id = params.get("segment_id")
    page = await queries.member_page(
        session,
        data,
        sort=params.get("sort") or "engagement",
        cursor=params.get("cursor"),
        segment_id=int(segment_id) if segment_id and segment_id.isdigit() else None,
    )
    return {
        "members": [_score(row.member, row.score, row.engagement) for row in page.rows],
        "next_cursor": page.next_cursor,
    }


@router.get("/ops/members/{member_id}", summary="One member's scores and ambassador explanation")
async def member(member_id: int, session: SessionDep, viewer: CurrentOperator) -> dict[str, Any]:
    detail = await queries.member_detail(session, member_id)
    body = _score(detail.member, detail.score, detail.engagement)
    body["history"] = [
        {
            "from": change.from_status,
            "to": change.to_status,
            "by": name,
            "note": change.note,
            "at": change.created_at.isoformat(),
        }
        for change, name in detail.history
    ]
    return body


class ReviewIn(BaseModel):
    decision: str = Field(max_length=20)
    note: str = Field(default="", max_length=500)


@router.post("/ops/members/{member_id}/ambassador", summary="Confirm or dismiss an ambassador")
async def review(
    member_id: int, data: ReviewIn, session: SessionDep, viewer: CurrentOperator
) -> dict[str, Any]:
    score = await ambassadors.review(session, viewer, member_id, data.decision, data.note)
    return {"member_id": member_id, "ambassador_status": score.ambassador_status}


@router.get("/ops/ambassadors", summary="Flagged, confirmed, candidate and dismissed members")
async def ambassador_lists(session: SessionDep, viewer: CurrentOperator) -> dict[str, Any]:
    lists = await queries.ambassador_lists(session)
    return {
        key: [
            {"id": member.id, "handle": member.handle, "explanation": score.explanation}
            for member, score in rows
        ]
        for key, rows in lists.items()
    }


class SegmentIn(BaseModel):
    name: str = Field(max_length=80)
    filters: dict[str, Any] = Field(default_factory=dict)


@router.get("/ops/segments", summary="Saved segments with their live member counts")
async def segment_list(session: SessionDep, viewer: CurrentOperator) -> dict[str, Any]:
    from app.kit import clock

    today = clock.community_day()
    return {
        "segments": [
            {
                "id": segment.id,
                "name": segment.name,
                "filters": segment.filters,
                "members": await segments.count_members(
                    session, segments.segment_filter(segment), today
                ),
            }
            for segment in await segments.list_segments(session)
        ]
    }


@router.post("/ops/segments", status_code=201, summary="Save a segment")
async def segment_create(
    data: SegmentIn, session: SessionDep, viewer: CurrentOperator
) -> dict[str, Any]:
    filters = segments.parse_filter(data.filters)
    segment = await segments.save_segment(session, viewer, data.name, filters)
    return {"id": segment.id, "name": segment.name, "filters": segment.filters}


@router.get("/ops/surveys", summary="Every survey with its result (the NPS trend)")
async def survey_list(session: SessionDep, viewer: CurrentOperator) -> dict[str, Any]:
    return {
        "surveys": [
            {
                "id": survey.id,
                "title": survey.title,
                "audience": survey.audience,
                "opens_at": survey.opens_at.isoformat(),
                "closes_at": survey.closes_at.isoformat(),
                "result": _nps(result),
            }
            for survey, result in await nps.trend(session)
        ]
    }


@router.post("/ops/surveys", status_code=201, summary="Create an NPS survey")
async def survey_create(
    data: nps.SurveyIn, session: SessionDep, viewer: CurrentOperator
) -> dict[str, Any]:
    survey = await nps.create_survey(session, viewer, data)
    return {"id": survey.id, "title": survey.title}


@router.get("/ops/surveys/{survey_id}/results", summary="NPS, margin of error and breakdowns")
async def survey_results(
    survey_id: int, session: SessionDep, viewer: CurrentOperator
) -> dict[str, Any]:
    result = await nps.results(session, survey_id)
    return {
        "id": result.survey.id,
        "title": result.survey.title,
        "result": _nps(result.result),
        "by_rank": [{"label": b.label, **_nps(b.result)} for b in result.by_rank],
        "by_ambassador_status": [
            {"label": b.label, **_nps(b.result)} for b in result.by_ambassador
        ],
        "by_segment": [{"label": b.label, **_nps(b.result)} for b in result.by_segment],
    }


@router.post("/surveys/{survey_id}/responses", status_code=201, summary="Answer a survey")
async def survey_answer(
    survey_id: int, data: nps.AnswerIn, session: SessionDep, viewer: CurrentMember
) -> dict[str, Any]:
    response = await nps.answer(session, viewer, survey_id, data)
    return {"id": response.id, "score": response.score, "category": response.category}
