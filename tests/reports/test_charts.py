"""Charts: an institution's name is never clipped, however long, on a phone too."""
from __future__ import annotations

from youthclub.reports.charts import BAR_CHART_WIDTH, LABEL_LINE_CHARS, bar_chart

LONG = "Idrætsforeningen Nørrebro United og Venner af Mimersparkens Fodboldbaner"


def test_a_long_label_wraps_whole_onto_lines_that_fit():
    chart = bar_chart([LONG, "Klub A"], [("Unikke unge", "s1", [12, "<5"])])
    labels = [t["text"] for t in chart.texts if "label" in t["cls"]]
    assert " ".join(labels[:-1]) == LONG and labels[-1] == "Klub A"
    assert all(len(line) <= LABEL_LINE_CHARS for line in labels)
    assert all(t["x"] >= 0 for t in chart.texts)
    # each label line sits above its own bars, never on them
    first_bar = next(b for b in chart.bars)
    assert max(t["y"] for t in chart.texts if t["text"] in labels[:-1]) < first_bar["y"]
    assert chart.width == BAR_CHART_WIDTH and chart.kind == "bar-chart"
