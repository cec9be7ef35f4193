"""Points pages: my points, leaderboards, the guide, the profile section, and admin pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app.accounts.deps import CurrentAdmin, CurrentMember, OptionalMember, SessionDep
from app.accounts.web import add_profile_section
from app.config import get_settings
from app.kit import clock
from app.kit.errors import Invalid, KizunaError, NotFound
from app.kit.flash import flash
from app.kit.forms import read_form, validate
from app.kit.i18n import gettext as _
from app.kit.routing import Router
from app.kit.security import new_token
from app.kit.templating import environment, is_htmx, render
from app.models import Member, PointRule
from app.points import charts, policy, queries, service
from app.points.ladder import badge_html, current_ladder, rank_badge
from app.points.middleware import RANK_COOKIE, RANK_COOKIE_MAX_AGE
from app.points.schemas import AdjustmentIn, RankIn, RuleIn

router = Router(include_in_schema=False)
environment().globals["rank_badge"] = rank_badge
environment().globals["rank_badge_of"] = badge_html
environment().globals["kind_label"] = policy.kind_label


def _before(request: Request) -> int | None:
    raw = request.query_params.get("before", "")
    if not raw:
        return None
    if not raw.isdigit():
        raise Invalid(_("This page link is not valid."), field="before")
    return int(raw)


# --- the profile section ----------------------------------------------------------------------


async def profile_points(request: Request, session: AsyncSession, member: Member) -> dict[str, Any]:
    ladder = current_ladder()
    figures = await queries.profile_figures(session, member.id)
    return {
        "standing": queries.standing(member, ladder),
        "weekly_chart": charts.weekly_bars(figures.weeks, label=_("Points over the last 12 weeks")),
        "calendar": charts.activity_calendar(
            figures.days, today=clock.community_day(), label=_("Activity over the last year")
        ),
        "calendar_legend": charts.legend(),
        "active_days": len(figures.days),
        "breakdown": figures.breakdown,
    }


add_profile_section("points/_profile.html", profile_points)


# --- member pages -----------------------------------------------------------------------------


@router.get("/points")
async def my_points(request: Request, session: SessionDep, viewer: CurrentMember) -> Response:
    rows, next_before = await queries.ledger_page(session, viewer.id, before=_before(request))
    context: dict[str, Any] = {"rows": rows, "next_before": next_before}
    if is_htmx(request) and request.query_params.get("before"):
        return render(request, "points/_ledger_rows.html", context)
    context["standing"] = queries.standing(viewer, current_ladder())
    return render(request, "points/mine.html", context)


@router.get("/leaderboard")
async def leaderboard(request: Request, session: SessionDep, viewer: OptionalMember) -> Response:
    period = request.query_params.get("period", "all")
    exclude_staff = request.query_params.get("staff", "include") == "exclude"
    board = await queries.leaderboard(
        session,
        period,
        exclude_staff=exclude_staff,
        after=request.query_params.get("after"),
        viewer=viewer,
    )
    context = {"board": board, "exclude_staff": exclude_staff, "period": period}
    if is_htmx(request) and request.query_params.get("after"):
        return render(request, "points/_board_rows.html", context)
    return render(request, "points/leaderboard.html", context)


@router.post("/points/celebrated")
async def celebrated(viewer: CurrentMember) -> Response:
    """A page celebrated a rank-up live: remember the rank the way a page load would, so the
    next page does not celebrate it a second time."""
    response = Response(status_code=204)
    rank = current_ladder().of_member(viewer)
    if rank is not None:
        response.set_cookie(
            RANK_COOKIE,
            f"{viewer.id}.{rank.id}",
            max_age=RANK_COOKIE_MAX_AGE,
            path="/",
            httponly=True,
            samesite="lax",
            secure=get_settings().secure_cookies,
        )
    return response


@router.get("/points/guide")
async def guide(request: Request, session: SessionDep) -> Response:
    return render(
        request,
        "points/guide.html",
        {"rules": await queries.rules(session, enabled_only=True), "ladder": current_ladder()},
    )


# --- admin: rules -------------------------------------------------------------------------------


def _rule_form(form: dict[str, str]) -> dict[str, Any]:
    return {
        "actor_points": form.get("actor_points", "0") or "0",
        "recipient_points": form.get("recipient_points", "0") or "0",
        "daily_cap": form.get("daily_cap") or None,
        "enabled": form.get("enabled") == "on",
    }


async def _rules_page(
    request: Request,
    session: AsyncSession,
    *,
    errors: dict[str, dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    rules = await queries.rules(session)
    used = {rule.verb for rule in rules}
    return render(
        request,
        "points/admin_rules.html",
        {
            "rules": rules,
            "unused_verbs": [verb for verb in policy.payable_verbs() if verb not in used],
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/admin/points")
async def admin_rules(request: Request, session: SessionDep, viewer: CurrentAdmin) -> Response:
    return await _rules_page(request, session)


@router.post("/admin/points/rules")
async def admin_save_rule(request: Request, session: SessionDep, viewer: CurrentAdmin) -> Response:
    form = await read_form(request)
    verb = form.get("verb", "")
    data, errors = validate(RuleIn, _rule_form(form))
    if data is not None:
        try:
            await service.save_rule(session, viewer, verb, data)
        except KizunaError as exc:
            errors = {exc.field or "form": str(exc.message)}
    if errors or data is None:
        return await _rules_page(request, session, errors={verb: errors}, status_code=422)
    response = RedirectResponse("/admin/points", status_code=303)
    flash(response, _("The rule was saved. It applies from now on; past points stay as paid."))
    return response


# --- admin: ranks ---------------------------------------------------------------------------------


async def _ranks_page(
    request: Request,
    session: AsyncSession,
    *,
    errors: dict[str, dict[str, str]] | None = None,
    forms: dict[str, dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    ladder = await queries.ladder(session)
    return render(
        request,
        "points/admin_ranks.html",
        {"ranks": ladder.ranks, "errors": errors or {}, "forms": forms or {}},
        status_code=status_code,
    )


_RANK_FIELDS = ("name_en", "name_ja", "threshold", "colour", "badge", "benefits_en", "benefits_ja")


@router.get("/admin/ranks")
async def admin_ranks(request: Request, session: SessionDep, viewer: CurrentAdmin) -> Response:
    return await _ranks_page(request, session)


@router.post("/admin/ranks")
async def admin_create_rank(
    request: Request, session: SessionDep, viewer: CurrentAdmin
) -> Response:
    return await _save_rank(request, session, viewer, None)


@router.post("/admin/ranks/{rank_id}")
async def admin_update_rank(
    request: Request, rank_id: int, session: SessionDep, viewer: CurrentAdmin
) -> Response:
    return await _save_rank(request, session, viewer, rank_id)


async def _save_rank(
    request: Request, session: AsyncSession, viewer: Member, rank_id: int | None
) -> Response:
    form = await read_form(request)
    fields = {key: form.get(key, "") for key in _RANK_FIELDS}
    data, errors = validate(RankIn, fields)
    if data is not None:
        try:
            if rank_id is None:
                await service.create_rank(session, viewer, data)
            else:
                await service.update_rank(session, viewer, rank_id, data)
        except NotFound:
            raise
        except KizunaError as exc:
            errors = {exc.field or "form": str(exc.message)}
    key = str(rank_id) if rank_id is not None else "new"
    if errors or data is None:
        return await _ranks_page(
            request, session, errors={key: errors}, forms={key: fields}, status_code=422
        )
    response = RedirectResponse("/admin/ranks", status_code=303)
    flash(response, _("The rank ladder was saved. Members' ranks follow it at once."))
    return response


@router.post("/admin/ranks/{rank_id}/delete")
async def admin_delete_rank(
    request: Request, rank_id: int, session: SessionDep, viewer: CurrentAdmin
) -> Response:
    await service.delete_rank(session, viewer, rank_id)
    response = RedirectResponse("/admin/ranks", status_code=303)
    flash(response, _("The rank was deleted."))
    return response


# --- admin: adjust a member's points ------------------------------------------------------------


def _adjust_page(
    request: Request,
    form: dict[str, str],
    errors: dict[str, str],
    *,
    status_code: int = 200,
) -> Response:
    form = {**form, "request_id": new_token(12)}
    return render(
        request,
        "points/admin_adjust.html",
        {"form": form, "errors": errors},
        status_code=status_code,
    )


@router.get("/admin/points/adjust")
async def admin_adjust_page(request: Request, viewer: CurrentAdmin) -> Response:
    return _adjust_page(request, {"handle": request.query_params.get("handle", "")}, {})


@router.post("/admin/points/adjust")
async def admin_adjust(request: Request, session: SessionDep, viewer: CurrentAdmin) -> Response:
    form = await read_form(request)
    errors: dict[str, str] = {}
    member: Member | None = None
    try:
        member = await queries.visible_member(session, form.get("handle", "").lstrip("@"))
    except NotFound:
        errors["handle"] = _("No member has this handle.")
    data, field_errors = validate(
        AdjustmentIn,
        {
            "member_id": member.id if member else 1,
            "amount": form.get("amount", ""),
            "reason": form.get("reason", ""),
        },
    )
    errors.update(field_errors)
    request_id = form.get("request_id", "")
    if not (8 <= len(request_id) <= 40):
        errors["form"] = _("Your form expired. Reload the page and try again.")
    if errors or data is None or member is None:
        return _adjust_page(request, form, errors, status_code=422)
    await service.adjust_points(
        session, viewer, member, data.amount, data.reason, request_id=request_id
    )
    response = RedirectResponse(f"/u/{member.handle}", status_code=303)
    flash(
        response,
        _(
            "%(name)s's points were adjusted by %(amount)s.",
            name=member.display_name,
            amount=f"{data.amount:+d}",
        ),
    )
    return response


def rule_label(rule: PointRule) -> str:
    return policy.kind_label(rule.verb)


environment().globals["rule_label"] = rule_label
