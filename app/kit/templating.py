"""Jinja2 rendering: one environment per language, autoescape on, gettext bound to the
reader's locale; a template's fixed messages are translated in when it is compiled
(:class:`FoldedMessages`).

A route renders the full page for a normal request and a partial for htmx
(``HX-Request: true``); responses then vary on that header.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.ext import Extension
from jinja2.lexer import (
    TOKEN_DOT,
    TOKEN_LPAREN,
    TOKEN_NAME,
    TOKEN_PIPE,
    TOKEN_RPAREN,
    TOKEN_STRING,
    Token,
    TokenStream,
)
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


class FoldedMessages(Extension):
    """Translates ``_("a literal")`` once, when a template is compiled, into the language of
    its environment (one per language, see :func:`environment`): the text is then part of
    the template's own output, with no call at all when it renders. A topic list has two
    dozen of these (menus, tabs, headings), and their calls were 5.5% of its CPU. The text
    is what :func:`_gettext` gives: formatted with ``%`` (``%%`` reads ``%``), and marked
    safe where the template escapes. A message with values, ``{% trans %}`` and
    ``ngettext`` are translated when they render, as before."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        locale: str = self.environment.kizuna_locale  # type: ignore[attr-defined]
        autoescape = self.environment.autoescape
        escape = bool(autoescape(stream.name) if callable(autoescape) else autoescape)
        window: list[Token] = []
        previous: Token | None = None
        for token in stream:
            window.append(token)
            if len(window) < 4:
                continue
            folded = _folded(window, previous, locale, escape)
            if folded is None:
                previous = window.pop(0)
                yield previous
                continue
            yield from folded
            previous, window = folded[-1], []
        yield from window


def _folded(
    window: list[Token], previous: Token | None, locale: str, escape: bool
) -> list[Token] | None:
    """``(text|safe)`` (``(text)`` where the template does not escape) for the tokens
    ``_ ( "message" )``; None for anything else (``x._(...)`` is an attribute's call)."""
    name, opening, message, closing = window
    if not (
        name.test("name:_")
        and opening.type == TOKEN_LPAREN
        and message.type == TOKEN_STRING
        and closing.type == TOKEN_RPAREN
        and (previous is None or previous.type != TOKEN_DOT)
    ):
        return None
    try:
        text = i18n.translations(locale).gettext(message.value) % {}
    except (KeyError, TypeError, ValueError):
        return None  # needs values: it fails when it renders, as it would have
    line = name.lineno
    tokens = [Token(line, TOKEN_LPAREN, "("), Token(line, TOKEN_STRING, text)]
    if escape:
        tokens += [Token(line, TOKEN_PIPE, "|"), Token(line, TOKEN_NAME, "safe")]
    return [*tokens, Token(line, TOKEN_RPAREN, ")")]


def _env(locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True, default=False),
        extensions=["jinja2.ext.i18n", FoldedMessages],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=get_settings().env != "production",
        # Every template kept, in a plain dict: the app's templates are a fixed set, and
        # Jinja's bounded cache takes a lock and reorders a queue on each lookup (0.3% of a
        # topic list's instructions, which looks up five templates).
        cache_size=-1,
    )
    env.extend(kizuna_locale=locale)
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


def environment() -> Environment:
    """The environment of the current language (:func:`app.kit.i18n.get_locale`): its
    templates have their fixed messages translated in (:class:`FoldedMessages`), so take a
    template from it for each rendering, in the reader's language. The languages' environments
    share their globals and filters: one set on this one is set on all."""
    return _environments()[i18n.get_locale()]


@lru_cache(maxsize=1)
def _environments() -> dict[str, Environment]:
    environments = {locale: _env(locale) for locale in i18n.LOCALES}
    first = environments[i18n.LOCALES[0]]
    for env in environments.values():
        env.globals, env.filters, env.tests = first.globals, first.filters, first.tests
    return environments


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
