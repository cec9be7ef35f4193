"""Reading tokens, webhooks and the delivery log."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit.errors import NotFound
from app.models import ApiToken, Member, Webhook, WebhookDelivery

DELIVERIES_PAGE = 50


async def tokens_of(session: AsyncSession, member: Member) -> Sequence[ApiToken]:
    # Bounded: a member has at most a handful of active tokens; revoked ones are listed too
    # (newest first, 100 at most) so last use stays visible after revoking.
    query = (
        select(ApiToken)
        .where(ApiToken.member_id == member.id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
        .limit(100)
    )
    return (await session.execute(query)).scalars().all()


async def webhooks_list(session: AsyncSession) -> Sequence[Webhook]:
    return (await session.execute(select(Webhook).order_by(Webhook.id))).scalars().all()


async def webhook(session: AsyncSession, webhook_id: int) -> Webhook:
    hook = await session.get(Webhook, webhook_id)
    if hook is None:
        raise NotFound()
    return hook


async def deliveries(
    session: AsyncSession, webhook_id: int, before: int | None = None
) -> tuple[list[WebhookDelivery], int | None]:
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    if before is not None:
        query = query.where(WebhookDelivery.id < before)
    query = query.order_by(WebhookDelivery.id.desc()).limit(DELIVERIES_PAGE + 1)
    rows = list((await session.execute(query)).scalars())
    more = len(rows) > DELIVERIES_PAGE
    rows = rows[:DELIVERIES_PAGE]
    return rows, (rows[-1].id if more and rows else None)


async def delivery(session: AsyncSession, webhook_id: int, delivery_id: int) -> WebhookDelivery:
    row = await session.get(WebhookDelivery, delivery_id)
    if row is None or row.webhook_id != webhook_id:
        raise NotFound()
    return row
