"""A 13-year-old reads what is held about them: a Danish page (what, where, since when), with the JSON file beside it."""
from __future__ import annotations

from tests.browser.conftest import assert_accessible, login
from tests.factories import attend
from youthclub.extensions import db


def test_my_data_is_a_readable_danish_page_with_the_json_beside_it(phone, world):
    attend(world.youth, world.session_a)
    db.session.commit()
    login(phone, "ung@example.org")
    phone.goto("/account")
    phone.get_by_role("link", name="Se mine data").click()
    phone.wait_for_url("**/account/data/view")
    main = phone.locator("main").inner_text()
    for heading in ("Det ved vi om dig", "Din profil", "Tilmeldinger", "Dine besøg", "Hvor ligger det?"):
        assert heading in main
    assert "Aisha" in main and "Tilmeldt" in main and "siden" in main
    # no raw keys or codes of the JSON on the page
    for raw in ("first_name", "signups", "confirmed", "pass_token", "null", "T0"):
        assert raw not in main, raw
    assert world.youth.pass_token not in phone.content()
    download = phone.get_by_role("link", name="Hent det hele som en fil (JSON)")
    assert download.get_attribute("href").endswith("/account/data")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(phone)
