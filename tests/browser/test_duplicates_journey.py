"""Staff on a phone: warned about a second Zara, register her anyway, then merge the two profiles."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, login


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 360


def _register_zara(phone, institution_id: int, district_id: int) -> None:
    phone.goto(f"/institutions/{institution_id}/youths/new")
    phone.fill("input[name=first_name]", "Zara")
    phone.select_option("select[name=birth_month]", "2")
    phone.select_option("select[name=birth_year]", "2014")
    phone.select_option("select[name=home_district_id]", str(district_id))  # starts at "Vælg"
    phone.get_by_role("button", name="Registrér").click()
    phone.wait_for_load_state()


def test_a_second_zara_is_asked_about_and_merged_away(phone, world):
    institution_id = world.inst_a.id
    login(phone, "staff.a@example.org")
    _register_zara(phone, institution_id, world.district_a.id)
    expect(phone.get_by_text("Zara er registreret.")).to_be_visible()

    _register_zara(phone, institution_id, world.district_a.id)
    expect(phone.get_by_role("heading", name="Er det en af disse?")).to_be_visible()
    assert _fits(phone)
    assert_accessible(phone)
    phone.get_by_label("Nej, det er en anden person. Opret en ny profil.").check()
    phone.get_by_role("button", name="Registrér").click()
    phone.wait_for_load_state()
    expect(phone.get_by_text("Zara er registreret.")).to_be_visible()

    phone.goto(f"/institutions/{institution_id}/youths/new")
    phone.locator("ul.list a", has_text="Zara").first.click()
    phone.get_by_role("link", name="Slå sammen med", exact=False).click()
    phone.wait_for_load_state()
    expect(phone.get_by_role("heading", name="Slå to profiler sammen")).to_be_visible()
    assert _fits(phone)
    assert_accessible(phone)
    phone.get_by_role("button", name="Slå sammen").click()
    phone.wait_for_load_state()
    expect(phone.get_by_text("Profilerne er slået sammen.", exact=False)).to_be_visible()
    phone.goto(f"/institutions/{institution_id}/youths/new")
    assert phone.locator("ul.list a", has_text="Zara").count() == 1
