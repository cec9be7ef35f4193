"""Jinja2 rendering: one environment, autoescape on, gettext bound to the reader's locale.

A route renders the full page for a normal request and a partial for htmx
(``HX-Request: true``); responses then vary on that header.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from app import __version__
from app.config import get_settings
from app.kit import i18n
from app.kit.paths import STATIC_DIR, TEMPLATES_DIR


@lru_cache
def static_version(path: str) -> str:
    """A content hash for cache-busting, so static files can be cached for a year."""
    target = STATIC_DIR / path
    try:
        return hashlib.sha256(target.read_bytes()).hexdigest()[:10]
    except OSError:
        return __version__


def static_url(path: str) -> str:
    return f"/static/{path}?v={static_version(path)}"


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True, default=False),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=get_settings().env != "production",
        # Every template kept, in a plain dict: the app's templates are a fixed set, and
        # Jinja's bounded cache takes a lock and reorders a queue on each lookup (0.3% of a
        # topic list's instructions, which looks up five templates).
        cache_size=-1,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    # ``_()`` and ``{% trans %}`` without plural, answered from a memo (see _gettext).
    env.globals.update(gettext=_gettext, _=_gettext)
    env.filters["when"] = i18n.format_when
    env.filters["day"] = i18n.format_day
    env.globals.update(
        static_url=static_url,
        get_locale=i18n.get_locale,
        locale_names=i18n.LOCALE_NAMES,
        site_name=lambda: get_settings().site_name,
        version=__version__,
    )
    return env


def _translated(locale: str, message: str, escape: bool, variables: Mapping[str, Any]) -> str:
    text = i18n.translations(locale).gettext(message)
    return (Markup(text) if escape else text) % variables


@lru_cache(maxsize=8192)
def _plain(locale: str, message: str, escape: bool) -> str:
    return _translated(locale, message, escape, {})


@pass_context
def _gettext(context: Context, message: str, /, **variables: Any) -> str:
    """Jinja's newstyle gettext, as ``install_gettext_callables`` makes it, with the common
    case memoised: a message without variables is translated, marked safe and put through
    ``%`` (newstyle always formats, so ``%%`` reads ``%``) once per locale, not on every
    render. A page has a few dozen of them (menus, buttons, labels), and Jinja's own wrapper
    (two context calls, a Markup, an escaping ``%``) cost a tenth of a signed-in topic page
    (bench/ANALYSIS.md, session 9). Messages with variables go the usual way."""
    escape = bool(context.eval_ctx.autoescape)
    if not variables:
        return _plain(i18n.get_locale(), message, escape)
    return _translated(i18n.get_locale(), message, escape, variables)


@lru_cache
def environment() -> Environment:
    return _env()


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def render_string(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    state = request.state
    full_context: dict[str, Any] = {
        "request": request,
        "viewer": getattr(state, "viewer", None),
        "csrf_token": getattr(state, "csrf_token", ""),
        "flashes": getattr(state, "flashes", []),
        "htmx": is_htmx(request),
    }
    if context:
        full_context.update(context)
    body = render_string(template, **full_context)
    response = HTMLResponse(body, status_code=status_code, headers=headers)
    response.headers["Vary"] = "HX-Request, Cookie, Accept-Language"
    return response


def markup(text: str) -> Markup:
    """Trusted, already-sanitised HTML (the "cooked" form of Markdown)."""
    return Markup(text)
