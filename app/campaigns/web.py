"""Campaign, reward and product pages for members, and their management pages for operators.

Routes stay thin: forms become schemas, services write, queries read (with the viewer, so an
unseen campaign answers 404 here exactly as in the API). A refused write answers with a 4xx
page so the request's transaction rolls back whatever was half done.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app.accounts.deps import CurrentMember, CurrentOperator, OptionalMember, SessionDep
from app.campaigns import analytics, queries, reviews, rewards, service
from app.campaigns.labels import label
from app.campaigns.schemas import (
    MAX_PHOTOS,
    CampaignIn,
    DrawIn,
    EntryIn,
    ProductIn,
    ReviewIn,
    RewardIn,
)
from app.kit.errors import Conflict, Invalid, KizunaError, NotFound
from app.kit.flash import flash
from app.kit.forms import validate
from app.kit.i18n import gettext as _
from app.kit.routing import Router
from app.kit.templating import environment, is_htmx, render
from app.models import (
    Audience,
    Campaign,
    CampaignKind,
    CampaignState,
    Member,
    QuestionKind,
    RedemptionStatus,
    Selection,
    UploadPurpose,
)
from app.uploads import service as uploads

router = Router(include_in_schema=False)
environment().globals["campaign_label"] = label
QUESTION_ROWS = 6
FORM_LIMITS: dict[str, Any] = {"max_files": MAX_PHOTOS + 1, "max_fields": 200}
FATIGUE_DAYS = 30


def _cursor(request: Request) -> int | None:
    value = request.query_params.get("cursor", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


async def _form(request: Request) -> FormData:
    return await request.form(**FORM_LIMITS)


def _texts(form: FormData) -> dict[str, str]:
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _files(form: FormData, name: str) -> list[UploadFile]:
    return [
        item
        for item in form.getlist(name)
        if isinstance(item, UploadFile) and (item.filename or (item.size or 0) > 0)
    ]


async def _store_images(
    session: SessionDep, viewer: Member, files: list[UploadFile], field: str
) -> list[int]:
    stored: list[int] = []
    for file in files:
        await uploads.check_may_upload(session, viewer)
        try:
            data = await uploads.read_image_file(file)
            upload = await uploads.store_image(session, viewer, data, purpose=UploadPurpose.post)
        except Invalid as exc:
            raise Invalid(exc.message, field=field) from None
        stored.append(upload.id)
    return stored


def _none_if_blank(value: str | None) -> str | None:
    return value if value not in (None, "") else None


# --- members: campaigns --------------------------------------------------------------------------


@router.get("/campaigns")
async def campaign_list(request: Request, session: SessionDep, viewer: OptionalMember) -> Response:
    if await service.due_campaign_ids(session):
        service.advance_after_commit(session)
    q = request.query_params.get("q", "")[:100]
    items, next_cursor = await queries.list_campaigns(session, viewer, q=q, cursor=_cursor(request))
    context = {"items": items, "next_cursor": next_cursor, "q": q}
    template = "campaigns/_items.html" if is_htmx(request) else "campaigns/list.html"
    return render(request, template, context)


async def _detail_context(
    session: SessionDep, viewer: Member | None, campaign: Campaign, locked: bool
) -> dict[str, Any]:
    covers = await queries.upload_urls(session, [campaign.cover_upload_id])
    context: dict[str, Any] = {
        "campaign": campaign,
        "locked": locked,
        "cover_url": covers.get(campaign.cover_upload_id or 0),
        "questions": [],
        "entry": None,
        "entry_photos": [],
        "gallery": [],
        "may_enter": False,
        "rank_name": await queries.rank_name(session, campaign.audience_rank_id),
        "form": {},
        "errors": {},
    }
    if locked:
        return context
    context["questions"] = await queries.questions(session, campaign.id)
    if viewer is not None:
        entry = await queries.my_entry(session, campaign.id, viewer.id)
        context["entry"] = entry
        if entry is not None:
            context["entry_photos"] = (await queries.photo_urls(session, [entry.id])).get(
                entry.id, []
            )
        context["may_enter"] = (
            entry is None and campaign.state == CampaignState.open and not campaign.is_full
        )
    if campaign.kind == CampaignKind.post:
        context["gallery"], context["gallery_cursor"] = await queries.entries(session, campaign.id)
    return context


@router.get("/campaigns/{campaign_id}")
async def campaign_page(
    request: Request, campaign_id: int, session: SessionDep, viewer: OptionalMember
) -> Response:
    campaign, locked = await queries.visible_campaign(session, viewer, campaign_id)
    if viewer is not None and not locked and not viewer.can_operate:
        # Views measure the audience's interest: staff checking the page do not count.
        service.record_view_after_commit(session, campaign.id, viewer.id)
    context = await _detail_context(session, viewer, campaign, locked)
    return render(request, "campaigns/detail.html", context)


@router.get("/campaigns/{campaign_id}/gallery")
async def campaign_gallery(
    request: Request, campaign_id: int, session: SessionDep, viewer: OptionalMember
) -> Response:
    campaign, locked = await queries.visible_campaign(session, viewer, campaign_id)
    if locked or campaign.kind != CampaignKind.post:
        raise NotFound()
    rows, next_cursor = await queries.entries(session, campaign.id, cursor=_cursor(request))
    return render(
        request,
        "campaigns/_gallery.html",
        {"campaign": campaign, "gallery": rows, "gallery_cursor": next_cursor},
    )


def _entry_data(form: FormData) -> dict[str, Any]:
    answers = {
        key.removeprefix("answer_"): value
        for key, value in _texts(form).items()
        if key.startswith("answer_")
    }
    return {"answers": answers, "body": _texts(form).get("body", "")}


@router.post("/campaigns/{campaign_id}/enter")
async def enter_campaign(
    request: Request, campaign_id: int, session: SessionDep, viewer: CurrentMember
) -> Response:
    campaign = await queries.open_campaign_for(session, viewer, campaign_id)
    form = await _form(request)
    raw = _entry_data(form)
    try:
        if campaign.kind == CampaignKind.post:
            raw["photo_upload_ids"] = await _store_images(
                session, viewer, _files(form, "photos")[:MAX_PHOTOS], "photos"
            )
        data, errors = validate(EntryIn, raw)
        if data is None:
            raise Invalid(next(iter(errors.values())), field=next(iter(errors)))
        await service.enter(session, campaign, viewer, data)
    except (Invalid, Conflict) as exc:
        context = await _detail_context(session, viewer, campaign, False)
        context["form"] = _texts(form)
        context["errors"] = {exc.field or "form": str(exc.message)}
        return render(request, "campaigns/detail.html", context, status_code=exc.status_code)
    response = RedirectResponse(f"/campaigns/{campaign.id}", status_code=303)
    flash(response, _("Thank you! Your entry is in."))
    return response


# --- members: rewards ----------------------------------------------------------------------------


async def _rewards_page(
    request: Request,
    session: SessionDep,
    viewer: Member | None,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    items = await rewards.catalogue(session, viewer)
    mine: list[Any] = []
    balance = None
    if viewer is not None:
        mine, _next = await rewards.redemptions(session, member_id=viewer.id)
        balance = await rewards.spendable(session, viewer.id)
    return render(
        request,
        "rewards/catalogue.html",
        {"items": items, "mine": mine, "balance": balance, "error": error},
        status_code=status_code,
    )


@router.get("/rewards")
async def reward_catalogue(
    request: Request, session: SessionDep, viewer: OptionalMember
) -> Response:
    return await _rewards_page(request, session, viewer)


@router.post("/rewards/{reward_id}/redeem")
async def redeem_reward(
    request: Request, reward_id: int, session: SessionDep, viewer: CurrentMember
) -> Response:
    try:
        await rewards.redeem(session, viewer, reward_id)
    except Conflict as exc:
        return await _rewards_page(
            request, session, viewer, error=str(exc.message), status_code=409
        )
    response = RedirectResponse("/rewards", status_code=303)
    flash(response, _("Redeemed! We will let you know when it is on its way."))
    return response


# --- members: products and reviews ---------------------------------------------------------------


@router.get("/products")
async def product_list(request: Request, session: SessionDep, viewer: OptionalMember) -> Response:
    items = await reviews.products(session)
    summaries = await reviews.summaries(session, [product.id for product in items])
    images = await queries.upload_urls(session, [product.image_upload_id for product in items])
    return render(
        request,
        "campaigns/products.html",
        {"items": items, "summaries": summaries, "images": images},
    )


async def _product_page(
    request: Request,
    session: SessionDep,
    viewer: Member | None,
    product_id: int,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    product = await reviews.visible_product(session, viewer, product_id)
    summary = (await reviews.summaries(session, [product.id]))[product.id]
    rows, next_cursor = await reviews.reviews(session, product.id, cursor=_cursor(request))
    images = await queries.upload_urls(session, [product.image_upload_id])
    mine = await reviews.my_review(session, product.id, viewer.id) if viewer else None
    if form is None:
        form = {"rating": str(mine.rating), "body": mine.body} if mine else {}
    return render(
        request,
        "campaigns/product.html",
        {
            "product": product,
            "summary": summary,
            "reviews": rows,
            "next_cursor": next_cursor,
            "image_url": images.get(product.image_upload_id or 0),
            "mine": mine,
            "form": form,
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/products/{product_id}")
async def product_page(
    request: Request, product_id: int, session: SessionDep, viewer: OptionalMember
) -> Response:
    return await _product_page(request, session, viewer, product_id)


@router.post("/products/{product_id}/review")
async def review_product(
    request: Request, product_id: int, session: SessionDep, viewer: CurrentMember
) -> Response:
    product = await reviews.visible_product(session, viewer, product_id)
    form = _texts(await request.form())
    data, errors = validate(
        ReviewIn, {"rating": form.get("rating", ""), "body": form.get("body", "")}
    )
    if data is None:
        return await _product_page(
            request, session, viewer, product.id, form=form, errors=errors, status_code=422
        )
    _review, created = await reviews.save_review(session, viewer, product, data)
    response = RedirectResponse(f"/products/{product.id}", status_code=303)
    flash(response, _("Thank you for your review!") if created else _("Your review was updated."))
    return response


# --- operators: campaigns ------------------------------------------------------------------------


def _campaign_form_data(form: dict[str, str]) -> dict[str, Any]:
    questions: list[dict[str, Any]] = []
    for index in range(QUESTION_ROWS):
        prompt = form.get(f"q{index}_prompt_en", "").strip()
        if not prompt:
            continue
        questions.append(
            {
                "kind": form.get(f"q{index}_kind", "text"),
                "prompt_en": prompt,
                "prompt_ja": form.get(f"q{index}_prompt_ja", ""),
                "choices": [
                    line.strip()
                    for line in form.get(f"q{index}_choices", "").splitlines()
                    if line.strip()
                ],
                "required": form.get(f"q{index}_required") == "on",
            }
        )
    data: dict[str, Any] = {
        key: form.get(key, "")
        for key in (
            "title_en",
            "title_ja",
            "description_en",
            "description_ja",
            "kind",
            "starts_at",
            "ends_at",
            "audience",
            "selection",
        )
    }
    for key in ("audience_rank_id", "audience_segment_id", "capacity", "fatigue_limit"):
        data[key] = _none_if_blank(form.get(key))
    data["fatigue_days"] = form.get("fatigue_days") or 30
    data["teaser"] = form.get("teaser") == "on"
    data["cover_upload_id"] = _none_if_blank(form.get("cover_upload_id"))
    data["questions"] = questions
    return data


def _form_of(campaign: Campaign, questions: list[Any]) -> dict[str, str]:
    form = {
        "title_en": campaign.title_en,
        "title_ja": campaign.title_ja,
        "description_en": campaign.description_en,
        "description_ja": campaign.description_ja,
        "kind": campaign.kind,
        "starts_at": campaign.starts_at.astimezone(_zone()).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": campaign.ends_at.astimezone(_zone()).strftime("%Y-%m-%dT%H:%M"),
        "audience": campaign.audience,
        "audience_rank_id": str(campaign.audience_rank_id or ""),
        "audience_segment_id": str(campaign.audience_segment_id or ""),
        "selection": campaign.selection,
        "capacity": str(campaign.capacity or ""),
        "fatigue_limit": "" if campaign.fatigue_limit is None else str(campaign.fatigue_limit),
        "fatigue_days": str(campaign.fatigue_days),
        "teaser": "on" if campaign.teaser else "",
        "cover_upload_id": str(campaign.cover_upload_id or ""),
    }
    for index, question in enumerate(questions):
        form[f"q{index}_kind"] = question.kind
        form[f"q{index}_prompt_en"] = question.prompt_en
        form[f"q{index}_prompt_ja"] = question.prompt_ja
        form[f"q{index}_choices"] = "\n".join(question.choices)
        form[f"q{index}_required"] = "on" if question.required else ""
    return form


def _zone() -> Any:
    from zoneinfo import ZoneInfo

    from app.kit.i18n import get_timezone

    return ZoneInfo(get_timezone())


async def _edit_page(
    request: Request,
    session: SessionDep,
    campaign: Campaign | None,
    form: dict[str, str],
    errors: dict[str, str],
    *,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "campaigns/manage.html",
        {
            "campaign": campaign,
            "form": form,
            "errors": errors,
            "ranks": await queries.ranks(session),
            "segments": await queries.segments(session),
            "kinds": [kind.value for kind in CampaignKind],
            "audiences": [audience.value for audience in Audience],
            "selections": [selection.value for selection in Selection],
            "question_kinds": [kind.value for kind in QuestionKind],
            "question_rows": QUESTION_ROWS,
        },
        status_code=status_code,
    )


@router.get("/ops/campaigns")
async def manage_list(request: Request, session: SessionDep, viewer: CurrentOperator) -> Response:
    items, next_cursor = await queries.all_campaigns(session, cursor=_cursor(request))
    return render(
        request, "campaigns/manage_list.html", {"items": items, "next_cursor": next_cursor}
    )


@router.get("/ops/campaigns/new")
async def new_campaign_page(
    request: Request, session: SessionDep, viewer: CurrentOperator
) -> Response:
    return await _edit_page(request, session, None, {"fatigue_days": "30"}, {})


async def _save_campaign(
    request: Request, session: SessionDep, viewer: Member, campaign: Campaign | None
) -> Response:
    form_data = await _form(request)
    form = _texts(form_data)
    try:
        covers = await _store_images(session, viewer, _files(form_data, "cover")[:1], "cover")
        if covers:
            form["cover_upload_id"] = str(covers[0])
        data, errors = validate(CampaignIn, _campaign_form_data(form))
        if data is None:
            return await _edit_page(request, session, campaign, form, errors, status_code=422)
        if campaign is None:
            campaign = await service.create_campaign(session, viewer, data)
        else:
            await service.update_campaign(session, viewer, campaign, data)
    except (Invalid, Conflict) as exc:
        return await _edit_page(
            request,
            session,
            campaign,
            form,
            {exc.field or "form": str(exc.message)},
            status_code=exc.status_code,
        )
    response = RedirectResponse(f"/ops/campaigns/{campaign.id}", status_code=303)
    flash(response, _("The campaign was saved."))
    return response


@router.post("/ops/campaigns/new")
async def create_campaign(
    request: Request, session: SessionDep, viewer: CurrentOperator
) -> Response:
    return await _save_campaign(request, session, viewer, None)


@router.get("/ops/campaigns/{campaign_id}")
async def manage_campaign(
    request: Request, campaign_id: int, session: SessionDep, viewer: CurrentOperator
) -> Response:
    campaign = await queries.managed_campaign(session, campaign_id)
    form = _form_of(campaign, await queries.questions(session, campaign.id))
    return await _edit_page(request, session, campaign, form, {})


@router.post("/ops/campaigns/{campaign_id}")
async def update_campaign(
    request: Request, campaign_id: int, session: SessionDep, viewer: CurrentOperator
) -> Response:
    campaign = await queries.managed_campaign(session, campaign_id, lock=True)
    return await _save_campaign(request, session, viewer, campaign)


@router.post("/ops/campaigns/{campaign_id}/state/{action}")
async def change_state(
    request: Request,
    campaign_id: int,
    action: str,
    session: SessionDep,
    viewer: CurrentOperator,
) -> Response:
    campaign = await queries.managed_campaign(session, campaign_id, lock=True)
    form = _texts(await request.form())
    messages = {
        "schedule": _("The campaign is scheduled."),
        "open": _("The campaign is open and its audience was told."),
        "close": _("The campaign is closed."),
        "draw": _("The winners were drawn."),
        "announce": _("The results were announced."),
    }
    if action not in messages:
        raise NotFound()
    try:
        if action == "schedule":
            await service.schedule(session, viewer, campaign)
        elif action == "open":
            await service.open_campaign(session, campaign, viewer)
        elif action == "close":
            await service.close_campaign(session, campaign, viewer)
        elif action == "draw":
            seed, errors = validate(DrawIn, {"seed": form.get("seed") or None})
            if seed is None:
                raise Invalid(errors.get("seed", _("This value is not valid.")), field="seed")
            await service.draw_lottery(session, viewer, campaign, seed.seed)
        else:
            await service.announce_results(session, viewer, campaign)
    except KizunaError as exc:
        questions = await queries.questions(session, campaign.id)
        return await _edit_page(
            request,
            session,
            campaign,
            _form_of(campaign, questions),
            {"form": str(exc.message)},
            status_code=exc.status_code,
        )
    response = RedirectResponse(f"/ops/campaigns/{campaign.id}", status_code=303)
    flash(response, messages[action])
    return response


@router.get("/ops/campaigns/{campaign_id}/audience")
async def audience_page(
    request: Request, campaign_id: int, session: SessionDep, viewer: CurrentOperator
) -> Response:
    campaign = await queries.managed_campaign(session, campaign_id)
    days = FATIGUE_DAYS
    if request.query_params.get("days", "").isdigit():
        days = max(1, min(365, int(request.query_params["days"])))
    rows, next_cursor, size = await queries.audience_page(
        session, campaign, days=days, cursor=_cursor(request)
    )
    return render(
        request,
        "campaigns/audience.html",
        {
            "campaign": campaign,
            "rows": rows,
            "next_cursor": next_cursor,
            "size": size,
            "days": days,
            "invited": await queries.invited_handles(session, campaign.id),
            "errors": {},
        },
    )


@router.post("/ops/campaigns/{campaign_id}/invites")
async def invite_members(
    request: Request, campaign_id: int, session: SessionDep, viewer: CurrentOperator
) -> Response:
    campaign = await queries.managed_campaign(session, campaign_id, lock=True)
    form = _texts(await request.form())
    handles = form.get("handles", "").replace(",", " ").split()
    try:
        count = await service.invite_members(session, viewer, campaign, handles)
    except Invalid as exc:
        rows, next_cursor, size = await queries.audience_page(session, campaign, days=FATIGUE_DAYS)
        return render(
            request,
            "campaigns/audience.html",
            {
                "campaign": campaign,
                "rows": rows,
                "next_cursor": next_cursor,
                "size": size,
                "days": FATIGUE_DAYS,
                "invited": await queries.invited_handles(session, campaign.id),
                "errors": {"handles": str(exc.message)},
                "handles": form.get("handles", ""),
            },
            status_code=422,
        )
    response = RedirectResponse(f"/ops/campaigns/{campaign.id}/audience", status_code=303)
    flash(response, _("%(count)s members were invited.", count=count))
    return response


@router.get("/ops/campaigns/{campaign_id}/entries")
async def entries_page(
    request: Request, campaign_id: int, session: SessionDep, viewer: CurrentOperator
) -> Response:
    campaign = await queries.managed_campaign(session, campaign_id)
    rows, next_cursor = await queries.entries(
        session, campaign.id, cursor=_cursor(request), limit=100, newest_first=False
    )
    return render(
        request,
        "campaigns/entries.html",
        {
            "campaign": campaign,
            "rows": rows,
            "next_cursor": next_cursor,
            "questions": await queries.questions(session, campaign.id),
        },
    )


@router.post("/ops/campaigns/{campaign_id}/attendance")
async def mark_attendance(
    request: Request, campaign_id: int, session: SessionDep, viewer: CurrentOperator
) -> Response:
    campaign = await queries.managed_campaign(session, campaign_id, lock=True)
    form = await request.form(max_fields=2000)
    shown = [
        int(value) for value in form.getlist("entry") if isinstance(value, str) and value.isdigit()
    ]
    present = {
        int(value)
        for value in form.getlist("attended")
        if isinstance(value, str) and value.isdigit()
    }
    await service.mark_attendance(
        session, viewer, campaign, {entry_id: entry_id in present for entry_id in shown}
    )
    response = RedirectResponse(f"/ops/campaigns/{campaign.id}/entries", status_code=303)
    flash(response, _("Attendance was saved."))
    return response


@router.get("/ops/campaigns/{campaign_id}/report")
async def report_page(
    request: Request, campaign_id: int, session: SessionDep, viewer: CurrentOperator
) -> Response:
    campaign = await queries.managed_campaign(session, campaign_id)
    result = await analytics.report(session, campaign)
    return render(request, "campaigns/report.html", {"campaign": campaign, "report": result})


@router.get("/ops/campaigns/{campaign_id}/entries.csv")
async def entries_csv(campaign_id: int, session: SessionDep, viewer: CurrentOperator) -> Response:
    campaign = await queries.managed_campaign(session, campaign_id)
    body = await analytics.entries_csv(session, campaign)
    return Response(
        "\ufeff" + body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="campaign-{campaign.id}-entries.csv"'
        },
    )


# --- operators: rewards and products -------------------------------------------------------------


async def _manage_rewards_page(
    request: Request,
    session: SessionDep,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    status = request.query_params.get("status", RedemptionStatus.pending.value)
    if status not in {item.value for item in RedemptionStatus}:
        status = RedemptionStatus.pending.value
    rows, next_cursor = await rewards.redemptions(session, status=status, cursor=_cursor(request))
    return render(
        request,
        "rewards/manage.html",
        {
            "items": await rewards.catalogue(session, None, include_inactive=True),
            "redemptions": rows,
            "next_cursor": next_cursor,
            "status": status,
            "ranks": await queries.ranks(session),
            "form": form or {"active": "on"},
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/ops/rewards")
async def manage_rewards(
    request: Request, session: SessionDep, viewer: CurrentOperator
) -> Response:
    return await _manage_rewards_page(request, session)


def _reward_data(form: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        key: form.get(key, "")
        for key in ("name_en", "name_ja", "description_en", "description_ja", "cost", "stock")
    }
    data["min_rank_id"] = _none_if_blank(form.get("min_rank_id"))
    data["image_upload_id"] = _none_if_blank(form.get("image_upload_id"))
    data["active"] = form.get("active") == "on"
    return data


async def _save_reward(
    request: Request, session: SessionDep, viewer: Member, reward_id: int | None
) -> Response:
    form_data = await _form(request)
    form = _texts(form_data)
    try:
        images = await _store_images(session, viewer, _files(form_data, "image")[:1], "image")
        if images:
            form["image_upload_id"] = str(images[0])
        data, errors = validate(RewardIn, _reward_data(form))
        if data is None:
            return await _manage_rewards_page(
                request, session, form=form, errors=errors, status_code=422
            )
        if reward_id is None:
            await rewards.create_reward(session, viewer, data)
        else:
            await rewards.update_reward(session, viewer, reward_id, data)
    except Invalid as exc:
        return await _manage_rewards_page(
            request,
            session,
            form=form,
            errors={exc.field or "form": str(exc.message)},
            status_code=422,
        )
    response = RedirectResponse("/ops/rewards", status_code=303)
    flash(response, _("The reward was saved."))
    return response


@router.post("/ops/rewards")
async def create_reward(request: Request, session: SessionDep, viewer: CurrentOperator) -> Response:
    return await _save_reward(request, session, viewer, None)


@router.post("/ops/rewards/{reward_id}")
async def update_reward(
    request: Request, reward_id: int, session: SessionDep, viewer: CurrentOperator
) -> Response:
    return await _save_reward(request, session, viewer, reward_id)


@router.post("/ops/redemptions/{redemption_id}/{decision}")
async def decide_redemption(
    request: Request,
    redemption_id: int,
    decision: str,
    session: SessionDep,
    viewer: CurrentOperator,
) -> Response:
    form = _texts(await request.form())
    note = form.get("note", "")[:300]
    if decision == "fulfil":
        await rewards.fulfil(session, viewer, redemption_id, note)
        message = _("The redemption was fulfilled.")
    elif decision == "refuse":
        await rewards.refuse(session, viewer, redemption_id, note)
        message = _("The redemption was refused and the points refunded.")
    else:
        raise NotFound()
    response = RedirectResponse("/ops/rewards", status_code=303)
    flash(response, message)
    return response


async def _manage_products_page(
    request: Request,
    session: SessionDep,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    items = await reviews.products(session, include_inactive=True)
    return render(
        request,
        "campaigns/manage_products.html",
        {
            "items": items,
            "summaries": await reviews.summaries(session, [product.id for product in items]),
            "form": form or {"active": "on"},
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/ops/products")
async def manage_products(
    request: Request, session: SessionDep, viewer: CurrentOperator
) -> Response:
    return await _manage_products_page(request, session)


async def _save_product(
    request: Request, session: SessionDep, viewer: Member, product_id: int | None
) -> Response:
    form_data = await _form(request)
    form = _texts(form_data)
    try:
        images = await _store_images(session, viewer, _files(form_data, "image")[:1], "image")
        raw: dict[str, Any] = {
            key: form.get(key, "")
            for key in ("name_en", "name_ja", "description_en", "description_ja")
        }
        raw["active"] = form.get("active") == "on"
        raw["image_upload_id"] = (
            images[0] if images else _none_if_blank(form.get("image_upload_id"))
        )
        data, errors = validate(ProductIn, raw)
        if data is None:
            return await _manage_products_page(
                request, session, form=form, errors=errors, status_code=422
            )
        if product_id is None:
            await reviews.create_product(session, viewer, data)
        else:
            await reviews.update_product(session, viewer, product_id, data)
    except Invalid as exc:
        return await _manage_products_page(
            request,
            session,
            form=form,
            errors={exc.field or "form": str(exc.message)},
            status_code=422,
        )
    response = RedirectResponse("/ops/products", status_code=303)
    flash(response, _("The product was saved."))
    return response


@router.post("/ops/products")
async def create_product(
    request: Request, session: SessionDep, viewer: CurrentOperator
) -> Response:
    return await _save_product(request, session, viewer, None)


@router.post("/ops/products/{product_id}")
async def update_product(
    request: Request, product_id: int, session: SessionDep, viewer: CurrentOperator
) -> Response:
    return await _save_product(request, session, viewer, product_id)
