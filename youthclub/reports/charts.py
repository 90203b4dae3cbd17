"""Bar charts drawn server-side as SVG geometry; the template draws rectangles and texts with CSS classes.

Each chart sits beside a data table with the same numbers, which is what a screen reader reads;
the SVG itself is one labelled image.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Chart:
    width: int
    height: int
    bars: list = field(default_factory=list)
    texts: list = field(default_factory=list)
    legend: list = field(default_factory=list)


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


def bar_chart(categories: list[str], series: list[tuple[str, str, list]]) -> Chart:
    """Horizontal grouped bars: one row per category (e.g. institution), one bar per series."""
    label_w, width, row_gap = 200, 640, 10
    bar_h = 16
    row_h = bar_h * len(series) + row_gap
    height = max(row_h * len(categories) + 8, 40)
    chart = Chart(width, height)
    values = [v for _, _, vs in series for v in vs if isinstance(v, (int, float))]
    top_value = _nice_max(max(values, default=0))
    plot_w = width - label_w - 60
    for i, category in enumerate(categories):
        y0 = 4 + i * row_h
        chart.texts.append({"x": label_w - 8, "y": y0 + row_h / 2, "text": category[:32], "cls": "axis", "anchor": "end"})
        for j, (_, cls, vs) in enumerate(series):
            v = vs[i]
            y = y0 + j * bar_h
            if not isinstance(v, (int, float)):
                chart.texts.append({"x": label_w + 4, "y": y + bar_h - 4, "text": v or "–", "cls": "hidden-value", "anchor": "start"})
                continue
            w = plot_w * v / top_value
            chart.bars.append({"x": label_w, "y": y, "w": max(w, 0), "h": bar_h - 2, "cls": cls})
            chart.texts.append({"x": label_w + w + 4, "y": y + bar_h - 4, "text": f"{v:g}", "cls": "value", "anchor": "start"})
    chart.legend = [(name, cls) for name, cls, _ in series]
    return chart
