"""A new coordinator sets up an authenticator app from the QR page on a phone, then logs in with a code.

The codes are computed with pyotp from the key the page shows, as an authenticator app would.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pyotp
from playwright.sync_api import expect

from tests import second_factor
from tests.browser.conftest import assert_accessible, wait_to_leave
from tests.factories import PASSWORD, make_user
from youthclub.extensions import db
from youthclub.models import Role


def _password(page, email):
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]:has-text('Log ind')")
    wait_to_leave(page, "/login")


def test_set_up_with_the_qr_page_then_log_in_with_a_code(phone, world):
    email = make_user(Role.COORDINATOR, email="ny.koordinator@example.org").email
    db.session.commit()

    _password(phone, email)
    assert urlsplit(phone.url).path == second_factor.ENROLL
    qr = phone.locator(".mfa-qr svg")
    assert qr.is_visible() and qr.bounding_box()["width"] >= 150  # big enough to scan from a laptop screen
    assert_accessible(phone)
    secret = phone.inner_text("#mfa-secret").replace(" ", "")
    # the password alone opens nothing: the dashboard sends back to the set-up
    phone.goto("/reports")
    assert urlsplit(phone.url).path == second_factor.ENROLL
    phone.fill("input[name=code]", pyotp.TOTP(secret).now())
    phone.click("form button[type=submit]:has-text('Slå til')")
    expect(phone.locator("#recovery-codes li")).to_have_count(10)
    assert_accessible(phone)
    recovery_codes = urlsplit(phone.url).path
    phone.click("a:has-text('Fortsæt')")
    wait_to_leave(phone, recovery_codes)
    assert "/reports" in phone.url

    phone.click("form button:has-text('Log ud')")
    phone.wait_for_load_state()
    _password(phone, email)
    assert urlsplit(phone.url).path == second_factor.CHALLENGE
    assert_accessible(phone)
    phone.fill("input[name=code]", second_factor.code_for(email))
    phone.click("form button[type=submit]:has-text('Log ind')")
    wait_to_leave(phone, second_factor.CHALLENGE)
    assert "/reports" in phone.url
