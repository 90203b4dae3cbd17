"""Staff pages fit a 360 px phone: nothing pushes the page wider than the screen (in Danish and English)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login


def _page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("english", [False, True])
def test_statistics_and_an_offers_staff_page_fit_a_phone(phone, world, english):
    login(phone, "staff.a@example.org")
    if english:
        phone.get_by_role("button", name="English").click()
        phone.wait_for_load_state()
    # the statistics cards with long labels ("Kapacitetsudnyttelse") and the definitions list
    phone.goto("/reports")
    assert _page_width(phone) <= 360
    # the sessions table scrolls inside its box, screen-reader texts and all
    phone.goto(f"/activities/{world.activity_a.id}/manage")
    expect(phone.locator("table.sessions-table")).to_be_visible()
    assert _page_width(phone) <= 360
