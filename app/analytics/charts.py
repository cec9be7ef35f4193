"""Server-rendered SVG charts: one module, used by every analytics page.

No script and no inline styles (the Content-Security-Policy forbids both): shapes carry classes
(``series-0``, ``series-prev``, ...) that static/css/kizuna.css colours, and sizes are SVG
attributes. Each chart has a title and a description for screen readers, and a CSV download
beside it carries the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 12, 12, 28


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    css: str = ""


def _number(value: float) -> str:
    if value >= 1000 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:.1f}"


def _svg(title: str, body: str, height: int = HEIGHT) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'preserveAspectRatio="xMidYMid meet" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def line_chart(title: str, labels: Sequence[str], series: Sequence[Series]) -> Markup:
    """Lines over shared x labels (None leaves a gap). The y axis starts at zero."""
    values = [v for s in series for v in s.values if v is not None]
    top = max([*values, 0.0]) or 1.0
    count = max(len(labels), 1)
    inner_w = WIDTH - PAD_LEFT - PAD_RIGHT
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def x(i: int) -> float:
        return PAD_LEFT + (inner_w * i / (count - 1) if count > 1 else inner_w / 2)

    def y(v: float) -> float:
        return PAD_TOP + inner_h * (1 - v / top)

    parts = [
        f'<line class="axis" x1="{PAD_LEFT}" y1="{y(0):.1f}" x2="{WIDTH - PAD_RIGHT}" '
        f'y2="{y(0):.1f}"/>',
        f'<text class="tick" x="{PAD_LEFT - 4}" y="{y(top) + 4:.1f}" text-anchor="end">'
        f"{escape(_number(top))}</text>",
        f'<text class="tick" x="{PAD_LEFT - 4}" y="{y(0):.1f}" text-anchor="end">0</text>',
    ]
    if labels:
        parts.append(
            f'<text class="tick" x="{PAD_LEFT}" y="{HEIGHT - 8}">{escape(labels[0])}</text>'
        )
        parts.append(
            f'<text class="tick" x="{WIDTH - PAD_RIGHT}" y="{HEIGHT - 8}" text-anchor="end">'
            f"{escape(labels[-1])}</text>"
        )
    for index, line in enumerate(series):
        css = line.css or f"series-{index}"
        runs: list[list[str]] = [[]]
        for i, value in enumerate(line.values):
            if value is None:
                runs.append([])
            else:
                runs[-1].append(f"{x(i):.1f},{y(value):.1f}")
        for run in runs:
            if len(run) == 1:
                cx, cy = run[0].split(",")
                parts.append(f'<circle class="{css} dot" cx="{cx}" cy="{cy}" r="2.5"/>')
            elif run:
                parts.append(f'<polyline class="{css} line" points="{" ".join(run)}"/>')
    legend_x = PAD_LEFT
    for index, line in enumerate(series):
        css = line.css or f"series-{index}"
        parts.append(
            f'<rect class="{css} swatch" x="{legend_x}" y="{PAD_TOP - 10}" width="10" height="4"/>'
        )
        parts.append(
            f'<text class="legend" x="{legend_x + 14}" y="{PAD_TOP - 5}">{escape(line.name)}</text>'
        )
        legend_x += 24 + 7 * len(line.name)
    return _svg(title, "".join(parts))


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float]) -> Markup:
    """Horizontal bars, one per label, longest first as given."""
    row = 22
    height = max(PAD_TOP + PAD_BOTTOM, row * len(labels) + 16)
    label_w = 170
    inner_w = WIDTH - label_w - 60
    top = max([*values, 0.0]) or 1.0
    parts: list[str] = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 8 + i * row
        width = max(0.0, inner_w * value / top)
        parts.append(
            f'<text class="tick" x="{label_w - 6}" y="{y + 13}" text-anchor="end">'
            f"{escape(label[:28])}</text>"
        )
        parts.append(
            f'<rect class="series-{i % 6} bar" x="{label_w}" y="{y}" width="{width:.1f}" '
            f'height="{row - 6}"/>'
        )
        parts.append(
            f'<text class="value" x="{label_w + width + 4:.1f}" y="{y + 13}">'
            f"{escape(_number(value))}</text>"
        )
    return _svg(title, "".join(parts), height)
