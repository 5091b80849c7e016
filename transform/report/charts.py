"""Bar charts as inline SVG, drawn here so the report needs no library and no network.

Every bar is a `<rect class="mark">` carrying its series and category, which is what the
browser test counts. Labels go through `escape`: category names can come from log fields.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 760
BAR_ROW = 26  # height of one bar of a horizontal chart
PALETTE = ("#2563eb", "#dc2626", "#f59e0b", "#7c3aed", "#059669")


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]
    color: str


def _axis(value: float) -> tuple[float, int]:
    """The axis top (1, 2 or 5 times a power of ten, at or above `value`) and how many
    gridlines divide it into round steps."""
    if value <= 0:
        return 1.0, 5
    magnitude = 10.0 ** math.floor(math.log10(value))
    steps = ((1, 5), (2, 4), (5, 5), (10, 5))
    return next((step * magnitude, lines) for step, lines in steps if step * magnitude >= value)


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _svg(chart: str, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" data-chart="{escape(chart)}" role="img" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _empty(chart: str, title: str) -> str:
    text = '<text class="empty" x="20" y="40">No events of this kind in the warehouse.</text>'
    return _svg(chart, 60, title, [text])


def _legend(series: Sequence[Series], y: int) -> list[str]:
    parts, x = [], 60
    for s in series:
        parts.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{s.color}"/>')
        parts.append(f'<text class="legend" x="{x + 16}" y="{y}">{escape(s.name)}</text>')
        x += 24 + 8 * len(s.name)
    return parts


def column_chart(
    chart: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    stacked: bool = False,
    height: int = 260,
) -> str:
    """Vertical bars per category: side by side, or stacked."""
    if not categories or not any(v for s in series for v in s.values):
        return _empty(chart, title)
    left, right, top, bottom = 56, 12, 28, 48
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    peak = max(totals) if stacked else max(v for s in series for v in s.values)
    scale, gridlines = _axis(peak)
    slot = plot_w / len(categories)
    bar_w = slot * 0.8 / (1 if stacked else len(series))
    body = _legend(series, 16)
    for i in range(gridlines + 1):
        value = scale * i / gridlines
        y = top + plot_h - plot_h * i / gridlines
        body.append(
            f'<line class="grid" x1="{left}" x2="{WIDTH - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        body.append(
            f'<text class="axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_number(value)}</text>"
        )
    # Every nth category label, as many as fit side by side at about 6.5 px a character.
    label_width = 6.5 * max(len(c) for c in categories) + 14
    label_every = math.ceil(len(categories) / max(1, int(plot_w // label_width)))
    for i, category in enumerate(categories):
        x0 = left + slot * i + slot * 0.1
        base = top + plot_h
        for j, s in enumerate(series):
            value = s.values[i]
            h = plot_h * value / scale
            x = x0 if stacked else x0 + bar_w * j
            y = base - h
            if stacked:
                base -= h
            body.append(
                f'<rect class="mark" data-series="{escape(s.name)}" '
                f'data-category="{escape(category)}" x="{x:.1f}" y="{y:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}" fill="{s.color}">'
                f"<title>{escape(category)}: {escape(s.name)} {_number(value)}</title></rect>"
            )
        if i % label_every == 0:
            body.append(
                f'<text class="axis" x="{x0 + slot * 0.4:.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle">{escape(category)}</text>'
            )
    return _svg(chart, height, title, body)


def bar_chart(chart: str, title: str, rows: Sequence[tuple[str, float]], color: str) -> str:
    """Horizontal bars, one per labelled value, longest scale first as given."""
    if not rows or not any(value for _, value in rows):
        return _empty(chart, title)
    label_w, right = 220, 80
    height = 12 + BAR_ROW * len(rows)
    peak = max(value for _, value in rows)
    body = []
    for i, (label, value) in enumerate(rows):
        y = 6 + BAR_ROW * i
        w = (WIDTH - label_w - right) * value / peak
        short = label if len(label) <= 32 else label[:31] + "…"
        body.append(
            f'<text class="label" x="{label_w - 8}" y="{y + 16}" text-anchor="end">'
            f"{escape(short)}</text>"
        )
        body.append(
            f'<rect class="mark" data-category="{escape(label)}" x="{label_w}" y="{y + 3}" '
            f'width="{w:.1f}" height="{BAR_ROW - 8}" fill="{color}">'
            f"<title>{escape(label)}: {_number(value)}</title></rect>"
        )
        body.append(
            f'<text class="value" x="{label_w + w + 6:.1f}" y="{y + 16}">{_number(value)}</text>'
        )
    return _svg(chart, height, title, body)
