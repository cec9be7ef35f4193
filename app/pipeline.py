"""The request pipeline: body limits, CSRF, one database transaction, the viewer, the locale.

A pure ASGI middleware rather than a dependency, so that every route (pages, API, error pages)
gets the same treatment and the transaction is committed *before* the response starts: a client
that sees a success can rely on its data being stored.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import timedelta
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import String, Table, bindparam, delete, literal, update
from sqlalchemy import cast as sql_cast
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.accounts import service as accounts
from app.accounts.queries import member_of, with_member
from app.config import Settings
from app.db import (
    Database,
    commit_shared,
    database_unavailable,
    discard_after_commit,
    run_after_commit,
)
from app.kit import clock, i18n
from app.kit.errors import ServiceUnavailable
from app.kit.flash import FLASH_COOKIE, read_flashes
from app.kit.security import csrf_token_for, csrf_token_valid, new_token, sha256_hex
from app.kit.sql import read_prebuilt, run_prebuilt
from app.models import ApiToken, AuthSession, Member, RateLimit

logger = logging.getLogger(__name__)

SESSION_COOKIE = "kizuna_session"
ANON_COOKIE = "kizuna_anon"
LANG_COOKIE = "kizuna_lang"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Routes authorised by a signed token in their URL rather than by cookies, so a cross-site
# request gains nothing: RFC 8058 one-click unsubscribe, POSTed by mail programs.
CSRF_EXEMPT_PREFIXES = ("/unsubscribe/",)
NO_DATABASE_PREFIXES = ("/static/", "/healthz", "/favicon.ico")
MAX_BODY = 10 * 1024 * 1024
MAX_FORM_BODY = 1024 * 1024
SEEN_EVERY = timedelta(minutes=5)
RETRY_AFTER = "5"


class BodyTooLarge(Exception):
    pass


def keep_writes(request: Request) -> None:
    """Commit this request's writes even though it answers with an error status
    (a failed sign-in must still count towards its throttle)."""
    request.state.keep_writes = True


def wants_json(scope: Scope) -> bool:
    path: str = scope["path"]
    if path.startswith("/api/"):
        return True
    accept = dict(scope["headers"]).get(b"accept", b"").decode("latin-1")
    return "application/json" in accept and "text/html" not in accept


async def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _limited(receive: Receive, limit: int) -> Receive:
    size = 0

    async def limited_receive() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise BodyTooLarge
        return message

    return limited_receive


# An API token's request budget: its row in rate_limits (app.integrations.ratelimit).
TOKEN_BUDGET_PREFIX = "api-token:"


# The viewer's lookups, built once (they run on every request), with the member and avatar
# read as columns (app.accounts.queries). A token's lookup brings only the token's columns it
# needs, and its budget's row, so a write is refused before it begins when the budget is spent.


def _bearer_query(_insert: Any) -> Any:
    budget_key = literal(TOKEN_BUDGET_PREFIX).concat(sql_cast(ApiToken.id, String))
    return (
        with_member(
            ApiToken.id,
            ApiToken.scopes,
            ApiToken.last_used_at,
            RateLimit.count,
            RateLimit.window_start,
        )
        .join(ApiToken, ApiToken.member_id == Member.id)
        .outerjoin(RateLimit, RateLimit.key == budget_key)
        .where(ApiToken.token_hash == bindparam("p_hash"), ApiToken.revoked_at.is_(None))
    )


def _session_query(_insert: Any) -> Any:
    return (
        with_member(AuthSession.expires_at, AuthSession.last_seen_at)
        .join(AuthSession, AuthSession.member_id == Member.id)
        .where(AuthSession.token_hash == bindparam("p_hash"))
    )


def _touch_session(_insert: Any) -> Any:
    table = cast(Table, AuthSession.__table__)
    return (
        update(table)
        .where(table.c.token_hash == bindparam("p_hash"))
        .values(last_seen_at=bindparam("p_now"), expires_at=bindparam("p_expires"))
    )


def _touch_token(_insert: Any) -> Any:
    table = cast(Table, ApiToken.__table__)
    return (
        update(table).where(table.c.id == bindparam("p_id")).values(last_used_at=bindparam("p_now"))
    )


class RequestPipeline:
    def __init__(self, app: ASGIApp, database: Callable[[], Database], settings: Settings) -> None:
        self.app = app
        self.database = database
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        state: MutableMapping[str, Any] = scope.setdefault("state", {})
        cookies = request.cookies
        new_cookies: list[tuple[str, str, int]] = []

        locale = cookies.get(LANG_COOKIE)
        if locale not in i18n.LOCALES:
            locale = i18n.negotiate_locale(
                request.headers.get("accept-language"), self.settings.default_locale
            )
        i18n.set_locale(locale)
        i18n.set_timezone(i18n.DEFAULT_TIMEZONES.get(locale, "UTC"))
        state["flashes"] = []
        state["viewer"] = None

        if scope["path"].startswith(NO_DATABASE_PREFIXES):
            await self.app(scope, receive, send)
            return

        session_token = cookies.get(SESSION_COOKIE) or None
        authorization = request.headers.get("authorization", "")
        bearer = authorization[7:].strip() if authorization[:7].lower() == "bearer " else None
        binding = ""
        if bearer is None:
            # A browser: its forms carry a token bound to its session, or to a cookie of its
            # own while signed out. An API client (a bearer token) is exempt from CSRF, so it
            # is given neither (it keeps no cookies anyway).
            anon = cookies.get(ANON_COOKIE, "")
            if not (16 <= len(anon) <= 64):
                anon = new_token(16)
                new_cookies.append((ANON_COOKIE, anon, 60 * 60 * 24 * 365))
            binding = sha256_hex(session_token) if session_token else f"anon:{anon}"
            state["csrf_token"] = csrf_token_for(self.settings.secret_key, binding)
        method = scope["method"]
        unsafe = method not in SAFE_METHODS

        try:
            declared = request.headers.get("content-length", "0")
            if not declared.isdigit() or int(declared) > MAX_BODY:
                raise BodyTooLarge
            if unsafe and bearer is None and not scope["path"].startswith(CSRF_EXEMPT_PREFIXES):
                receive = await self._check_csrf(scope, receive, binding)
            else:
                receive = _limited(receive, MAX_BODY)
        except BodyTooLarge:
            await self._error(scope, send, 413, i18n.gettext("The request is too large."))
            return
        except CsrfRejected as rejected:
            await self._error(scope, send, 403, rejected.message, field=CSRF_FIELD)
            return

        if not request.headers.get("hx-request") and FLASH_COOKIE in cookies:
            state["flashes"] = read_flashes(cookies.get(FLASH_COOKIE))
            new_cookies.append((FLASH_COOKIE, "", 0))

        database = self.database()
        db_session = database.session(write=unsafe)
        state["db"] = db_session
        response_started = False
        replaced = False
        try:
            if unsafe and database.is_sqlite:
                # A write session takes SQLite's only write lock at its first statement, and
                # writers queue for it (app.db). The viewer is read first, in a read session,
                # as a read request reads it, so the lock is held for the request's own
                # statements only: with two workers, a like held it a third longer for the
                # lookup (bench/ANALYSIS.md, session 16). PostgreSQL locks rows, not the
                # database, and reads it in the request's own transaction.
                reading = database.session(write=False)
                try:
                    viewer = await self._load_viewer(
                        reading, database, state, session_token, bearer, write=True
                    )
                finally:
                    await _close_quietly(reading)
            else:
                viewer = await self._load_viewer(
                    db_session, database, state, session_token, bearer, write=unsafe
                )
            if viewer is not None:
                db_session.add(viewer)
            if bearer is not None and viewer is None:
                await db_session.rollback()
                await self._error(
                    scope, send, 401, i18n.gettext("The API token is not valid."), field="token"
                )
                return
            if bearer is not None and unsafe and "write" not in state.get("token_scopes", ()):
                await db_session.rollback()
                await self._error(
                    scope, send, 403, i18n.gettext("This API token may only read."), field="token"
                )
                return
            if viewer is not None:
                if viewer.locale in i18n.LOCALES:
                    i18n.set_locale(viewer.locale)
                i18n.set_timezone(
                    viewer.timezone or i18n.DEFAULT_TIMEZONES.get(i18n.get_locale(), "UTC")
                )

            async def send_wrapper(message: Message) -> None:
                nonlocal response_started, replaced
                if replaced:
                    return  # the app's answer was replaced by the outage answer below
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    if status < 400 or state.get("keep_writes"):
                        try:
                            touch = state.pop("touch", None)
                            if touch is not None and status < 400:
                                await touch(db_session)
                            if unsafe:
                                # A read session never writes: closing it below ends its
                                # transaction as a commit would, one trip fewer.
                                await commit_shared(db_session)
                        except Exception as exc:
                            if not database_unavailable(exc):
                                raise
                            # Nothing was stored, so the client must not see a success.
                            await _rollback_quietly(db_session)
                            discard_after_commit(db_session)
                            replaced = response_started = True
                            await self._unavailable(scope, send, exc)
                            return
                        if status < 400:
                            await _after_success(database, state.pop("side_writes", None))
                    else:
                        await db_session.rollback()
                        discard_after_commit(db_session)
                    headers = MutableHeaders(scope=message)
                    for name, value, max_age in new_cookies:
                        headers.append("set-cookie", self._cookie(name, value, max_age))
                    response_started = True
                await send(message)

            await self.app(scope, receive, send_wrapper)
        except BodyTooLarge:
            await db_session.rollback()
            if not response_started:
                await self._error(scope, send, 413, i18n.gettext("The request is too large."))
            return
        except Exception as exc:
            if not database_unavailable(exc):
                await db_session.rollback()
                discard_after_commit(db_session)
                raise
            # The database went away (while loading the viewer, in a middleware or in a
            # route): a clear 503 that a retry can fix; the next request reconnects.
            await _rollback_quietly(db_session)
            discard_after_commit(db_session)
            if response_started:
                raise
            await self._unavailable(scope, send, exc)
            return
        except BaseException:
            await db_session.rollback()
            discard_after_commit(db_session)
            raise
        finally:
            await _close_quietly(db_session)
        await run_after_commit(db_session)

    async def _load_viewer(
        self,
        db_session: Any,
        database: Database,
        state: MutableMapping[str, Any],
        session_token: str | None,
        bearer: str | None,
        *,
        write: bool,
    ) -> Member | None:
        now = clock.now()
        viewer: Member | None = None
        touch_session: str | None = None
        touch_token: int | None = None
        if bearer is not None:
            rows = await read_prebuilt(
                db_session, "pipeline.bearer", _bearer_query, {"p_hash": sha256_hex(bearer)}
            )
            if rows:
                token_id, scopes, last_used_at, budget_count, budget_started = rows[0][:5]
                viewer = member_of(rows[0][5:])
                state["token_scopes"] = ApiToken.scopes_of(scopes)
                state["api_token_id"] = token_id
                if budget_started is not None:
                    state["token_budget"] = (budget_count, budget_started)
                if last_used_at is None or now - last_used_at > timedelta(minutes=1):
                    touch_token = token_id
        elif session_token:
            token_hash = sha256_hex(session_token)
            rows = await read_prebuilt(
                db_session, "pipeline.session", _session_query, {"p_hash": token_hash}
            )
            if rows:
                expires_at, last_seen_at = rows[0][:2]
                member = member_of(rows[0][2:])
                if expires_at > now and member.email_verified_at is not None:
                    viewer = member
                    state["session_hash"] = token_hash
                    if now - last_seen_at > SEEN_EVERY:
                        touch_session = token_hash
        suspended_until = viewer.suspended_until if viewer is not None else None
        if suspended_until is not None and suspended_until > now:
            # Suspended (app.moderation): treated as signed out, by cookie and by API token.
            viewer = None
        state["viewer"] = viewer
        if viewer is None:
            return None
        needs_visit = viewer.last_visit_day != clock.community_day()
        if not (needs_visit or touch_session or touch_token):
            return viewer

        async def touch(session: Any) -> None:
            if touch_session:
                await run_prebuilt(
                    session,
                    "pipeline.touch_session",
                    _touch_session,
                    {
                        "p_hash": touch_session,
                        "p_now": now,
                        "p_expires": now + timedelta(days=self.settings.session_days),
                    },
                )
            if touch_token:
                await run_prebuilt(
                    session,
                    "pipeline.touch_token",
                    _touch_token,
                    {"p_id": touch_token, "p_now": now},
                )

        async def visit(session: Any) -> None:
            await accounts.record_visit(session, viewer.id)

        async def side_writes(session: Any) -> None:
            if needs_visit:
                await visit(session)
            await touch(session)

        # The session's sliding expiry and the token's last use touch the session's or the
        # token's own row only:
        # - a read request writes them (and the day's first visit) in a short write
        #   transaction of its own, first, so the page it renders shows them;
        # - a write request writes them in its own transaction as its last statements, right
        #   before the commit, and only if it succeeded, so a refused request (a forged form,
        #   bad input) changes nothing. Last, so on PostgreSQL the row's lock is held only
        #   for the commit and two requests with one token cannot deadlock on it. (A second
        #   transaction for them cost a tenth of a like.)
        # The day's first visit of a write request is written after its transaction commits,
        # in one of its own, so a request never holds two pooled connections (a burst of first
        # visits would otherwise exhaust the pool) nor its viewer's row while it acts on another
        # member (two members liking each other's posts on their first request of the day
        # would deadlock on PostgreSQL).
        if write:
            if touch_session or touch_token:
                state["touch"] = touch
            if needs_visit:
                state["side_writes"] = visit
            return viewer
        await db_session.close()
        async with database.transaction(write=True) as side:
            await side_writes(side)
        return viewer

    async def _check_csrf(self, scope: Scope, receive: Receive, binding: str) -> Receive:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        origin = headers.get("origin")
        if origin and origin != "null":
            host = headers.get("host", "")
            if urlsplit(origin).netloc != host:
                raise CsrfRejected(i18n.gettext("This request came from another site."))
        token = headers.get(CSRF_HEADER)
        content_type = headers.get("content-type", "")
        if token is None and content_type.startswith("application/x-www-form-urlencoded"):
            body = await _read_body(receive, MAX_FORM_BODY)
            token = parse_qs(body.decode("latin-1")).get(CSRF_FIELD, [None])[0]
            receive = await _replay(body)
        elif token is None and content_type.startswith("multipart/form-data"):
            body = await _read_body(receive, MAX_BODY)
            form = await Request(scope, await _replay(body)).form()
            value = form.get(CSRF_FIELD)
            token = value if isinstance(value, str) else None
            await form.close()
            receive = await _replay(body)
        else:
            receive = _limited(receive, MAX_BODY)
        if not csrf_token_valid(self.settings.secret_key, binding, token):
            raise CsrfRejected(
                i18n.gettext(
                    "Your form expired or came from another site. Reload the page and try again."
                )
            )
        return receive

    async def _unavailable(self, scope: Scope, send: Send, exc: BaseException) -> None:
        logger.error("database unavailable: %s", exc)
        await self._error(
            scope,
            send,
            503,
            str(ServiceUnavailable().message),
            headers=[(b"retry-after", RETRY_AFTER.encode())],
        )

    def _cookie(self, name: str, value: str, max_age: int) -> str:
        secure = "; Secure" if self.settings.secure_cookies else ""
        return f"{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"

    async def _error(
        self,
        scope: Scope,
        send: Send,
        status: int,
        message: str,
        *,
        field: str | None = None,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        if wants_json(scope):
            payload: dict[str, Any] = {"error": {"status": status, "message": message}}
            if field:
                payload["error"]["field"] = field
            body = json.dumps(payload, ensure_ascii=False).encode()
            content_type = b"application/json"
        else:
            from app.kit.templating import render_string

            body = render_string(
                "errors/error.html",
                status=status,
                message=message,
                viewer=None,
                csrf_token="",
                flashes=[],
                request=None,
            ).encode()
            content_type = b"text/html; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", content_type),
                    (b"content-length", str(len(body)).encode()),
                    *(headers or []),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def _after_success(
    database: Database, side_writes: Callable[[Any], Awaitable[None]] | None
) -> None:
    """A successful write request's visit and session touch, in their own transaction. The
    request's work is committed already: a failure here is logged, not answered."""
    if side_writes is None:
        return
    try:
        async with database.transaction(write=True) as side:
            await side_writes(side)
    except Exception:
        logger.exception("recording the visit after a write request failed")


async def _rollback_quietly(db_session: Any) -> None:
    """Roll back a session whose connection may be gone (that error is already handled)."""
    try:
        await db_session.rollback()
    except Exception:
        logger.debug("rollback after a database outage failed", exc_info=True)


async def _close_quietly(db_session: Any) -> None:
    try:
        await db_session.close()
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        logger.debug("closing a session after a database outage failed", exc_info=True)


class CsrfRejected(Exception):
    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


async def purge_expired_sessions(session: Any) -> None:
    await session.execute(delete(AuthSession).where(AuthSession.expires_at <= clock.now()))
