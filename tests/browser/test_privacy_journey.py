"""A young person reads the privacy page, downloads their data and closes their account on a phone."""
import json
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, login


def test_young_person_closes_their_account_on_a_phone(phone, world):
    phone.goto("/privacy")
    assert_accessible(phone)
    login(phone, "ung@example.org")
    phone.goto("/account")
    with phone.expect_download() as download:
        phone.click("text=Hent mine data")
    data = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert data["profile"]["first_name"] == "Aisha"
    phone.click("text=Luk min konto")
    assert_accessible(phone)
    phone.fill("input[name=password]", "correct horse battery")
    phone.check("input[name=confirm]")
    phone.click("button:has-text('Luk min konto nu')")
    expect(phone.locator("main")).to_contain_text("Din konto er lukket")
    phone.goto("/account")
    assert "/login" in phone.url


def test_audit_log_is_accessible(laptop, world):
    login(laptop, "koordinator@example.org")
    laptop.goto("/audit")
    expect(laptop.locator("h1")).to_have_text("Hændelseslog", use_inner_text=True)
    assert_accessible(laptop)
