"""The login page works and is accessible on a phone."""
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, login


def test_login_page_on_a_phone_is_accessible(phone, world):
    phone.goto("/login")
    expect(phone.locator("h1")).to_have_text("Log ind", use_inner_text=True)
    assert_accessible(phone)
    login(phone, "koordinator@example.org")
    assert "/reports" in phone.url  # the coordinator starts on the statistics dashboard
    assert_accessible(phone)
