"""Pages for API tokens (every member) and webhooks (operators)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app.accounts.deps import CurrentMember, CurrentOperator, SessionDep
from app.integrations import queries, service, webhooks
from app.integrations.schemas import TokenIn, WebhookIn
from app.kit.errors import KizunaError
from app.kit.flash import flash
from app.kit.forms import read_form, validate
from app.kit.i18n import gettext as _
from app.kit.i18n import lazy_gettext
from app.kit.routing import Router
from app.kit.templating import render
from app.models import Member

router = Router(include_in_schema=False)

SCOPE_LABELS = {
    "read": lazy_gettext("Read: see what I can see"),
    "write": lazy_gettext("Read and write: also post and change things as me"),
    "admin": lazy_gettext("Admin: also administer the community (integrations)"),
}
EVENT_LABELS = {
    "member.created": lazy_gettext("A member signed up"),
    "topic.created": lazy_gettext("A topic was created"),
    "post.created": lazy_gettext("A reply or answer was posted"),
    "answer.accepted": lazy_gettext("An answer was accepted"),
    "rank.changed": lazy_gettext("A member reached a new rank"),
    "ambassador.flagged": lazy_gettext("A member was flagged as an ambassador candidate"),
    "ambassador.confirmed": lazy_gettext("A member was confirmed as an ambassador"),
    "campaign.entry": lazy_gettext("A member entered a campaign"),
    "survey.response": lazy_gettext("A member answered a survey"),
}


async def _tokens_page(
    request: Request,
    session: SessionDep,
    viewer: Member,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    new_token: str | None = None,
    status_code: int = 200,
) -> Response:
    scopes = {
        key: label for key, label in SCOPE_LABELS.items() if key != "admin" or viewer.is_admin
    }
    return render(
        request,
        "integrations/tokens.html",
        {
            "tokens": await queries.tokens_of(session, viewer),
            "scopes": scopes,
            "form": form or {"scope": "read"},
            "errors": errors or {},
            "new_token": new_token,
        },
        status_code=status_code,
    )


@router.get("/settings/tokens")
async def tokens_page(request: Request, session: SessionDep, viewer: CurrentMember) -> Response:
    return await _tokens_page(request, session, viewer)


@router.post("/settings/tokens")
async def create_token(request: Request, session: SessionDep, viewer: CurrentMember) -> Response:
    form = await read_form(request)
    data, errors = validate(TokenIn, {"name": form.get("name", ""), "scope": form.get("scope")})
    if data is not None:
        try:
            new = await service.create_token(session, viewer, data, via_token=False)
        except KizunaError as exc:
            errors = {exc.field or "form": str(exc.message)}
        else:
            # Rendered, not redirected: the token is shown this once and never stored in clear.
            return await _tokens_page(request, session, viewer, new_token=new.token)
    return await _tokens_page(request, session, viewer, form=form, errors=errors, status_code=422)


@router.post("/settings/tokens/{token_id}/revoke")
async def revoke_token(
    request: Request, token_id: int, session: SessionDep, viewer: CurrentMember
) -> Response:
    row = await service.revoke_token(session, viewer, token_id)
    response = RedirectResponse("/settings/tokens", status_code=303)
    flash(response, _("The token %(name)s was revoked.", name=row.name))
    return response


async def _webhooks_page(
    request: Request,
    session: SessionDep,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    created: Any = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "integrations/webhooks.html",
        {
            "webhooks": await queries.webhooks_list(session),
            "event_labels": EVENT_LABELS,
            "form": form or {"events": []},
            "errors": errors or {},
            "created": created,
        },
        status_code=status_code,
    )


@router.get("/integrations/webhooks")
async def webhooks_page(request: Request, session: SessionDep, viewer: CurrentOperator) -> Response:
    return await _webhooks_page(request, session)


@router.post("/integrations/webhooks")
async def create_webhook(
    request: Request, session: SessionDep, viewer: CurrentOperator
) -> Response:
    submitted = await request.form()
    form: dict[str, Any] = {
        "url": str(submitted.get("url", "")),
        "secret": str(submitted.get("secret", "")),
        "description": str(submitted.get("description", "")),
        "events": [str(value) for value in submitted.getlist("events")],
    }
    data, errors = validate(WebhookIn, form)
    if data is not None:
        try:
            hook = await service.create_webhook(session, viewer, data)
        except KizunaError as exc:
            errors = {exc.field or "form": str(exc.message)}
        else:
            return await _webhooks_page(request, session, created=hook, status_code=201)
    errors = {key.split(".")[0]: message for key, message in errors.items()}
    form.pop("secret", None)
    return await _webhooks_page(request, session, form=form, errors=errors, status_code=422)


@router.get("/integrations/webhooks/{webhook_id}")
async def webhook_page(
    request: Request, webhook_id: int, session: SessionDep, viewer: CurrentOperator
) -> Response:
    hook = await queries.webhook(session, webhook_id)
    before = request.query_params.get("before", "")
    rows, next_before = await queries.deliveries(
        session, webhook_id, int(before) if before.isdigit() else None
    )
    return render(
        request,
        "integrations/webhook.html",
        {
            "hook": hook,
            "deliveries": rows,
            "next_before": next_before,
            "event_labels": EVENT_LABELS,
        },
    )


@router.post("/integrations/webhooks/{webhook_id}/active")
async def toggle_webhook(
    request: Request, webhook_id: int, session: SessionDep, viewer: CurrentOperator
) -> Response:
    form = await read_form(request)
    hook = await service.set_webhook_active(session, webhook_id, form.get("active") == "1")
    response = RedirectResponse(f"/integrations/webhooks/{hook.id}", status_code=303)
    flash(response, _("The webhook is on.") if hook.active else _("The webhook is paused."))
    return response


@router.post("/integrations/webhooks/{webhook_id}/delete")
async def delete_webhook(
    request: Request, webhook_id: int, session: SessionDep, viewer: CurrentOperator
) -> Response:
    await service.delete_webhook(session, webhook_id)
    response = RedirectResponse("/integrations/webhooks", status_code=303)
    flash(response, _("The webhook was removed."))
    return response


@router.post("/integrations/webhooks/{webhook_id}/deliveries/{delivery_id}/retry")
async def retry_delivery(
    request: Request,
    webhook_id: int,
    delivery_id: int,
    session: SessionDep,
    viewer: CurrentOperator,
) -> Response:
    row = await queries.delivery(session, webhook_id, delivery_id)
    await webhooks.redeliver(session, row)
    response = RedirectResponse(f"/integrations/webhooks/{webhook_id}", status_code=303)
    flash(response, _("The delivery will be sent again."))
    return response
