"""Account pages: sign-up, activation, sign-in/out, profile, settings, language."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app.accounts import queries, service
from app.accounts.deps import CurrentMember, OptionalMember, SessionDep
from app.accounts.schemas import PasswordChangeIn, ProfileIn, SignInIn, SignUpIn
from app.config import get_settings
from app.db import get_database
from app.kit import ratelimit
from app.kit.errors import KizunaError, NotFound
from app.kit.flash import flash
from app.kit.forms import read_form, validate
from app.kit.i18n import LOCALES, get_locale, ngettext
from app.kit.i18n import gettext as _
from app.kit.routing import Router
from app.kit.security import sha256_hex, sign_value, unsign_value
from app.kit.templating import render, render_string
from app.kit.urls import client_ip, safe_next
from app.models import AuthSession, Member
from app.notifications.mail import queue_mail
from app.pipeline import LANG_COOKIE, SESSION_COOKIE, keep_writes

router = Router(include_in_schema=False)

# Other features add sections to the profile page (points, badges, ...) without touching this
# module: (template, async function giving that template's context).
ProfileSection = Callable[[Request, AsyncSession, Member], Awaitable[dict[str, Any]]]
PROFILE_SECTIONS: list[tuple[str, ProfileSection]] = []


def add_profile_section(template: str, provide: ProfileSection) -> None:
    if all(existing != template for existing, _provide in PROFILE_SECTIONS):
        PROFILE_SECTIONS.append((template, provide))


ACTIVATION_SECONDS = 3 * 24 * 3600


def _set_session_cookie(response: Response, token: str) -> None:
    settings = get_settings()
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


async def _signed_in(
    session: AsyncSession, request: Request, member: Member, to: str
) -> RedirectResponse:
    """Start the member's session (replacing the browser's previous one) and send them on,
    with the session cookie."""
    new = await service.start_session(
        session,
        member,
        previous_token=request.cookies.get(SESSION_COOKIE),
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent", ""),
    )
    response = RedirectResponse(to, status_code=303)
    _set_session_cookie(response, new.token)
    return response


def activation_link(member: Member) -> str:
    settings = get_settings()
    token = sign_value(
        settings.secret_key, "activate", {"m": member.id, "e": member.email, "t": int(time.time())}
    )
    return f"{settings.base_url}/activate/{token}"


async def send_activation(session: SessionDep, member: Member) -> None:
    body = render_string(
        "mail/activate.txt",
        member=member,
        link=activation_link(member),
        site_name=get_settings().site_name,
    )
    await queue_mail(
        session,
        member.email,
        _("Confirm your email for %(site)s", site=get_settings().site_name),
        body,
    )


def _password_fingerprint(member: Member) -> str:
    return sha256_hex(member.password_hash)[:16]


def claim_link(member: Member) -> str:
    """A link that lets the owner of the mailbox take over an unconfirmed account. It names the
    account's email and current password hash, so it stops working once the account is
    claimed (or its email changes), and after ``ACTIVATION_SECONDS``."""
    settings = get_settings()
    token = sign_value(
        settings.secret_key,
        "claim",
        {
            "m": member.id,
            "e": member.email,
            "p": _password_fingerprint(member),
            "t": int(time.time()),
        },
    )
    return f"{settings.base_url}/claim/{token}"


async def send_claim(session: SessionDep, member: Member) -> None:
    settings = get_settings()
    body = render_string(
        "mail/claim.txt", member=member, link=claim_link(member), site_name=settings.site_name
    )
    await queue_mail(
        session,
        member.email,
        _("Finish setting up your account at %(site)s", site=settings.site_name),
        body,
    )


async def _claimable(session: SessionDep, token: str) -> Member | None:
    """The unconfirmed member a claim link names, locked for the claim; None when the link is
    forged, expired, already used or outdated."""
    value = unsign_value(get_settings().secret_key, "claim", token)
    if not isinstance(value, dict) or time.time() - int(value.get("t", 0)) > ACTIVATION_SECONDS:
        return None
    member = (
        await session.execute(
            select(Member).where(Member.id == int(value.get("m", 0))).with_for_update()
        )
    ).scalar_one_or_none()
    if (
        member is None
        or member.email_verified_at is not None
        or member.email != value.get("e")
        or _password_fingerprint(member) != value.get("p")
    ):
        return None
    return member


def _claim_link_invalid(request: Request) -> Response:
    return render(
        request,
        "errors/error.html",
        {"status": 400, "message": _("This confirmation link is invalid or has expired.")},
        status_code=400,
    )


@router.get("/signup")
async def signup_page(request: Request, viewer: OptionalMember) -> Response:
    if viewer is not None:
        return RedirectResponse("/", status_code=303)
    return render(request, "accounts/signup.html", {"form": {}, "errors": {}})


@router.post("/signup")
async def signup(request: Request, session: SessionDep) -> Response:
    settings = get_settings()
    form = await read_form(request)
    wait = await ratelimit.retry_after(
        session, f"signup:ip:{client_ip(request)}", settings.signups_per_ip_per_hour, 3600
    )
    if wait is not None:
        return _too_many(request, "accounts/signup.html", form, wait)
    data, errors = validate(SignUpIn, form)
    if data is None:
        form.pop("password", None)
        return render(
            request, "accounts/signup.html", {"form": form, "errors": errors}, status_code=422
        )
    await ratelimit.hit(session, f"signup:ip:{client_ip(request)}", 3600)
    existing = await service.find_by_email(session, data.email)
    if existing is None:
        member = await service.create_member(session, data, locale=get_locale())
        await send_activation(session, member)
    elif existing.email_verified_at is None:
        # An account nobody has confirmed (imported by the brand, or a sign-up left
        # unconfirmed). The form's password is not used: whoever typed it has not shown they
        # own the address. The mailbox gets a link to choose name and password there.
        from app.kit.security import hash_password

        hash_password(data.password)
        if await ratelimit.consume(session, f"claim:{existing.id}", 1, 600) is None:
            await send_claim(session, existing)
    else:
        # Same answer as a new sign-up, so the form cannot be used to learn who is a member;
        # the owner of the address is told instead.
        from app.kit.security import hash_password

        hash_password(data.password)
        body = render_string(
            "mail/account_exists.txt",
            member=existing,
            base_url=settings.base_url,
            site_name=settings.site_name,
        )
        await queue_mail(
            session,
            existing.email,
            _("You already have an account at %(site)s", site=settings.site_name),
            body,
        )
    return render(request, "accounts/check_inbox.html", {"email": data.email})


@router.get("/activate/{token}")
async def activate(request: Request, token: str) -> Response:
    value = unsign_value(get_settings().secret_key, "activate", token)
    if not isinstance(value, dict) or time.time() - int(value.get("t", 0)) > ACTIVATION_SECONDS:
        return render(
            request,
            "errors/error.html",
            {"status": 400, "message": _("This confirmation link is invalid or has expired.")},
            status_code=400,
        )
    # A link, so a GET: its session is read-only, and the activation is written in a short
    # write transaction of its own (as opening a notification is).
    async with get_database().transaction() as session:
        member = await session.get(Member, int(value.get("m", 0)))
        if member is None or member.email != value.get("e"):
            raise NotFound()
        await service.verify_email(session, member)
        response = await _signed_in(session, request, member, "/")
    flash(response, _("Welcome, %(name)s! Your account is ready.", name=member.display_name))
    return response


@router.get("/claim/{token}")
async def claim_page(request: Request, token: str, session: SessionDep) -> Response:
    member = await _claimable(session, token)
    if member is None:
        return _claim_link_invalid(request)
    return render(
        request,
        "accounts/claim.html",
        {
            "member": member,
            "token": token,
            "form": {"display_name": member.display_name},
            "errors": {},
        },
    )


@router.post("/claim/{token}")
async def claim(request: Request, token: str, session: SessionDep) -> Response:
    member = await _claimable(session, token)
    if member is None:
        return _claim_link_invalid(request)
    form = await read_form(request)
    data, errors = validate(
        SignUpIn,
        {
            "email": member.email,
            "display_name": form.get("display_name", ""),
            "password": form.get("password", ""),
        },
    )
    if data is None:
        form.pop("password", None)
        return render(
            request,
            "accounts/claim.html",
            {"member": member, "token": token, "form": form, "errors": errors},
            status_code=422,
        )
    await service.claim_account(session, member, data.display_name, data.password)
    response = await _signed_in(session, request, member, "/")
    flash(response, _("Welcome, %(name)s! Your account is ready.", name=member.display_name))
    return response


@router.get("/signin")
async def signin_page(request: Request, viewer: OptionalMember) -> Response:
    if viewer is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return render(
        request,
        "accounts/signin.html",
        {"form": {"next": safe_next(request.query_params.get("next"))}, "errors": {}},
    )


def _too_many(request: Request, template: str, form: dict[str, str], wait: int) -> Response:
    form.pop("password", None)
    minutes = max(1, (wait + 59) // 60)
    message = ngettext(
        "Too many attempts. Try again in %(num)s minute.",
        "Too many attempts. Try again in %(num)s minutes.",
        minutes,
    )
    return render(
        request,
        template,
        {"form": form, "errors": {"form": message}},
        status_code=429,
        headers={"Retry-After": str(wait)},
    )


@router.post("/signin")
async def signin(request: Request, session: SessionDep) -> Response:
    settings = get_settings()
    form = await read_form(request)
    form["next"] = safe_next(form.get("next"))
    data, errors = validate(SignInIn, form)
    if data is None:
        form.pop("password", None)
        return render(
            request, "accounts/signin.html", {"form": form, "errors": errors}, status_code=422
        )
    account_key = f"signin:acct:{sha256_hex(data.email.strip().lower())}"
    ip_key = f"signin:ip:{client_ip(request)}"
    window = settings.signin_window_seconds
    waits = [
        await ratelimit.retry_after(
            session, account_key, settings.signin_attempts_per_account, window
        ),
        await ratelimit.retry_after(session, ip_key, settings.signin_attempts_per_ip, window),
    ]
    wait = max((w for w in waits if w is not None), default=None)
    if wait is not None:
        return _too_many(request, "accounts/signin.html", form, wait)
    member = await service.authenticate(session, data.email, data.password)
    if member is None:
        await ratelimit.hit(session, account_key, window)
        await ratelimit.hit(session, ip_key, window)
        keep_writes(request)
        form.pop("password", None)
        return render(
            request,
            "accounts/signin.html",
            {"form": form, "errors": {"form": _("The email or password is not correct.")}},
            status_code=400,
        )
    if member.email_verified_at is None:
        resend_key = f"activation:{member.id}"
        if await ratelimit.consume(session, resend_key, 1, 600) is None:
            await send_activation(session, member)
        keep_writes(request)
        form.pop("password", None)
        return render(
            request,
            "accounts/signin.html",
            {
                "form": form,
                "errors": {
                    "form": _(
                        "Please confirm your email address first. We sent the link to your inbox."
                    )
                },
            },
            status_code=403,
        )
    from app.moderation import policy as moderation_policy

    if moderation_policy.is_suspended(member):
        # Only someone who knows the password learns that (and until when) it is suspended.
        form.pop("password", None)
        return render(
            request,
            "accounts/signin.html",
            {"form": form, "errors": {"form": moderation_policy.suspended_message(member)}},
            status_code=403,
        )
    await ratelimit.reset(session, account_key)
    response = await _signed_in(session, request, member, form["next"])
    return response


@router.post("/signout")
async def signout(request: Request, session: SessionDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await service.end_session(session, token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    flash(response, _("You have signed out."))
    return response


@router.get("/u/{handle}")
async def profile(request: Request, handle: str, session: SessionDep) -> Response:
    member = await queries.shown_member(session, handle)
    if member is None:
        raise NotFound()
    sections = [
        (template, await provide(request, session, member))
        for template, provide in PROFILE_SECTIONS
    ]
    return render(
        request, "accounts/profile.html", {"member": member, "profile_sections": sections}
    )


async def _settings_context(
    request: Request, session: SessionDep, viewer: Member
) -> dict[str, object]:
    from app.accounts.policy import time_zones

    sessions = (
        (
            await session.execute(
                select(AuthSession)
                .where(AuthSession.member_id == viewer.id)
                .order_by(AuthSession.last_seen_at.desc())
            )
        )
        .scalars()
        .all()
    )
    return {
        "time_zones": sorted(time_zones()),
        "sessions": sessions,
        "current_session": getattr(request.state, "session_hash", ""),
        "form": {
            "display_name": viewer.display_name,
            "handle": viewer.handle,
            "bio": viewer.bio,
            "locale": viewer.locale or "",
            "timezone": viewer.timezone or "",
        },
        "errors": {},
        "password_errors": {},
    }


@router.get("/settings")
async def settings_page(request: Request, session: SessionDep, viewer: CurrentMember) -> Response:
    return render(
        request, "accounts/settings.html", await _settings_context(request, session, viewer)
    )


@router.post("/settings")
async def save_settings(request: Request, session: SessionDep, viewer: CurrentMember) -> Response:
    form = await read_form(request)
    fields: dict[str, Any] = {
        key: form[key]
        for key in ("display_name", "handle", "bio", "locale", "timezone")
        if key in form
    }
    data, errors = validate(ProfileIn, fields)
    if data is not None:
        try:
            await service.update_profile(session, viewer, data)
        except KizunaError as exc:
            errors = {exc.field or "form": str(exc.message)}
    if errors:
        context = await _settings_context(request, session, viewer)
        context["form"] = {**context["form"], **fields}  # type: ignore[dict-item]
        context["errors"] = errors
        return render(request, "accounts/settings.html", context, status_code=422)
    response = RedirectResponse("/settings", status_code=303)
    if viewer.locale:
        response.set_cookie(LANG_COOKIE, viewer.locale, max_age=365 * 86400, samesite="lax")
    flash(response, _("Your settings were saved."))
    return response


@router.post("/settings/password")
async def change_password(request: Request, session: SessionDep, viewer: CurrentMember) -> Response:
    form = await read_form(request)
    data, errors = validate(
        PasswordChangeIn,
        {
            "current_password": form.get("current_password", ""),
            "new_password": form.get("new_password", ""),
        },
    )
    if data is not None:
        try:
            await service.change_password(
                session,
                viewer,
                data.current_password,
                data.new_password,
                request.state.session_hash,
            )
        except KizunaError as exc:
            errors = {exc.field or "form": str(exc.message)}
    if errors:
        context = await _settings_context(request, session, viewer)
        context["password_errors"] = errors
        return render(request, "accounts/settings.html", context, status_code=422)
    response = RedirectResponse("/settings", status_code=303)
    flash(response, _("Your password was changed. Your other sessions were signed out."))
    return response


@router.post("/settings/sessions/revoke")
async def revoke_session(request: Request, session: SessionDep, viewer: CurrentMember) -> Response:
    form = await read_form(request)
    if not await service.revoke_session(session, viewer, form.get("session", "")):
        raise NotFound()
    response = RedirectResponse("/settings", status_code=303)
    flash(response, _("That session was signed out."))
    return response


@router.post("/locale")
async def switch_locale(request: Request, session: SessionDep, viewer: OptionalMember) -> Response:
    form = await read_form(request)
    locale = form.get("locale", "")
    if locale not in LOCALES:
        return render(
            request,
            "errors/error.html",
            {"status": 422, "message": _("Choose one of the offered languages.")},
            status_code=422,
        )
    if viewer is not None:
        viewer.locale = locale
        await session.flush()
    response = RedirectResponse(safe_next(form.get("next")), status_code=303)
    response.set_cookie(LANG_COOKIE, locale, max_age=365 * 86400, samesite="lax")
    return response
