"""gettext for English and Japanese.

The active locale and time zone live in context variables set per request by middleware, so
``_()`` in Python and ``{{ _() }}`` in templates both translate for the current reader.
Catalogues are the ``.po`` files under ``app/locale``; they are compiled in memory at import.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import date, datetime
from functools import lru_cache
from io import BytesIO
from typing import Any, Literal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import (
    DateTimePattern,
    format_date,
    format_datetime,
    get_date_format,
    get_datetime_format,
    get_time_format,
    parse_pattern,
)
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from app.kit.paths import LOCALE_DIR

LOCALES = ("en", "ja")
LOCALE_NAMES = {"en": "English", "ja": "日本語"}
DEFAULT_TIMEZONES = {"ja": "Asia/Tokyo", "en": "UTC"}

_locale: ContextVar[str] = ContextVar("kizuna_locale", default="en")
_timezone: ContextVar[str] = ContextVar("kizuna_timezone", default="UTC")


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> _gettext.NullTranslations:
    """The locale's catalogues (one .po file per domain), merged into one: a lookup is one
    dictionary read, where a chain of fallbacks cost a call per catalogue for every string.
    Where two catalogues translate the same message, the first (in name order) wins."""
    folder = LOCALE_DIR / locale / "LC_MESSAGES"
    if locale == "en" or not folder.is_dir():
        return _gettext.NullTranslations()
    merged: Catalog | None = None
    for po_path in sorted(folder.glob("*.po")):
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        if merged is None:
            merged = catalog
            continue
        for message in catalog:
            if not message.id:
                continue  # the header
            kept = merged.get(message.id, message.context)
            if kept is None or not kept.string or kept.fuzzy:
                merged[message.id] = message
    if merged is None:
        return _gettext.NullTranslations()
    buffer = BytesIO()
    write_mo(buffer, merged)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def set_locale(locale: str) -> None:
    _locale.set(locale if locale in LOCALES else "en")


def get_locale() -> str:
    return _locale.get()


def set_timezone(zone: str) -> None:
    _timezone.set(zone)


def get_timezone() -> str:
    return _timezone.get()


def gettext(message: str, **variables: Any) -> str:
    text = translations(get_locale()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = translations(get_locale()).ngettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


_ = gettext


class LazyString:
    """A message translated when it is shown, for module-level text (errors, choices)."""

    __slots__ = ("message", "variables")

    def __init__(self, message: str, **variables: Any) -> None:
        self.message = message
        self.variables = variables

    def __str__(self) -> str:
        return gettext(self.message, **self.variables)

    def __repr__(self) -> str:
        return f"LazyString({self.message!r})"

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(str(self)))


def lazy_gettext(message: str, **variables: Any) -> LazyString:
    return LazyString(message, **variables)


def negotiate_locale(header: str | None, default: str) -> str:
    """Pick en or ja from an Accept-Language header, honouring q-values."""
    if not header:
        return default
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        piece = part.strip()
        if not piece:
            continue
        tag, _sep, params = piece.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LOCALES and quality > 0:
            choices.append((-quality, index, primary))
    return sorted(choices)[0][2] if choices else default


def local_datetime(value: datetime, zone: str | None = None) -> datetime:
    return value.astimezone(ZoneInfo(zone or get_timezone()))


Style = Literal["full", "long", "medium", "short"]
STYLES: tuple[Style, ...] = ("full", "long", "medium", "short")


@lru_cache(maxsize=len(STYLES) * len(LOCALES))
def _datetime_patterns(
    locale: str, style: Style
) -> tuple[Locale, str, DateTimePattern, DateTimePattern]:
    """What babel's ``format_datetime`` looks up for a named style on every call: the locale,
    how the date and the time are joined, and the time's and the date's patterns."""
    found = Locale.parse(locale)
    joined = str(get_datetime_format(style, locale=found)).replace("'", "")
    time_pattern = parse_pattern(get_time_format(style, locale=found))
    return found, joined, time_pattern, parse_pattern(get_date_format(style, locale=found))


def format_when(value: datetime | None, style: str = "medium") -> str:
    """``value`` in the reader's time zone and language, as babel's ``format_datetime`` writes
    it for ``style`` (the same patterns, looked up once: a list of 30 dates spent half its
    time on the lookups)."""
    if value is None:
        return ""
    local = local_datetime(value)
    if style not in STYLES:
        return format_datetime(local, format=style, locale=Locale.parse(get_locale()))
    locale, joined, time_pattern, date_pattern = _datetime_patterns(get_locale(), style)
    day = local.date()
    return joined.replace(
        "{0}", time_pattern.apply(local.timetz(), locale, reference_date=day)
    ).replace("{1}", date_pattern.apply(day, locale))


def format_day(value: date | None, style: str = "medium") -> str:
    if value is None:
        return ""
    return format_date(value, format=style, locale=Locale.parse(get_locale()))


def choices(values: Iterable[tuple[str, LazyString]]) -> list[tuple[str, str]]:
    return [(key, str(label)) for key, label in values]
