"""Browser journey: from any page's footer on a phone to the accessibility statement."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible


def test_a_phone_reaches_the_accessibility_statement_from_the_footer(phone, world):
    page = phone
    page.goto("/activities")
    page.locator("footer").get_by_role("link", name="Tilgængelighedserklæring").click()
    page.wait_for_url("**/was")
    expect(page.locator("h1")).to_have_text("Tilgængelighedserklæring", use_inner_text=True)
    page.evaluate("document.fonts.ready.then(() => true)")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > 360)
        .map(e => `${e.tagName}.${e.className}: ${Math.round(e.getBoundingClientRect().right)}`)""")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, wide
    assert_accessible(page)
