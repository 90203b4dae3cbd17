"""Small cells are hidden, a second cell hides them from totals, rates on hidden counts go too."""
from __future__ import annotations

from datetime import date

from tests import factories as fx
from tests.reports.conftest import year_args
from youthclub.models import Gender
from youthclub.reports.stats import COUNT_FIGURES, Row, Statistics, StatsFilter, secondary_suppress


def _by(rows, dim):
    return {r.key[dim]: r for r in rows}


def test_a_cell_of_two_is_hidden_and_cannot_be_worked_out_from_the_total(app, figures):
    w = figures.world
    stats = Statistics(StatsFilter(date(figures.year, 1, 1), date(figures.year, 12, 31)), 5)
    rows = _by(stats.table(("institution",)), "institution")
    total = stats.headline()
    assert total.values["unique"] == 21 and "unique" not in total.hidden
    assert rows[w.inst_a.id].values["unique"] == 2 and "unique" in rows[w.inst_a.id].hidden
    # with only A hidden, 21 - 12 - 7 would give 2 away: the smallest other cell (C, 7) is hidden too
    assert "unique" in rows[figures.inst_c.id].hidden
    assert "unique" not in rows[w.inst_b.id].hidden
    visible = sum(r.values["unique"] for r in rows.values() if "unique" not in r.hidden)
    assert total.values["unique"] - visible == 9  # only the sum of two hidden cells can be worked out
    # rates built on a hidden count are hidden as well
    assert {"avg_per_session", "avg_with_dropins"} <= rows[w.inst_a.id].hidden


def test_age_band_by_gender_hides_a_cell_from_its_row_and_column_totals(app, figures):
    for _ in range(2):
        fx.attend(fx.make_youth(birth_year=figures.year - 17, birth_month=1, gender=Gender.DRENG), figures.world.session_b)
    stats = Statistics(StatsFilter(date(figures.year, 1, 1), date(figures.year, 12, 31)), 5)
    cells = stats.table(("age_band", "gender"))
    margins = {"age_band": _by(stats.table(("age_band",)), "age_band"), "gender": _by(stats.table(("gender",)), "gender")}
    small = next(c for c in cells if c.key == {"age_band": "16-17", "gender": "dreng"})
    assert small.values["unique"] == 2 and "unique" in small.hidden
    for fixed, across in (("age_band", "gender"), ("gender", "age_band")):
        for value, total in margins[fixed].items():
            line = [c for c in cells if c.key[fixed] == value]
            hidden = [c for c in line if "unique" in c.hidden]
            if "unique" not in total.hidden:
                assert len(hidden) != 1, (fixed, value, [(c.key, c.values["unique"]) for c in line])


def test_changing_the_threshold_takes_effect(app, client, figures):
    w = figures.world
    client.login_as(w.coordinator)
    args = {**year_args(figures.year), "group_by": "institution"}

    def unique_of(institution_id):
        rows = client.get("/api/v1/stats", query_string=args).get_json()["rows"]
        return next(r for r in rows if r["institution"] == institution_id)

    assert unique_of(w.inst_a.id)["unique"] is None
    assert "unique" in unique_of(w.inst_a.id)["suppressed"]
    app.config["SMALL_CELL_THRESHOLD"] = 2
    assert unique_of(w.inst_a.id)["unique"] == 2
    assert unique_of(figures.inst_c.id)["unique"] == 7
    app.config["SMALL_CELL_THRESHOLD"] = 10
    assert unique_of(figures.inst_c.id)["unique"] is None
    assert unique_of(w.inst_b.id)["unique"] == 12 or "unique" in unique_of(w.inst_b.id)["suppressed"]


def test_secondary_suppression_repeats_until_every_line_is_safe():
    def row(**values):
        return Row({}, {f: values.get(f, 0) for f in COUNT_FIGURES})

    a, b, c, d = row(visits=2), row(visits=9), row(visits=6), row(visits=20)
    for r in (a,):
        r.hidden.add("visits")
    row_total, col_total = row(visits=11), row(visits=8)
    # a sits in a row line (a, b) and a column line (a, c)
    secondary_suppress([(row_total, [a, b]), (col_total, [a, c]), (row(visits=26), [c, d]), (row(visits=29), [b, d])], 5)
    assert "visits" in b.hidden and "visits" in c.hidden
    # b and c now make lines (b, d) and (c, d) unsafe, so d goes as well
    assert "visits" in d.hidden


def test_staff_see_their_own_small_numbers_on_the_dashboard_but_not_in_exports(app, client, figures):
    w = figures.world
    client.login_as(w.staff_a)
    page = client.get("/reports", query_string={"year": figures.year}).get_data(as_text=True)
    assert "&lt;5" not in page
    rows = client.get("/api/v1/stats", query_string=year_args(figures.year)).get_json()["rows"]
    assert rows[0]["unique"] is None and "unique" in rows[0]["suppressed"]
    client.login_as(w.coordinator)
    page = client.get("/reports", query_string={"year": figures.year}).get_data(as_text=True)
    assert "&lt;5" in page
