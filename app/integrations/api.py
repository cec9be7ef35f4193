"""API tokens and webhooks in the JSON API."""

from __future__ import annotations

from fastapi import Query
from starlette.requests import Request
from starlette.responses import Response

from app.accounts.deps import CurrentMember, CurrentOperator, SessionDep
from app.integrations import queries, service
from app.integrations.schemas import (
    DeliveryOut,
    DeliveryPage,
    TokenCreated,
    TokenIn,
    TokenOut,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
)
from app.kit.routing import Router

router = Router(prefix="/api/v1", tags=["integrations"])


def _via_token(request: Request) -> bool:
    return getattr(request.state, "api_token_id", None) is not None


@router.get("/tokens", response_model=list[TokenOut], summary="My API tokens")
async def list_tokens(viewer: CurrentMember, session: SessionDep) -> list[TokenOut]:
    return [TokenOut.model_validate(row) for row in await queries.tokens_of(session, viewer)]


@router.post(
    "/tokens",
    response_model=TokenCreated,
    status_code=201,
    summary="Create an API token (shown once)",
)
async def create_token(
    data: TokenIn, request: Request, viewer: CurrentMember, session: SessionDep
) -> TokenCreated:
    new = await service.create_token(session, viewer, data, via_token=_via_token(request))
    out = TokenOut.model_validate(new.row)
    return TokenCreated(**out.model_dump(), token=new.token)


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke one of my API tokens")
async def revoke_token(token_id: int, viewer: CurrentMember, session: SessionDep) -> Response:
    await service.revoke_token(session, viewer, token_id)
    return Response(status_code=204)


@router.get("/webhooks", response_model=list[WebhookOut], summary="Registered webhooks")
async def list_webhooks(viewer: CurrentOperator, session: SessionDep) -> list[WebhookOut]:
    return [WebhookOut.model_validate(hook) for hook in await queries.webhooks_list(session)]


@router.post(
    "/webhooks", response_model=WebhookCreated, status_code=201, summary="Register a webhook"
)
async def create_webhook(
    data: WebhookIn, viewer: CurrentOperator, session: SessionDep
) -> WebhookCreated:
    hook = await service.create_webhook(session, viewer, data)
    return WebhookCreated(**WebhookOut.model_validate(hook).model_dump(), secret=hook.secret)


@router.delete("/webhooks/{webhook_id}", status_code=204, summary="Remove a webhook")
async def delete_webhook(webhook_id: int, viewer: CurrentOperator, session: SessionDep) -> Response:
    await service.delete_webhook(session, webhook_id)
    return Response(status_code=204)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=DeliveryPage,
    summary="A webhook's delivery log, newest first",
)
async def list_deliveries(
    webhook_id: int,
    viewer: CurrentOperator,
    session: SessionDep,
    before: int | None = Query(default=None, ge=1),
) -> DeliveryPage:
    await queries.webhook(session, webhook_id)
    rows, next_cursor = await queries.deliveries(session, webhook_id, before)
    return DeliveryPage(
        items=[DeliveryOut.model_validate(row) for row in rows], next_cursor=next_cursor
    )
