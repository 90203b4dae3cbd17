"""Browser journey: a coordinator on a phone finds where offers are missing."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, login


def test_a_coordinator_on_a_phone_reads_where_offers_are_missing(phone, world):
    page = phone
    login(page, "koordinator@example.org")
    page.goto("/reports/offer-gaps")
    expect(page.locator("h1")).to_have_text("Hvor mangler der tilbud?", use_inner_text=True)
    expect(page.get_by_role("heading", name="Indre Nørrebro (distrikt 8)")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(page)
