"""Charts as inline SVG, rendered on the server: no script, no external resource, nothing the CSP has to allow.

Every chart carries a ``<title>`` (its accessible name); the page puts the
same numbers in a table next to it.
"""

from __future__ import annotations

from markupsafe import Markup, escape

_WIDTH = 640
_HEIGHT = 200
_AXIS = 20  # room under the bars for the labels


def bar_chart(points: list[tuple[str, int]], *, title: str, label_every: int = 1) -> Markup:
    """A bar per point (label, value), labelled every ``label_every`` bars, scaled to the largest value."""
    top = max([value for _, value in points] + [1])
    width = _WIDTH / max(len(points), 1)
    plot = _HEIGHT - _AXIS
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {_WIDTH} {_HEIGHT}" '
             f'preserveAspectRatio="none"><title>{escape(title)}</title>']
    for i, (label, value) in enumerate(points):
        height = plot * max(value, 0) / top
        x = i * width
        parts.append(f'<rect class="chart-bar" x="{x:.2f}" y="{plot - height:.2f}" width="{max(width - 1, 0.5):.2f}" '
                     f'height="{height:.2f}"><title>{escape(label)}: {value:,}</title></rect>')
        if label_every > 0 and i % label_every == 0:
            parts.append(f'<text class="chart-label" x="{x:.2f}" y="{_HEIGHT - 4}" font-size="10">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def sparkline(values: list[int], *, title: str) -> Markup:
    """A small line through ``values``, scaled to the largest."""
    width, height = 100, 24
    top = max(values + [1])
    step = width / max(len(values) - 1, 1)
    points = " ".join(f"{i * step:.2f},{height - 2 - (height - 4) * max(v, 0) / top:.2f}" for i, v in enumerate(values))
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sparkline" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}"><title>{escape(title)}</title>'
        f'<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{points}"/></svg>'
    )
