"""Operator analytics pages (/ops, operators and admins only) and the member-facing survey."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app.accounts.deps import CurrentMember, CurrentOperator, SessionDep
from app.analytics import (
    advocates,
    ambassadors,
    charts,
    exports,
    imports,
    metrics,
    nps,
    policy,
    queries,
    segments,
    service,
)
from app.campaigns import queries as campaign_queries
from app.kit import clock
from app.kit.errors import Invalid, NotFound
from app.kit.flash import flash
from app.kit.forms import read_form, validate
from app.kit.i18n import gettext as _
from app.kit.routing import Router
from app.kit.templating import render
from app.models import Rank

router = Router(include_in_schema=False)
MAX_IMPORT_BYTES = 5 * 1024 * 1024
# Ask-fatigue: how many campaigns asked and were entered by a member over this many days
# (the campaigns' own default window; the member page can change it).
FATIGUE_DAYS = 30


def _int(value: str | None, field: str) -> int | None:
    if value in (None, ""):
        return None
    assert value is not None
    if not value.isdigit():
        raise Invalid(_("Enter a whole number."), field=field)
    return int(value)


def _fatigue_days(request: Request) -> int:
    days = _int(request.query_params.get("fatigue_days"), "fatigue_days")
    if days is None:
        return FATIGUE_DAYS
    if not 1 <= days <= 365:
        raise Invalid(_("Choose between 1 and 365 days."), field="fatigue_days")
    return days


async def _ranks(session: SessionDep) -> list[Rank]:
    return list((await session.execute(select(Rank).order_by(Rank.threshold))).scalars())


def _range(request: Request) -> queries.DateRange:
    return queries.parse_range(request.query_params.get("start"), request.query_params.get("end"))


def _line(table: queries.Table, columns: list[str], names: list[str], prev: set[str]) -> Any:
    index = {name: i for i, name in enumerate(table.header)}
    labels = [str(row[0]) for row in table.rows]
    series = [
        charts.Series(
            name,
            [row[index[column]] for row in table.rows],
            "series-prev" if column in prev else "",
        )
        for column, name in zip(columns, names, strict=True)
    ]
    return charts.line_chart(table.title, labels, series)


@router.get("/ops")
async def dashboard(request: Request, session: SessionDep, viewer: CurrentOperator) -> Response:
    rng = _range(request)
    data = await queries.dashboard(session, rng)
    tables = data.tables
    ranks = await queries.rank_table(session)
    top_views, top_likes = await queries.top_content(session, rng)
    chart_svgs = {
        "active": _line(
            tables["active"],
            ["dau", "wau", "mau", "previous_dau"],
            [_("DAU"), _("WAU"), _("MAU"), _("DAU, previous period")],
            {"previous_dau"},
        ),
        "content": _line(
            tables["content"],
            ["topics", "posts", "likes", "new_members", "previous_posts"],
            [_("Topics"), _("Posts"), _("Likes"), _("New members"), _("Posts, previous period")],
            {"previous_posts"},
        ),
        "questions": _line(
            tables["questions"],
            ["asked", "answered", "previous_answered"],
            [_("Asked"), _("Answered"), _("Answered, previous period")],
            {"previous_answered"},
        ),
        "flags": _line(
            tables["flags"],
            ["flags_raised", "flags_resolved", "previous_flags_raised"],
            [_("Raised"), _("Resolved"), _("Raised, previous period")],
            {"previous_flags_raised"},
        ),
        "ranks": charts.bar_chart(
            ranks.title, [str(row[0]) for row in ranks.rows], [row[1] for row in ranks.rows]
        ),
    }
    return render(
        request,
        "analytics/dashboard.html",
        {
            "rng": rng,
            "figures": data.figures,
            "charts": chart_svgs,
            "tables": tables,
            "ranks": ranks,
            "top_views": top_views,
            "top_likes": top_likes,
        },
    )


@router.get("/ops/retention")
async def retention(request: Request, session: SessionDep, viewer: CurrentOperator) -> Response:
    rng = _range(request)
    unit = request.query_params.get("unit", "month")
    if unit not in ("week", "month"):
        raise Invalid(_("Choose one of the offered values."), field="unit")
    cohort = await queries.cohort_table(session, rng, unit)
    churn = await queries.churn_table(session, rng)
    churn_chart = charts.line_chart(
        churn.title,
        [str(row[0]) for row in churn.rows],
        [charts.Series(_("Churn (%)"), [row[3] for row in churn.rows])],
    )
    return render(
        request,
        "analytics/retention.html",
        {"rng": rng, "unit": unit, "cohort": cohort, "churn": churn, "churn_chart": churn_chart},
    )


@router.get("/ops/scores")
async def scores(request: Request, session: SessionDep, viewer: CurrentOperator) -> Response:
    rng = _range(request)
    deciles = await queries.decile_table(session, rng)
    kinds, rfm = await queries.distribution_tables(session)
    criteria = await ambassadors.load_criteria(session)
    decile_chart = charts.bar_chart(
        _("Share of posts by engagement decile (%)"),
        [_("Decile %(n)s", n=row[0]) for row in deciles.rows],
        [row[2] for row in deciles.rows],
    )
    return render(
        request,
        "analytics/scores.html",
        {
            "rng": rng,
            "deciles": deciles,
            "decile_chart": decile_chart,
            "kinds": kinds,
            "kinds_chart": charts.bar_chart(
                kinds.title, [row[0] for row in kinds.rows], [row[1] for row in kinds.rows]
            ),
            "rfm": rfm,
            "rfm_chart": charts.bar_chart(
                rfm.title, [row[0] for row in rfm.rows], [row[1] for row in rfm.rows]
            ),
            "weights": criteria.weights,
            "decay": criteria.monthly_decay,
            "rfm_bounds": {
                "recency": metrics.RECENCY_DAYS,
                "frequency": metrics.FREQUENCY_DAYS,
                "monetary": metrics.MONETARY_POINTS,
            },
            "min_signal": advocates.MIN_SIGNAL,
        },
    )


@router.get("/ops/export/{name}.csv")
async def export_chart(
    name: str, request: Request, session: SessionDep, viewer: CurrentOperator
) -> Response:
    if name not in queries.TABLE_NAMES:
        raise NotFound()
    rng = _range(request)
    unit = request.query_params.get("unit", "month")
    if unit not in ("week", "month"):
        raise Invalid(_("Choose one of the offered values."), field="unit")
    table = await queries.table_by_name(session, name, rng, unit)
    return exports.csv_response(
        f"{name}-{rng.start.isoformat()}-{rng.end.isoformat()}.csv", table.header, table.rows
    )


# --- members -----------------------------------------------------------------------------------


def _member_filters(request: Request) -> tuple[segments.MemberFilter, str, int | None]:
    params = dict(request.query_params)
    data = segments.parse_filter(params)
    sort = params.get("sort") or "engagement"
    return data, sort, _int(params.get("segment_id"), "segment_id")


@router.get("/ops/members")
async def members(request: Request, session: SessionDep, viewer: CurrentOperator) -> Response:
    data, sort, segment_id = _member_filters(request)
    page = await queries.member_page(
        session,
        data,
        sort=sort,
        cursor=request.query_params.get("cursor"),
        segment_id=segment_id,
    )
    today = clock.community_day()
    saved = await segments.list_segments(session)
    counts = {
        segment.id: await segments.count_members(session, segments.segment_filter(segment), today)
        for segment in saved
    }
    ranks = await _ranks(session)
    query_args = {k: v for k, v in request.query_params.items() if k != "cursor" and v}
    fatigue = await campaign_queries.fatigue_counts(
        session, [row.member.id for row in page.rows], FATIGUE_DAYS
    )
    return render(
        request,
        "analytics/members.html",
        {
            "page": page,
            "fatigue": fatigue,
            "fatigue_days": FATIGUE_DAYS,
            "filters": data,
            "sort": sort,
            "segment_id": segment_id,
            "segments": saved,
            "segment_counts": counts,
            "ranks": ranks,
            "query_args": query_args,
            "advocate_labels": advocates.LABELS,
            "rfm_labels": queries.RFM_LABELS,
            "status_labels": ambassadors.STATUS_LABELS,
            "sorts": queries.SORTS,
        },
    )


@router.get("/ops/members.csv")
async def members_csv(request: Request, session: SessionDep, viewer: CurrentOperator) -> Response:
    data, _sort, segment_id = _member_filters(request)
    rows = await queries.all_member_rows(session, data, segment_id)
    header = [
        "member_id",
        "handle",
        "display_name",
        "email",
        "joined",
        "rank_id",
        "lifetime_points",
        "last_active_day",
        "engagement",
        "reach",
        "decile",
        "rfm_group",
        "r",
        "f",
        "m",
        "advocate_type",
        "detection",
        "ambassador_status",
        "latest_nps",
        "external_id",
        "purchase_count",
        "purchase_total",
    ]
    body = [
        [
            row.member.id,
            row.member.handle,
            row.member.display_name,
            row.member.email,
            row.member.created_at,
            row.member.rank_id,
            row.member.lifetime_points,
            row.score.last_active_day if row.score else None,
            row.engagement,
            row.score.reach if row.score else 0,
            row.score.decile if row.score else None,
            row.score.rfm_group if row.score else "",
            row.score.r_score if row.score else None,
            row.score.f_score if row.score else None,
            row.score.m_score if row.score else None,
            row.score.advocate_type if row.score else "",
            row.score.detection if row.score else "",
            row.score.ambassador_status if row.score else "",
            row.score.latest_nps if row.score else None,
            row.external.external_id if row.external else None,
            row.external.purchase_count if row.external else None,
            (row.external.purchase_total_minor / 100)
            if row.external and row.external.purchase_total_minor is not None
            else None,
        ]
        for row in rows
    ]
    return exports.csv_response("members.csv", header, body)


@router.get("/ops/members/{member_id}")
async def member_page(
    member_id: int, request: Request, session: SessionDep, viewer: CurrentOperator
) -> Response:
    before = _int(request.query_params.get("before"), "before")
    fatigue_days = _fatigue_days(request)
    detail = await queries.member_detail(session, member_id, before)
    fatigue = await campaign_queries.fatigue_counts(session, [detail.member.id], fatigue_days)
    return render(
        request,
        "analytics/member.html",
        {
            "d": detail,
            "fatigue": fatigue[detail.member.id],
            "fatigue_days": fatigue_days,
            "advocate_labels": advocates.LABELS,
            "rfm_labels": queries.RFM_LABELS,
            "status_labels": ambassadors.STATUS_LABELS,
            "detection_labels": ambassadors.DETECTION_LABELS,
            "errors": {},
        },
    )


@router.post("/ops/members/{member_id}/ambassador")
async def review_ambassador(
    member_id: int, request: Request, session: SessionDep, viewer: CurrentOperator
) -> Response:
    form = await read_form(request)
    await ambassadors.review(
        session, viewer, member_id, form.get("decision", ""), form.get("note", "")
    )
    response = RedirectResponse(f"/ops/members/{member_id}", status_code=303)
    flash(response, _("The ambassador status was updated."))
    return response


@router.get("/ops/ambassadors")
async def ambassador_page(
    request: Request, session: SessionDep, viewer: CurrentOperator
) -> Response:
    lists = await queries.ambassador_lists(session)
    return render(
        request,
        "analytics/ambassadors.html",
        {
            "lists": lists,
            "criteria": await ambassadors.load_criteria(session),
            "describe": ambassadors.describe,
            "advocate_labels": advocates.LABELS,
        },
    )


@router.post("/ops/recompute")
async def recompute(request: Request, session: SessionDep, viewer: CurrentOperator) -> Response:
    count = await service.recompute_all(session)
    response = RedirectResponse("/ops/ambassadors", status_code=303)
    flash(response, _("Scores recomputed for %(n)s members.", n=count))
    return response


@router.get("/ops/settings")
async def settings_page(request: Request, session: SessionDep, viewer: CurrentOperator) -> Response:
    criteria = await ambassadors.load_criteria(session)
    return render(
        request,
        "analytics/settings.html",
        {
            "criteria": criteria,
            "defaults": policy.DEFAULT_WEIGHTS,
            "can_edit": policy.can_edit_settings(viewer),
            "errors": {},
        },
    )


def _settings_data(form: dict[str, str]) -> dict[str, Any]:
    weights: dict[str, str] = {
        key: form[f"w:{key}"] for key in policy.DEFAULT_WEIGHTS if form.get(f"w:{key}", "") != ""
    }
    return {
        "top_deciles": form.get("top_deciles", ""),
        "active_days": form.get("active_days", ""),
        "min_reach": form.get("min_reach", ""),
        "exclude_detractors": form.get("exclude_detractors") == "on",
        "badge_enabled": form.get("badge_enabled") == "on",
        "badge_label": form.get("badge_label", ""),
        "monthly_decay_percent": form.get("monthly_decay_percent", ""),
        "weights": weights,
    }


@router.post("/ops/settings")
async def save_settings(request: Request, session: SessionDep, viewer: CurrentOperator) -> Response:
    policy.check_edit_settings(viewer)
    form = await read_form(request)
    data, errors = validate(service.SettingsIn, _settings_data(form))
    if data is None:
        return render(
            request,
            "analytics/settings.html",
            {
                "criteria": await ambassadors.load_criteria(session),
                "defaults": policy.DEFAULT_WEIGHTS,
                "can_edit": True,
                "errors": errors,
            },
            status_code=422,
        )
    await service.update_settings(session, viewer, data)
    response = RedirectResponse("/ops/settings", status_code=303)
    flash(response, _("Analytics settings saved; scores recomputed."))
    return response


@router.post("/ops/segments")
async def save_segment(request: Request, session: SessionDep, viewer: CurrentOperator) -> Response:
    form = await read_form(request)
    data = segments.parse_filter(form)
    segment = await segments.save_segment(session, viewer, form.get("name", ""), data)
    response = RedirectResponse(f"/ops/members?segment_id={segment.id}", status_code=303)
    flash(response, _("Segment saved."))
    return response


@router.post("/ops/segments/{segment_id}/delete")
async def delete_segment(
    segment_id: int, request: Request, session: SessionDep, viewer: CurrentOperator
) -> Response:
    await segments.delete_segment(session, segment_id)
    response = RedirectResponse("/ops/members", status_code=303)
    flash(response, _("Segment deleted."))
    return response


# --- import ------------------------------------------------------------------------------------


@router.get("/ops/import")
async def import_page(request: Request, viewer: CurrentOperator) -> Response:
    return render(request, "analytics/import.html", {"report": None, "errors": {}})


@router.post("/ops/import")
async def import_members(
    request: Request, session: SessionDep, viewer: CurrentOperator
) -> Response:
    form = await request.form()
    upload = form.get("file")
    text = form.get("csv_text")
    content = ""
    if upload is not None and not isinstance(upload, str):
        raw = await upload.read(MAX_IMPORT_BYTES + 1)
        if len(raw) > MAX_IMPORT_BYTES:
            raise Invalid(_("The file is larger than 5 MB."), field="file")
        try:
            content = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise Invalid(_("Save the file as UTF-8 CSV and try again."), field="file") from exc
    if not content.strip() and isinstance(text, str):
        content = text
    if not content.strip():
        return render(
            request,
            "analytics/import.html",
            {"report": None, "errors": {"file": _("Choose a CSV file or paste its text.")}},
            status_code=422,
        )
    try:
        report = await imports.import_members(session, viewer, content)
    except Invalid as exc:
        return render(
            request,
            "analytics/import.html",
            {"report": None, "errors": {"file": str(exc.message)}},
            status_code=422,
        )
    return render(request, "analytics/import.html", {"report": report, "errors": {}})


# --- surveys (operators) -----------------------------------------------------------------------


async def _survey_list_context(session: SessionDep) -> dict[str, Any]:
    trend = await nps.trend(session)
    closed = [(s, r) for s, r in trend if r.nps is not None]
    return {
        "trend": trend,
        "trend_chart": charts.line_chart(
            _("NPS across surveys"),
            [survey.title for survey, _r in closed],
            [charts.Series(_("NPS"), [r.nps for _s, r in closed])],
        )
        if closed
        else None,
        "segments": await segments.list_segments(session),
        "ranks": await _ranks(session),
        "audience_labels": nps.AUDIENCE_LABELS,
        "now": clock.now(),
    }


@router.get("/ops/surveys")
async def surveys(request: Request, session: SessionDep, viewer: CurrentOperator) -> Response:
    today = clock.community_day()
    context = await _survey_list_context(session)
    context.update(
        form={
            "reason_question": _("What is the main reason for your score?"),
            "opens_on": today.isoformat(),
            "closes_on": today.isoformat(),
        },
        errors={},
    )
    return render(request, "analytics/surveys.html", context)


@router.post("/ops/surveys")
async def create_survey(request: Request, session: SessionDep, viewer: CurrentOperator) -> Response:
    form = await read_form(request)
    data, errors = validate(nps.SurveyIn, nps.survey_form_data(form))
    if data is not None:
        try:
            survey = await nps.create_survey(session, viewer, data)
        except Invalid as exc:
            errors = {exc.field or "form": str(exc.message)}
        else:
            response = RedirectResponse(f"/ops/surveys/{survey.id}", status_code=303)
            flash(response, _("Survey created."))
            return response
    context = await _survey_list_context(session)
    context.update(form=form, errors=errors)
    return render(request, "analytics/surveys.html", context, status_code=422)


@router.get("/ops/surveys/{survey_id}")
async def survey_results(
    survey_id: int, request: Request, session: SessionDep, viewer: CurrentOperator
) -> Response:
    result = await nps.results(session, survey_id)
    category = request.query_params.get("category", "")
    q = request.query_params.get("q", "")
    rows, next_before = await nps.reasons(
        session,
        survey_id,
        category=category,
        q=q,
        before=_int(request.query_params.get("before"), "before"),
    )
    distribution = charts.bar_chart(
        _("Distribution of scores"),
        [str(score) for score in range(11)],
        list(result.result.distribution),
    )
    return render(
        request,
        "analytics/survey.html",
        {
            "r": result,
            "distribution": distribution,
            "reasons": rows,
            "next_before": next_before,
            "category": category,
            "q": q,
            "usable": metrics.NPS_USABLE_SAMPLE,
            "is_open": nps.is_open(result.survey),
            "audience_labels": nps.AUDIENCE_LABELS,
        },
    )


@router.post("/ops/surveys/{survey_id}/close")
async def close_survey(
    survey_id: int, request: Request, session: SessionDep, viewer: CurrentOperator
) -> Response:
    await nps.close_survey(session, survey_id)
    response = RedirectResponse(f"/ops/surveys/{survey_id}", status_code=303)
    flash(response, _("Survey closed."))
    return response


@router.get("/ops/surveys/{survey_id}/responses.csv")
async def survey_csv(
    survey_id: int, request: Request, session: SessionDep, viewer: CurrentOperator
) -> Response:
    survey = await nps.get_survey(session, survey_id)
    rows: list[list[Any]] = []
    before: int | None = None
    while True:
        page, before = await nps.reasons(session, survey_id, before=before)
        rows.extend(
            [r.id, m.id, m.handle, r.score, r.category, r.reason, *r.extra_answers, r.created_at]
            for r, m in page
        )
        if before is None:
            break
    header = [
        "response_id",
        "member_id",
        "handle",
        "score",
        "category",
        "reason",
        *[f"extra_{i + 1}" for i in range(len(survey.extra_questions))],
        "answered_at",
    ]
    return exports.csv_response(f"survey-{survey_id}.csv", header, rows)


# --- surveys (members) -------------------------------------------------------------------------


@router.get("/surveys")
async def my_surveys(request: Request, session: SessionDep, viewer: CurrentMember) -> Response:
    open_surveys = await nps.open_surveys_for(session, viewer)
    return render(request, "analytics/my_surveys.html", {"surveys": open_surveys})


@router.get("/surveys/{survey_id}")
async def survey_form(
    survey_id: int, request: Request, session: SessionDep, viewer: CurrentMember
) -> Response:
    survey = await nps.survey_for_member(session, survey_id, viewer)
    mine = await nps.answered(session, survey.id, viewer.id)
    return render(
        request,
        "analytics/answer.html",
        {"survey": survey, "mine": mine, "open": nps.is_open(survey), "form": {}, "errors": {}},
    )


@router.post("/surveys/{survey_id}")
async def answer_survey(
    survey_id: int, request: Request, session: SessionDep, viewer: CurrentMember
) -> Response:
    survey = await nps.survey_for_member(session, survey_id, viewer)
    form = await read_form(request)
    data, errors = validate(
        nps.AnswerIn,
        {
            "score": form.get("score", ""),
            "reason": form.get("reason", ""),
            "extra_answers": nps.extra_answers_from_form(form, len(survey.extra_questions)),
        },
    )
    if data is None:
        return render(
            request,
            "analytics/answer.html",
            {"survey": survey, "mine": None, "open": True, "form": form, "errors": errors},
            status_code=422,
        )
    await nps.answer(session, viewer, survey_id, data)
    response = RedirectResponse(f"/surveys/{survey_id}", status_code=303)
    flash(response, _("Thank you for your answer!"))
    return response
