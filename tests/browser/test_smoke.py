"""The login page works and is accessible on a phone."""
from tests.browser.conftest import assert_accessible, login


def test_login_page_on_a_phone_is_accessible(phone, world):
    phone.goto("/login")
    assert phone.locator("h1").inner_text() == "Log ind"
    assert_accessible(phone)
    login(phone, "koordinator@example.org")
    assert "/institutions" in phone.url
    assert_accessible(phone)
