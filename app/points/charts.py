"""Server-rendered SVG charts (no script, no style attributes: the CSP allows neither).

Colours come from CSS classes in kizuna.css; sizes are SVG geometry, so data-driven heights
need no inline style.
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
    width, height, top, bottom = 600, 170, 18, 24
    plot = height - top - bottom
    highest = max((points for _start, points in weeks), default=0)
    scale = max(highest, 1)
    slot = width / max(len(weeks), 1)
    bar = slot * 0.64
    # Plain f-strings (numbers need no escaping; the label and tooltips are escaped) and
    # memoised tooltip pieces: what Markup.format and ngettext gave, without their cost.
    locale = get_locale()
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
    first = today - timedelta(days=364)
    first -= timedelta(days=first.weekday())
    columns = (today - first).days // 7 + 1
    step = CALENDAR_CELL + CALENDAR_GAP
    width = columns * step + 2
    height = 7 * step + 16
    busiest = max(counts.values(), default=0)
    parts: list[str] = [
        Markup(
            '<svg class="chart calendar" viewBox="0 0 {w} {h}" role="img" aria-label="{label}"'
            ' preserveAspectRatio="xMinYMin meet">'
        ).format(w=width, h=height, label=label)
    ]
    last_month = None
    day = first
    while day <= today:
        column = (day - first).days // 7
        row = day.weekday()
        if row == 0 and day.month != last_month:
            last_month = day.month
            parts.append(
                Markup('<text class="tick" x="{x}" y="9">{m}</text>').format(
                    x=column * step + 1, m=day.month
                )
            )
        count = counts.get(day, 0)
        # 371 cells: plain f-strings (the numbers need no escaping, the tooltip is escaped)
        # and memoised day labels keep this off the profile page's critical path.
        parts.append(
            f'<rect class="cal-{_level(count, busiest)}" x="{column * step + 1}" '
            f'y="{row * step + 14}" width="{CALENDAR_CELL}" height="{CALENDAR_CELL}" rx="2">'
            f"<title>{escape(_tooltip(day, count, get_locale()))}</title></rect>"
        )
        day += timedelta(days=1)
    parts.append(Markup("</svg>"))
    return Markup("".join(parts))


@lru_cache(maxsize=1024)
def _activity_pattern(count: int, locale: str) -> str:
    return translations(locale).ngettext(
        "%(day)s: %(num)s activity", "%(day)s: %(num)s activities", count
    )


@lru_cache(maxsize=4096)
def _day_label(day: date, locale: str) -> str:
    return format_day(day)  # reads the locale the key carries


def _tooltip(day: date, count: int, locale: str) -> str:
    """What ngettext("%(day)s: %(num)s activity", ...) gives, from memoised pieces."""
    return _activity_pattern(count, locale) % {"day": _day_label(day, locale), "num": count}


def legend() -> Markup:
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
