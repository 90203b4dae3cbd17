"""Bar charts drawn server-side as SVG geometry; the template draws rectangles and texts with CSS classes.

Each chart sits beside a data table with the same numbers, which is what a screen reader reads;
the SVG itself is one labelled image.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field


@dataclass
class Chart:
    width: int
    height: int
    bars: list = field(default_factory=list)
    texts: list = field(default_factory=list)
    legend: list = field(default_factory=list)
    #: a CSS class for the chart's kind (a bar chart is drawn phone-sized and kept from growing too big)
    kind: str = ""


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000, 100000):
        if value <= step * 4:
            return step * 4
    return value * 1.1


def column_chart(categories: list[str], series: list[tuple[str, str, list]]) -> Chart:
    """Vertical grouped columns: one group per category (e.g. month), one column per series.

    A value that is text (a hidden figure's mark) is written where the column would start.
    """
    width, height, left, bottom, top = 640, 260, 44, 36, 12
    chart = Chart(width, height)
    values = [v for _, _, vs in series for v in vs if isinstance(v, (int, float))]
    top_value = _nice_max(max(values, default=0))
    plot_h = height - bottom - top
    n = max(len(categories), 1)
    group_w = (width - left - 8) / n
    bar_w = max(min(group_w * 0.8 / max(len(series), 1), 40), 2)
    for tick in range(5):
        value = top_value * tick / 4
        y = top + plot_h - plot_h * tick / 4
        chart.texts.append({"x": left - 6, "y": y + 4, "text": f"{value:g}", "cls": "axis", "anchor": "end"})
        chart.bars.append({"x": left, "y": y, "w": width - left - 8, "h": 1, "cls": "grid"})
    for i, category in enumerate(categories):
        gx = left + i * group_w + (group_w - bar_w * len(series)) / 2
        for j, (_, cls, vs) in enumerate(series):
            v = vs[i]
            x = gx + j * bar_w
            if not isinstance(v, (int, float)):
                chart.texts.append({"x": x + bar_w / 2, "y": top + plot_h - 4, "text": v or "–", "cls": "hidden-value", "anchor": "middle"})
                continue
            h = plot_h * v / top_value
            chart.bars.append({"x": x, "y": top + plot_h - h, "w": bar_w - 1, "h": h, "cls": cls})
        chart.texts.append({"x": left + i * group_w + group_w / 2, "y": height - bottom + 16, "text": category, "cls": "axis", "anchor": "middle"})
    chart.legend = [(name, cls) for name, cls, _ in series]
    return chart


#: a bar chart is drawn for a phone's width: its 12-pixel labels stay readable at 360 px
BAR_CHART_WIDTH = 360
#: label characters on one line: 12-pixel text averages under 7 pixels a character, so this fits the width
LABEL_LINE_CHARS = 44
LABEL_LINE_H = 15


def label_lines(text: str, width: int = LABEL_LINE_CHARS) -> list[str]:
    """A label as lines that fit the chart: wrapped at spaces, a word longer than a line broken."""
    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=True) or [""]


def bar_chart(categories: list[str], series: list[tuple[str, str, list]]) -> Chart:
    """Horizontal grouped bars: one row per category (e.g. institution), its label on the lines above its bars.

    The label is whole (wrapped, never clipped), whatever the screen: a long institution name
    takes two lines rather than losing its start.
    """
    width, row_gap, bar_h, value_w = BAR_CHART_WIDTH, 10, 16, 44
    values = [v for _, _, vs in series for v in vs if isinstance(v, (int, float))]
    top_value = _nice_max(max(values, default=0))
    plot_w = width - value_w
    rows, y = [], 4
    for category in categories:
        lines = label_lines(category)
        rows.append((y, lines))
        y += LABEL_LINE_H * len(lines) + 2 + bar_h * len(series) + row_gap
    chart = Chart(width, max(y, 40), kind="bar-chart")
    for i, (y0, lines) in enumerate(rows):
        for n, line in enumerate(lines):
            chart.texts.append({"x": 0, "y": y0 + LABEL_LINE_H * (n + 1) - 3, "text": line, "cls": "axis label",
                                "anchor": "start"})
        bars_y = y0 + LABEL_LINE_H * len(lines) + 2
        for j, (_, cls, vs) in enumerate(series):
            v = vs[i]
            by = bars_y + j * bar_h
            if not isinstance(v, (int, float)):
                chart.texts.append({"x": 4, "y": by + bar_h - 4, "text": v or "–", "cls": "hidden-value", "anchor": "start"})
                continue
            w = plot_w * v / top_value
            chart.bars.append({"x": 0, "y": by, "w": max(w, 0), "h": bar_h - 2, "cls": cls})
            chart.texts.append({"x": w + 4, "y": by + bar_h - 4, "text": f"{v:g}", "cls": "value", "anchor": "start"})
    chart.legend = [(name, cls) for name, cls, _ in series]
    return chart
