"""Browser journeys in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

Nothing is downloaded: Playwright launches the system Chromium. Without it the journeys
are skipped locally and fail under CI=true (see tests/conftest.py).
"""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests import second_factor

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PHONE = {"width": 360, "height": 740}


def pytest_collection_modifyitems(items):
    here = Path(__file__).resolve().parent
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def playwright_instance():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Chromium is required in CI (apt-get install chromium)")
        pytest.skip("Chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


def launch(playwright_instance, extra_args=()):
    return playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *extra_args]
    )


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = launch(playwright_instance)
    yield browser
    browser.close()


def phone_context(browser, base_url):
    """A 360×740 touch phone in Danish and Copenhagen time."""
    return browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                               base_url=base_url, locale="da-DK", timezone_id="Europe/Copenhagen")


@pytest.fixture
def phone(browser, live_server):
    """A page on a 360×740 phone viewport, pointed at the live server."""
    context = phone_context(browser, live_server.url)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def laptop(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server.url,
                                  locale="da-DK", timezone_id="Europe/Copenhagen")
    page = context.new_page()
    yield page
    context.close()


def check_accessibility(page) -> list[dict]:
    """Run axe-core on the page; return serious and critical violations (WCAG 2.1 A/AA)."""
    # evaluated through the DevTools protocol: the page's CSP forbids inline <script> tags
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"""
    )
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def assert_accessible(page) -> None:
    violations = check_accessibility(page)
    assert not violations, f"accessibility violations on {page.url}: {violations}"


def wait_to_leave(page, path: str) -> None:
    """Wait until the page has gone on from ``path`` and the next one has loaded.

    A click on a submit button returns once the navigation has started; until the answer has
    arrived the page may still be the old one (or an empty document), and so may its URL.
    """
    page.wait_for_url(lambda url: urlsplit(url).path != path)


def login(page, email: str, password: str = "correct horse battery") -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit]:has-text('Log ind')")
    wait_to_leave(page, "/login")
    complete_second_factor(page, email)


def complete_second_factor(page, email: str) -> None:
    """When the second step follows: set up the app from the key the page shows, or type the
    current code; either code is computed with pyotp, as an authenticator app would."""
    path = urlsplit(page.url).path
    if path == second_factor.ENROLL:
        secret = page.inner_text("#mfa-secret").replace(" ", "")
        page.fill("input[name=code]", second_factor.usable_code(secret, None))
        page.click("form button[type=submit]:has-text('Slå til')")
        recovery_codes = urlsplit(page.url).path
        page.click("a:has-text('Fortsæt')")
        wait_to_leave(page, recovery_codes)
    elif path == second_factor.CHALLENGE:
        page.fill("input[name=code]", second_factor.code_for(email))
        page.click("form button[type=submit]:has-text('Log ind')")
        wait_to_leave(page, second_factor.CHALLENGE)
