"""The personal calendar on a phone: a webcal:// link the calendar app opens, and a copy button (script from a file)."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, login


def test_calendar_address_opens_in_the_calendar_and_copies(phone, world, live_server):
    phone.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    login(phone, "ung@example.org")
    phone.goto("/me/activities")
    phone.get_by_role("button", name="Lav en kalender-adresse").click()
    phone.wait_for_url("**/me/activities#calendar")
    address = phone.locator("#feed-url").input_value()
    assert address.startswith("http") and address.endswith(".ics")
    link = phone.get_by_role("link", name="Åbn i din kalender")
    assert link.get_attribute("href") == "webcal://" + address.split("://", 1)[1]
    copy = phone.get_by_role("button", name="Kopiér adressen")
    copy.click()
    expect(phone.locator("#feed-copied")).to_have_text("Adressen er kopieret.")
    assert phone.evaluate("navigator.clipboard.readText()") == address
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(phone)
