"""The server-drawn charts: valid SVG, one bar per point, escaped labels, and a table with the same numbers."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from flask import render_template_string

from undersign.charts import bar_chart, sparkline

SVG = "{http://www.w3.org/2000/svg}"
DAYS = [("1 Dec", 12), ("2 Dec", 0), ("3 Dec", 1_234), ("4 Dec", 7)]


def _svg(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def _bars(svg: ET.Element) -> list[ET.Element]:
    return [rect for rect in svg.iter(f"{SVG}rect") if rect.get("class") == "chart-bar"]


def _texts(svg: ET.Element, cls: str) -> list[str]:
    return [t.text or "" for t in svg.iter(f"{SVG}text") if t.get("class") == cls]


def test_bar_chart_is_valid_svg_with_one_bar_per_point_and_a_labelled_axis():
    svg = _svg(bar_chart(DAYS, title="Signatures per day"))
    assert svg.tag == f"{SVG}svg"
    assert svg.get("role") == "img"
    title = svg.find(f"{SVG}title")
    assert title is not None and title.text == "Signatures per day"
    assert svg.get("aria-labelledby") == title.get("id")

    bars = _bars(svg)
    assert len(bars) == len(DAYS)
    assert [bar.findtext(f"{SVG}title") for bar in bars] == ["1 Dec: 12", "2 Dec: 0", "3 Dec: 1,234", "4 Dec: 7"]
    heights = [float(bar.get("height", "")) for bar in bars]
    assert heights[2] == max(heights) and heights[1] == 0 and heights[0] > heights[3] > 0
    # The axis names 0 and the highest value; every label is under its bar.
    assert _texts(svg, "chart-tick")[0] == "0" and _texts(svg, "chart-tick")[-1] == "1,234"
    assert _texts(svg, "chart-label") == ["1 Dec", "2 Dec", "3 Dec", "4 Dec"]


def test_label_every_writes_only_some_labels_but_keeps_every_bar():
    hours = [(f"{h:02d}:00", h) for h in range(72)]
    svg = _svg(bar_chart(hours, title="Per hour", label_every=12))
    assert len(_bars(svg)) == 72
    assert _texts(svg, "chart-label") == ["00:00", "12:00", "24:00", "36:00", "48:00", "60:00"]


def test_labels_and_title_are_escaped():
    markup = bar_chart([("<script>alert(1)</script>", 3), ('"quoted" & more', 1)], title="<b>Title</b>")
    assert "<script>" not in markup and "<b>" not in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    svg = _svg(markup)  # still well-formed XML
    assert svg.findtext(f"{SVG}title") == "<b>Title</b>"
    assert _texts(svg, "chart-label") == ["<script>alert(1)</script>", '"quoted" & more']
    spark = sparkline([1, 2], title="</svg><script>x</script>")
    assert "<script>" not in spark
    assert _svg(spark).findtext(f"{SVG}title") == "</svg><script>x</script>"


def test_empty_and_all_zero_charts_still_render():
    empty = _svg(bar_chart([], title="Nothing yet"))
    assert _bars(empty) == [] and _texts(empty, "chart-empty") == ["No data yet"]
    assert _texts(empty, "chart-tick") == ["0"]

    zeros = _svg(bar_chart([("Mon", 0), ("Tue", 0)], title="Quiet"))
    assert [bar.get("height") for bar in _bars(zeros)] == ["0", "0"]
    assert _texts(zeros, "chart-tick") == ["0"]

    assert _svg(sparkline([], title="No week")).find(f"{SVG}polyline") is None
    flat = _svg(sparkline([0, 0, 0], title="Quiet week")).find(f"{SVG}polyline")
    assert flat is not None and len({point.split(",")[1] for point in flat.get("points", "").split()}) == 1


def test_sparkline_has_one_point_per_value_rising_where_the_count_rises():
    svg = _svg(sparkline([0, 3, 9, 9, 1, 0, 4], title="Last 7 days"))
    assert svg.get("role") == "img" and svg.findtext(f"{SVG}title") == "Last 7 days"
    line = svg.find(f"{SVG}polyline")
    assert line is not None
    ys = [float(point.split(",")[1]) for point in line.get("points", "").split()]
    assert len(ys) == 7
    assert ys[2] == ys[3] == min(ys)  # the highest day is drawn at the top
    assert ys[0] == ys[5] == max(ys)  # days with none sit on the bottom


def test_charts_carry_no_inline_style_or_script_for_the_csp():
    for markup in (bar_chart(DAYS, title="t"), sparkline([1, 2, 3], title="t")):
        assert not re.search(r"\sstyle=|<script|\son\w+=|href=", markup)


class _Table(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self.tags: list[str] = []
        self._in = False

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.tags.append(tag)
        self._in = tag in {"th", "td", "summary", "caption"}
        if self._in:
            self.cells.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in = False

    def handle_data(self, data: str) -> None:
        if self._in:
            self.cells[-1] += data


def _chart_table(points: list[tuple[str, int]], caption: str) -> _Table:
    html = render_template_string(
        '{% from "macros/charts.html" import chart_table %}{{ chart_table(points, caption) }}',
        points=points, caption=caption)
    table = _Table()
    table.feed(html)
    return table


def test_the_table_behind_details_holds_the_same_numbers_as_the_chart(app):
    table = _chart_table(DAYS, "Signatures per day")
    assert table.tags[:3] == ["details", "summary", "table"]
    svg = _svg(bar_chart(DAYS, title="Signatures per day"))
    from_chart = [bar.findtext(f"{SVG}title") for bar in _bars(svg)]
    body = table.cells[table.cells.index("Signatures") + 1:]
    rows = [f"{body[i]}: {body[i + 1]}" for i in range(0, len(body), 2)]
    assert rows == from_chart


def test_the_table_escapes_labels_and_says_when_empty(app):
    table = _chart_table([("<script>", 5)], "Per <i>day</i>")
    assert "script" not in table.tags and "i" not in table.tags
    assert "<script>" in table.cells and "5" in table.cells
    assert "Per <i>day</i>" in table.cells
    assert "No data yet." in _chart_table([], "Per day").cells
