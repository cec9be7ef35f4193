"""Creating and revoking API tokens; registering and retiring webhooks. The only writer."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.integrations import webhooks
from app.integrations.schemas import TokenIn, WebhookIn
from app.kit import clock
from app.kit.errors import Forbidden, Invalid, NotFound
from app.kit.i18n import gettext as _
from app.kit.security import new_token, sha256_hex
from app.models import ApiToken, Member, Webhook

TOKEN_PREFIX = "kz_"
SCOPES = {"read": "read", "write": "read write", "admin": "read write admin"}
MAX_ACTIVE_TOKENS = 20
MAX_WEBHOOKS = 50
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")


@dataclass(frozen=True)
class NewToken:
    token: str
    row: ApiToken


async def create_token(
    session: AsyncSession, member: Member, data: TokenIn, *, via_token: bool
) -> NewToken:
    """Members make read or write tokens for themselves; only admins may add the admin scope.
    A token cannot mint tokens: that needs a signed-in browser."""
    if via_token:
        raise Forbidden(_("Create API tokens while signed in, not with another token."))
    if data.scope == "admin" and not member.is_admin:
        raise Forbidden(_("Only admins may create tokens with the admin scope."), field="scope")
    active = await session.scalar(
        select(func.count())
        .select_from(ApiToken)
        .where(ApiToken.member_id == member.id, ApiToken.revoked_at.is_(None))
    )
    if (active or 0) >= MAX_ACTIVE_TOKENS:
        raise Invalid(
            _("You have %(max)s active tokens. Revoke one first.", max=MAX_ACTIVE_TOKENS),
            field="name",
        )
    token = TOKEN_PREFIX + new_token(32)
    row = ApiToken(
        member_id=member.id,
        name=data.name,
        token_hash=sha256_hex(token),
        prefix=token[:10],
        scopes=SCOPES[data.scope],
    )
    session.add(row)
    await session.flush()
    return NewToken(token=token, row=row)


async def revoke_token(session: AsyncSession, member: Member, token_id: int) -> ApiToken:
    row = await session.get(ApiToken, token_id)
    if row is None or row.member_id != member.id:
        raise NotFound()
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        await session.flush()
    return row


def _check_target(url: str) -> None:
    if webhooks.check_url(url) is not None:
        raise Invalid(_("Enter an http:// or https:// address without a password."), field="url")
    if get_settings().webhooks_allow_private:
        return
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    refused = host == "localhost" or host.endswith(_LOCAL_SUFFIXES)
    if not refused:
        try:
            refused = not webhooks.public_address(host)
        except ValueError:
            refused = False  # a name: resolved, and every address checked, at each delivery
    if refused:
        raise Invalid(
            _("Webhooks may not point at private, loopback or link-local addresses."),
            field="url",
        )


async def create_webhook(session: AsyncSession, operator: Member, data: WebhookIn) -> Webhook:
    _check_target(data.url)
    unknown = [event for event in data.events if event not in webhooks.EVENTS]
    if unknown:
        raise Invalid(_("Unknown event: %(event)s", event=unknown[0]), field="events")
    if data.secret and len(data.secret) < 16:
        raise Invalid(
            _("Use a secret of at least 16 characters, or leave it empty."), field="secret"
        )
    count = await session.scalar(select(func.count()).select_from(Webhook))
    if (count or 0) >= MAX_WEBHOOKS:
        raise Invalid(_("There are too many webhooks. Remove one first."), field="url")
    hook = Webhook(
        url=data.url,
        secret=data.secret or new_token(24),
        events=" ".join(sorted(set(data.events))),
        description=data.description,
        created_by_id=operator.id,
    )
    session.add(hook)
    await session.flush()
    return hook


async def set_webhook_active(session: AsyncSession, webhook_id: int, active: bool) -> Webhook:
    hook = await session.get(Webhook, webhook_id)
    if hook is None:
        raise NotFound()
    hook.active = active
    await session.flush()
    return hook


async def delete_webhook(session: AsyncSession, webhook_id: int) -> None:
    hook = await session.get(Webhook, webhook_id)
    if hook is None:
        raise NotFound()
    await session.delete(hook)
    await session.flush()
