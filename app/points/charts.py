"""Server-rendered SVG charts (no script, no style attributes: the CSP allows neither).

Colours come from CSS classes in kizuna.css; sizes are SVG geometry, so data-driven heights
need no inline style.

The profile charts are pure functions of their data, the label and the reader's locale, so
each is memoised on exactly those (a bounded cache): a member's page viewed again builds no
SVG, and a changed figure is a different key, so it shows at once.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from markupsafe import Markup, escape

from app.kit.i18n import format_day, get_locale, gettext, translations

CALENDAR_CELL = 11
CALENDAR_GAP = 2


def weekly_bars(weeks: list[tuple[date, int]], *, label: str) -> Markup:
    """A bar per week; each bar's tooltip says the week and its points."""
    return _weekly_bars(tuple(weeks), label, get_locale())


@lru_cache(maxsize=256)
def _weekly_bars(weeks: tuple[tuple[date, int], ...], label: str, locale: str) -> Markup:
    width, height, top, bottom = 600, 170, 18, 24
    plot = height - top - bottom
    highest = max((points for _start, points in weeks), default=0)
    scale = max(highest, 1)
    slot = width / max(len(weeks), 1)
    bar = slot * 0.64
    # Plain f-strings (numbers need no escaping; the label and tooltips are escaped) and
    # memoised tooltip pieces: what Markup.format and ngettext gave, without their cost.
    parts = [
        f'<svg class="chart weekly-points" viewBox="0 0 {width} {height}" role="img"'
        f' aria-label="{escape(label)}" preserveAspectRatio="xMidYMid meet">',
        f'<line class="axis" x1="0" y1="{top + plot}" x2="{width}" y2="{top + plot}"/>',
    ]
    for index, (start, points) in enumerate(weeks):
        bar_height = round(plot * max(points, 0) / scale, 1)
        x = round(index * slot + (slot - bar) / 2, 1)
        y = round(top + plot - bar_height, 1)
        tooltip = _week_pattern(points, locale) % {
            "day": _day_label(start, locale),
            "num": points,
        }
        parts.append(
            f'<g><title>{escape(tooltip)}</title><rect class="bar" x="{x}" y="{y}"'
            f' width="{round(bar, 1)}" height="{bar_height}" rx="2"/>'
        )
        if points:
            parts.append(
                f'<text class="value" x="{round(x + bar / 2, 1)}" y="{round(y - 4, 1)}"'
                f' text-anchor="middle">{points}</text>'
            )
        parts.append(
            f'<text class="tick" x="{round(x + bar / 2, 1)}" y="{height - 6}"'
            f' text-anchor="middle">{start.month}/{start.day}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


@lru_cache(maxsize=1024)
def _week_pattern(points: int, locale: str) -> str:
    return translations(locale).ngettext(
        "Week of %(day)s: %(num)s point", "Week of %(day)s: %(num)s points", points
    )


def _level(count: int, busiest: int) -> int:
    if count <= 0:
        return 0
    if busiest <= 4:
        return min(count, 4)
    return min(4, 1 + (count * 4 - 1) // busiest)


def activity_calendar(counts: dict[date, int], *, today: date, label: str) -> Markup:
    """One square per day for the last year, a column per week (Monday on top), darker with
    more activity."""
    return _activity_calendar(tuple(counts.items()), today, label, get_locale())


@lru_cache(maxsize=128)
def _activity_calendar(
    items: tuple[tuple[date, int], ...], today: date, label: str, locale: str
) -> Markup:
    counts = dict(items)
    busiest = max(counts.values(), default=0)
    width, height, cells = _calendar_frame(today, locale)
    parts: list[str] = [
        f'<svg class="chart calendar" viewBox="0 0 {width} {height}" role="img"'
        f' aria-label="{escape(label)}" preserveAspectRatio="xMinYMin meet">'
    ]
    append = parts.append
    for day, head, title, day_html in cells:
        count = counts.get(day, 0)
        append(head)
        append(str(_level(count, busiest)))
        append(title)
        append(_activity_pattern_html(count, locale) % {"day": day_html, "num": count})
        append("</title></rect>")
    parts.append("</svg>")
    return Markup("".join(parts))


_Cell = tuple[date, str, str, str]


@lru_cache(maxsize=8)
def _calendar_frame(today: date, locale: str) -> tuple[int, int, tuple[_Cell, ...]]:
    """The calendar's geometry for ``today``: its size and, per day, the markup before and
    after the cell's level (a month tick goes before the first Monday of a month) and the
    day's escaped label for its tooltip."""
    first = today - timedelta(days=364)
    first -= timedelta(days=first.weekday())
    columns = (today - first).days // 7 + 1
    step = CALENDAR_CELL + CALENDAR_GAP
    cells: list[_Cell] = []
    last_month = None
    day = first
    while day <= today:
        column = (day - first).days // 7
        row = day.weekday()
        head = '<rect class="cal-'
        if row == 0 and day.month != last_month:
            last_month = day.month
            head = f'<text class="tick" x="{column * step + 1}" y="9">{day.month}</text>' + head
        cells.append(
            (
                day,
                head,
                f'" x="{column * step + 1}" y="{row * step + 14}" width="{CALENDAR_CELL}"'
                f' height="{CALENDAR_CELL}" rx="2"><title>',
                str(escape(_day_label(day, locale))),
            )
        )
        day += timedelta(days=1)
    return columns * step + 2, 7 * step + 16, tuple(cells)


@lru_cache(maxsize=1024)
def _activity_pattern(count: int, locale: str) -> str:
    return translations(locale).ngettext(
        "%(day)s: %(num)s activity", "%(day)s: %(num)s activities", count
    )


@lru_cache(maxsize=1024)
def _activity_pattern_html(count: int, locale: str) -> str:
    """The tooltip pattern, escaped: filled with the escaped day label it gives the escaped
    tooltip (escaping goes character by character, so escaping the pieces escapes the whole)."""
    return str(escape(_activity_pattern(count, locale)))


@lru_cache(maxsize=4096)
def _day_label(day: date, locale: str) -> str:
    return format_day(day)  # reads the locale the key carries


def legend() -> Markup:
    return _legend(get_locale())


@lru_cache(maxsize=8)
def _legend(locale: str) -> Markup:
    cells = Markup("").join(
        Markup('<rect class="cal-{n}" x="{x}" y="0" width="11" height="11" rx="2"/>').format(
            n=level, x=level * 13
        )
        for level in range(5)
    )
    return Markup(
        '<span class="calendar-legend">{less} <svg width="64" height="11" aria-hidden="true">'
        "{cells}</svg> {more}</span>"
    ).format(less=escape(gettext("Less")), cells=cells, more=escape(gettext("More")))
