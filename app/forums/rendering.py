"""Small, memoised helpers for forum templates.

A page of posts formats a time and a like count per post. Both results depend only on their
inputs and the reader's locale and time zone, so they are computed once per distinct value and
kept (bounded), which takes Babel's date formatting and the gettext fallback chain off the
per-post path. The output is exactly what ``format_when`` and ``ngettext`` give.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from app.kit import i18n
from app.kit.templating import environment

_KEPT = 16384


@lru_cache(maxsize=_KEPT)
def _when(value: datetime, style: str, locale: str, zone: str) -> str:
    # The key carries the locale and zone that format_when reads from the context.
    return i18n.format_when(value, style)


def when_cached(value: datetime | None, style: str = "medium") -> str:
    """``|when``, memoised per (time, style, locale, time zone)."""
    if value is None:
        return ""
    return _when(value, style, i18n.get_locale(), i18n.get_timezone())


@lru_cache(maxsize=1024)
def _likes(count: int, locale: str) -> str:
    return i18n.ngettext("%(num)s like", "%(num)s likes", count)


def likes_label(count: int) -> str:
    """The like count ("3 likes") in the reader's language."""
    return _likes(int(count), i18n.get_locale())


def install() -> None:
    env = environment()
    env.filters["when_cached"] = when_cached
    env.globals["likes_label"] = likes_label
