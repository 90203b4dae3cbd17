"""Browser check: on a 360 px phone the institution chart shows every name whole, inside the chart."""
from __future__ import annotations

from pathlib import Path

from tests import factories as fx
from tests.browser.conftest import assert_accessible, login
from youthclub.extensions import db
from youthclub.i18n import local_today

LONG = "Idrætsforeningen Nørrebro United og Venner af Mimersparken"


def test_institution_names_fit_the_chart_on_a_phone(phone, world, tmp_path):
    world.inst_a.name = LONG
    for _ in range(6):
        fx.attend(fx.make_youth(birth_year=local_today().year - 14), world.session_a)
    db.session.commit()
    page = phone
    login(page, "koordinator@example.org")
    page.goto(f"/reports?year={local_today().year}")
    svg = page.locator("svg[aria-labelledby=chart-institution]")
    texts = svg.evaluate("""svg => {
        const width = svg.viewBox.baseVal.width;
        return [...svg.querySelectorAll('text')].map(t => { const b = t.getBBox();
            return {text: t.textContent, left: b.x, right: b.x + b.width, width}; });
    }""")
    assert all(t["left"] >= 0 and t["right"] <= t["width"] for t in texts), texts
    shown = " ".join(t["text"] for t in texts if not t["text"].replace("<", "").isdigit())
    assert LONG in shown
    box = svg.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    svg.screenshot(path=str(Path(tmp_path) / "institution-chart-360.png"))
    assert_accessible(page)
