"""Notification pages: the list, reading, preferences and the sign-in-free unsubscribe."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app.accounts.deps import CurrentMember, SessionDep
from app.db import get_database
from app.kit.errors import KizunaError, NotFound
from app.kit.flash import flash
from app.kit.forms import read_form
from app.kit.i18n import gettext as _
from app.kit.routing import Router
from app.kit.templating import is_htmx, render
from app.kit.urls import safe_next
from app.models import Member
from app.notifications import kinds, queries, service
from app.notifications.text import detail, headline, target_url

router = Router(include_in_schema=False)


def _entries(page: queries.Page) -> list[dict[str, object]]:
    return [
        {
            "row": row,
            "headline": headline(row, actor, html=True),
            "detail": detail(row),
            "url": target_url(row),
        }
        for row, actor in page.items
    ]


@router.get("/notifications")
async def notification_list(
    request: Request, session: SessionDep, viewer: CurrentMember
) -> Response:
    unread_only = request.query_params.get("unread") == "1"
    page = await queries.list_for(
        session, viewer, cursor=request.query_params.get("cursor"), unread_only=unread_only
    )
    context = {
        "entries": _entries(page),
        "next_cursor": page.next_cursor,
        "unread_only": unread_only,
    }
    if is_htmx(request) and request.query_params.get("cursor"):
        return render(request, "notifications/_items.html", context)
    return render(request, "notifications/list.html", context)


@router.get("/notifications/{notification_id}/open")
async def open_notification(
    request: Request, notification_id: int, viewer: CurrentMember
) -> Response:
    # A link, so it opens in a new tab too; the read mark is written in its own short
    # transaction because a GET keeps its cheap read-only one (as the pipeline does for visits).
    async with get_database().transaction() as session:
        member = await session.get(Member, viewer.id)
        if member is None:
            raise NotFound()
        notification = await service.mark_read(session, member, notification_id)
        url = target_url(notification)
    return RedirectResponse(url, status_code=303)


@router.post("/notifications/{notification_id}/read")
async def read_one(
    request: Request, notification_id: int, session: SessionDep, viewer: CurrentMember
) -> Response:
    await service.mark_read(session, viewer, notification_id)
    form = await read_form(request)
    return RedirectResponse(safe_next(form.get("next"), "/notifications"), status_code=303)


@router.post("/notifications/read-all")
async def read_all(request: Request, session: SessionDep, viewer: CurrentMember) -> Response:
    await service.mark_all_read(session, viewer)
    response = RedirectResponse("/notifications", status_code=303)
    flash(response, _("All notifications are marked as read."))
    return response


def _preference_rows(choices: dict[str, str]) -> list[dict[str, object]]:
    return [
        {"kind": kind, "label": label, "channel": choices.get(kind, default)}
        for kind, label, default in kinds.KINDS
    ]


async def _preferences_page(
    request: Request,
    session: SessionDep,
    viewer: Member,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    choices = (await service.preferences(session, [viewer.id]))[viewer.id]
    return render(
        request,
        "notifications/preferences.html",
        {
            "rows": _preference_rows(choices),
            "digest": choices[kinds.DIGEST],
            "channel_labels": kinds.CHANNEL_LABELS,
            "digest_labels": kinds.DIGEST_LABELS,
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/settings/notifications")
async def preferences_page(
    request: Request, session: SessionDep, viewer: CurrentMember
) -> Response:
    return await _preferences_page(request, session, viewer)


@router.post("/settings/notifications")
async def save_preferences(
    request: Request, session: SessionDep, viewer: CurrentMember
) -> Response:
    form = await read_form(request)
    choices = {
        key: value for key, value in form.items() if key in kinds.KIND_NAMES or key == kinds.DIGEST
    }
    try:
        await service.set_preferences(session, viewer, choices)
    except KizunaError as exc:
        return await _preferences_page(
            request,
            session,
            viewer,
            errors={exc.field or "form": str(exc.message)},
            status_code=exc.status_code,
        )
    response = RedirectResponse("/settings/notifications", status_code=303)
    flash(response, _("Your notification settings were saved."))
    return response


@router.get("/unsubscribe/{token}")
async def unsubscribe_page(request: Request, token: str, session: SessionDep) -> Response:
    parsed = service.read_unsubscribe_token(token)
    member = await session.get(Member, parsed[0]) if parsed else None
    if parsed is None or member is None:
        raise NotFound(_("This unsubscribe link is not valid."))
    return render(
        request,
        "notifications/unsubscribe.html",
        {"token": token, "kind_label": kinds.label(parsed[1]), "done": False},
    )


@router.post("/unsubscribe/{token}")
async def unsubscribe(request: Request, token: str, session: SessionDep) -> Response:
    _member, kind = await service.unsubscribe(session, token)
    return render(
        request,
        "notifications/unsubscribe.html",
        {"token": token, "kind_label": kinds.label(kind), "done": True},
    )
