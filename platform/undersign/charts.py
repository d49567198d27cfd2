"""Charts drawn on the server as inline SVG: no script, no external resource, nothing the CSP refuses.

The page's Content-Security-Policy allows no inline style (``style-src 'self'``),
so the SVG carries no ``style=`` attribute: geometry is in presentation
attributes, colours come from classes in ``static/css/undersign.css`` (lines
also say ``stroke="currentColor"``, so they stay visible without the sheet). Every
label is escaped. Each chart has a ``<title>`` named by ``aria-labelledby`` for
screen readers; the numbers themselves are in the table of
``templates/macros/charts.html`` (``chart_table``), which pages put next to it.
"""

from __future__ import annotations

import hashlib

from flask_babel import gettext as _
from markupsafe import Markup, escape

# The drawing's own coordinates; the SVG scales to its box (the CSS sets the width).
BAR_WIDTH, BAR_HEIGHT = 600, 200
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 8, 12, 24
SPARK_WIDTH, SPARK_HEIGHT = 100, 24


def _number(value: int) -> str:
    return f"{value:,}"


def _coordinate(value: float) -> str:
    """Two decimals at most, no trailing zeros: short, stable output."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _chart_id(kind: str, title: str, payload: object) -> str:
    """An id for ``aria-labelledby``, the same for the same chart (pages stay cacheable and testable)."""
    digest = hashlib.blake2s(f"{kind}|{title}|{payload!r}".encode(), digest_size=5).hexdigest()
    return f"chart-{kind}-{digest}"


def bar_chart(points: list[tuple[str, int]], *, title: str, label_every: int = 1) -> Markup:
    """Vertical bars, one per ``(label, value)``, left to right, with a labelled value axis.

    Every ``label_every``-th label (the first included) is written under its bar;
    every bar carries its label and value in a ``<title>`` (a tooltip). The axis
    is labelled at 0, half the highest value and the highest value. No points
    draws an empty frame saying so; all zeros draw bars of no height on a 0 axis.
    Negative values are drawn as 0.
    """
    label_every = max(1, label_every)
    chart_id = _chart_id("bars", title, points)
    plot_width = BAR_WIDTH - _LEFT - _RIGHT
    plot_height = BAR_HEIGHT - _TOP - _BOTTOM
    base_y = _TOP + plot_height
    highest = max((value for _, value in points), default=0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-bars" viewBox="0 0 {BAR_WIDTH} {BAR_HEIGHT}" '
        f'role="img" aria-labelledby="{chart_id}" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{chart_id}">{escape(title)}</title>',
    ]
    # The value axis: gridlines and labels at 0, half and the top.
    ticks = sorted({0, highest // 2, highest}) if highest > 0 else [0]
    for tick in ticks:
        y = base_y - (plot_height * tick / highest if highest > 0 else 0)
        parts.append(f'<line class="chart-grid" stroke="currentColor" x1="{_LEFT}" x2="{BAR_WIDTH - _RIGHT}" '
                     f'y1="{_coordinate(y)}" y2="{_coordinate(y)}"/>')
        parts.append(f'<text class="chart-tick" x="{_LEFT - 4}" y="{_coordinate(y + 4)}" '
                     f'text-anchor="end">{_number(tick)}</text>')
    if not points:
        parts.append(f'<text class="chart-empty" x="{_LEFT + plot_width / 2:g}" y="{_TOP + plot_height / 2:g}" '
                     f'text-anchor="middle">{escape(_("No data yet"))}</text>')
    slot = plot_width / max(len(points), 1)
    bar = max(slot * 0.8, 0.5)
    for index, (label, value) in enumerate(points):
        height = plot_height * max(value, 0) / highest if highest > 0 else 0
        x = _LEFT + index * slot + (slot - bar) / 2
        parts.append(
            f'<rect class="chart-bar" x="{_coordinate(x)}" y="{_coordinate(base_y - height)}" '
            f'width="{_coordinate(bar)}" height="{_coordinate(height)}">'
            f'<title>{escape(label)}: {_number(value)}</title></rect>'
        )
        if index % label_every == 0:
            parts.append(f'<text class="chart-label" x="{_coordinate(x + bar / 2)}" y="{BAR_HEIGHT - 6}" '
                         f'text-anchor="middle">{escape(label)}</text>')
    parts.append(f'<line class="chart-axis" stroke="currentColor" x1="{_LEFT}" x2="{BAR_WIDTH - _RIGHT}" y1="{base_y}" y2="{base_y}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def sparkline(values: list[int], *, title: str) -> Markup:
    """A small line through ``values`` (oldest first), from 0 at the bottom to its highest value, no axis.

    The bottom is 0, not the lowest value, so a quiet week does not look like a
    steep one. One value draws a flat line, all zeros one along the bottom; none draws an empty box
    (still titled, so a screen reader hears what is missing).
    """
    chart_id = _chart_id("spark", title, values)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sparkline" viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}" '
        f'role="img" aria-labelledby="{chart_id}" preserveAspectRatio="none">',
        f'<title id="{chart_id}">{escape(title)}</title>',
    ]
    if values:
        low = min(0, *values)
        span = max(values) - low
        step = SPARK_WIDTH / (len(values) - 1) if len(values) > 1 else 0
        drawn = [1 + (SPARK_HEIGHT - 2) * (1 - ((value - low) / span if span else 0)) for value in values]
        if len(values) == 1:
            coordinates = [(0.0, drawn[0]), (float(SPARK_WIDTH), drawn[0])]
        else:
            coordinates = [(index * step, y) for index, y in enumerate(drawn)]
        joined = " ".join(f"{_coordinate(x)},{_coordinate(y)}" for x, y in coordinates)
        parts.append(f'<polyline class="sparkline-line" points="{joined}" fill="none" stroke="currentColor"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
