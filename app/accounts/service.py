"""Account changes: the only code that writes members and sessions."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.schemas import ProfileIn, SignUpIn
from app.activity import verbs
from app.activity.service import record
from app.config import get_settings
from app.kit import clock
from app.kit.errors import Conflict, Invalid
from app.kit.i18n import gettext as _
from app.kit.security import (
    burn_password_check,
    hash_password,
    new_token,
    password_needs_rehash,
    sha256_hex,
    verify_password,
)
from app.kit.sql import run_prebuilt, sync_loaded
from app.models import ApiToken, AuthSession, Member, Role

ACTIVATION_DAYS = 3


@dataclass(frozen=True)
class NewSession:
    token: str
    row: AuthSession


def _handle_base(display_name: str, email: str) -> str:
    for source in (display_name, email.split("@")[0]):
        ascii_only = unicodedata.normalize("NFKD", source).encode("ascii", "ignore").decode()
        base = re.sub(r"[^a-z0-9_]+", "_", ascii_only.lower()).strip("_")[:16]
        if len(base) >= 3:
            return base
    return "member"


async def unique_handle(session: AsyncSession, display_name: str, email: str) -> str:
    base = _handle_base(display_name, email)
    taken = set(
        (
            await session.execute(select(Member.handle).where(Member.handle.like(f"{base}%")))
        ).scalars()
    )
    if base not in taken:
        return base
    suffix = 2
    while f"{base}{suffix}" in taken:
        suffix += 1
    return f"{base}{suffix}"


async def find_by_email(session: AsyncSession, email: str) -> Member | None:
    return (
        await session.execute(select(Member).where(Member.email == email.strip().lower()))
    ).scalar_one_or_none()


async def create_member(
    session: AsyncSession,
    data: SignUpIn,
    *,
    role: Role = Role.member,
    verified: bool = False,
    locale: str | None = None,
) -> Member:
    member = Member(
        email=data.email,
        handle=await unique_handle(session, data.display_name, data.email),
        display_name=data.display_name,
        password_hash=hash_password(data.password),
        role=role.value,
        locale=locale,
        email_verified_at=clock.now() if verified else None,
    )
    session.add(member)
    await session.flush()
    await record(
        session,
        verbs.SIGNED_UP,
        actor_id=member.id,
        subject=("member", member.id),
        dedupe_key=f"signup:{member.id}",
    )
    return member


async def verify_email(session: AsyncSession, member: Member) -> None:
    if member.email_verified_at is None:
        member.email_verified_at = clock.now()
        await session.flush()


async def claim_account(
    session: AsyncSession, member: Member, display_name: str, password: str
) -> Member:
    """The owner of the mailbox takes over an unconfirmed account (imported by the brand, or
    a sign-up never confirmed): their own name and password replace whatever the account was
    created with, the email counts as confirmed, and any session on it ends. Whoever created
    the account (the brand, or someone typing another person's address) keeps no way in."""
    member.display_name = display_name
    member.password_hash = hash_password(password)
    member.email_verified_at = clock.now()
    await end_all_sessions(session, member.id)
    await session.execute(delete(ApiToken).where(ApiToken.member_id == member.id))
    await session.flush()
    # Imported members join the community now (welcome points, "new members"); for a sign-up
    # this was recorded when the account was made, and the dedupe key records it once.
    await record(
        session,
        verbs.SIGNED_UP,
        actor_id=member.id,
        subject=("member", member.id),
        dedupe_key=f"signup:{member.id}",
    )
    return member


async def authenticate(session: AsyncSession, email: str, password: str) -> Member | None:
    member = await find_by_email(session, email)
    if member is None:
        burn_password_check(password)
        return None
    if not verify_password(password, member.password_hash):
        return None
    if password_needs_rehash(member.password_hash):
        member.password_hash = hash_password(password)
    return member


async def start_session(
    session: AsyncSession,
    member: Member,
    *,
    previous_token: str | None,
    ip: str,
    user_agent: str,
) -> NewSession:
    """Sign in: always a fresh random session id, and the browser's old one is ended."""
    if previous_token:
        await session.execute(
            delete(AuthSession).where(AuthSession.token_hash == sha256_hex(previous_token))
        )
    token = new_token()
    now = clock.now()
    row = AuthSession(
        token_hash=sha256_hex(token),
        member_id=member.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(days=get_settings().session_days),
        ip=ip[:45],
        user_agent=user_agent[:300],
    )
    session.add(row)
    await session.flush()
    return NewSession(token=token, row=row)


async def end_session(session: AsyncSession, token: str) -> None:
    await session.execute(delete(AuthSession).where(AuthSession.token_hash == sha256_hex(token)))


async def end_other_sessions(session: AsyncSession, member: Member, keep_token_hash: str) -> int:
    result = await session.execute(
        delete(AuthSession).where(
            AuthSession.member_id == member.id, AuthSession.token_hash != keep_token_hash
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def end_all_sessions(session: AsyncSession, member_id: int) -> None:
    await session.execute(delete(AuthSession).where(AuthSession.member_id == member_id))


async def revoke_session(session: AsyncSession, member: Member, token_hash_prefix: str) -> bool:
    """End one of the member's own sessions, named by the first characters of its id."""
    if len(token_hash_prefix) < 12:
        return False
    result = await session.execute(
        delete(AuthSession).where(
            AuthSession.member_id == member.id,
            AuthSession.token_hash.startswith(token_hash_prefix, autoescape=True),
        )
    )
    return bool(getattr(result, "rowcount", 0))


async def update_profile(session: AsyncSession, member: Member, data: ProfileIn) -> Member:
    changes = data.model_dump(exclude_unset=True)
    handle = changes.get("handle")
    if handle and handle != member.handle:
        clash = await session.scalar(
            select(func.count()).select_from(Member).where(Member.handle == handle)
        )
        if clash:
            raise Conflict(_("This handle is already taken."), field="handle")
    for key in ("display_name", "handle", "bio"):
        if changes.get(key) is not None:
            setattr(member, key, changes[key])
    if "locale" in changes:
        member.locale = changes["locale"] or None
    if "timezone" in changes:
        member.timezone = changes["timezone"] or None
    await session.flush()
    if member.bio.strip():
        # Recorded once per member (dedupe key): the points rule pays "completing the profile".
        await record(
            session,
            verbs.PROFILE_COMPLETED,
            actor_id=member.id,
            subject=("member", member.id),
            dedupe_key=f"profile.completed:{member.id}",
        )
    return member


async def change_password(
    session: AsyncSession, member: Member, current: str, new: str, keep_token_hash: str
) -> None:
    if not verify_password(current, member.password_hash):
        raise Invalid(_("Your current password is not correct."), field="current_password")
    from app.accounts.policy import check_password

    try:
        check_password(new, email=member.email, display_name=member.display_name)
    except ValueError as exc:
        raise Invalid(str(exc), field="new_password") from exc
    member.password_hash = hash_password(new)
    await end_other_sessions(session, member, keep_token_hash)
    await session.flush()


def _visit_update(_insert: Any) -> Any:
    members = cast(Table, Member.__table__)
    return (
        update(members)
        .where(members.c.id == bindparam("p_member"))
        .values(last_visit_day=bindparam("p_day"), last_seen_at=bindparam("p_now"))
    )


async def record_visit(session: AsyncSession, member_id: int) -> bool:
    """The first request of a community day records one visit; later ones record nothing.
    The member's row is updated by a statement built once: each member's first request of a
    day comes here, and through the ORM the update cost 456-702 µs against 35-56 µs."""
    today = clock.community_day()
    now = clock.now()
    await run_prebuilt(
        session,
        "accounts.visit",
        _visit_update,
        {"p_member": member_id, "p_day": today, "p_now": now},
    )
    sync_loaded(session, Member, member_id, {"last_visit_day": today, "last_seen_at": now})
    activity = await record(
        session,
        verbs.VISITED,
        actor_id=member_id,
        subject=("member", member_id),
        dedupe_key=f"visit:{member_id}:{today.isoformat()}",
    )
    return activity is not None


async def set_role(session: AsyncSession, member: Member, role: Role) -> None:
    member.role = role.value
    await session.flush()
