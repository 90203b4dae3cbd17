"""Browser journey: a coordinator on a phone finds where offers are missing."""
from __future__ import annotations

from tests.browser.conftest import assert_accessible, login


def test_a_coordinator_on_a_phone_reads_where_offers_are_missing(phone, world):
    page = phone
    login(page, "koordinator@example.org")
    page.goto("/reports/offer-gaps")
    assert page.locator("h1").inner_text() == "Hvor mangler der tilbud?"
    assert page.get_by_role("heading", name="Indre Nørrebro (distrikt 8)").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(page)
