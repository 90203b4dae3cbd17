"""A 13-year-old finds an offer, registers from it and lands back on it, where one tap signs them up."""
from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible
from tests.factories import confirm_registration, mailed_link, make_activity, make_session
from youthclub.extensions import db
from youthclub.i18n import local_today


def test_registering_from_an_offer_returns_to_the_offer(phone, world):
    activity = make_activity(world.inst_a, title="Klatring for begyndere", capacity=8, min_age=12, max_age=16)
    make_session(activity, day=local_today() + timedelta(days=2))
    db.session.commit()
    offer = f"/activities/{activity.id}"

    phone.goto(offer)
    phone.get_by_role("link", name="Opret en på et minut").click()
    phone.wait_for_url("**/register**")
    # where you live starts at "Vælg": no district is chosen for you
    district = phone.locator("select[name=home_district_id]")
    assert district.input_value() == "" and district.locator("option:checked").inner_text() == "Vælg"
    phone.fill("input[name=first_name]", "Nour")
    phone.select_option("select[name=birth_month]", "1")
    phone.select_option("select[name=birth_year]", str(local_today().year - 13))
    phone.click("button:has-text('Næste')")
    # not chosen: a Danish message next to the field, nothing preset
    assert "Vælg, hvor du bor." in phone.locator("main").inner_text()
    phone.select_option("select[name=home_district_id]", str(world.district_b.id))
    phone.click("button:has-text('Næste')")
    phone.wait_for_url("**/register/login")
    phone.fill("input[name=email]", "nour.klatring@example.org")
    phone.fill("input[name=password]", "klatring er sjovt")
    phone.check("input[name=read_notice]")
    phone.click("button:has-text('Opret konto')")
    # the click starts the submit; the answer's page is read once it has arrived (content() may be the blank in between)
    expect(phone.locator("main")).to_contain_text("Vi har sendt en mail til nour.klatring@example.org")
    # the link in the mail, opened on the same phone: one tap makes the account
    phone.goto(mailed_link("nour.klatring@example.org", "/register/confirm/", within=10))
    assert_accessible(phone)
    phone.get_by_role("button", name="Gør min konto klar").click()
    phone.wait_for_url(f"**{offer}")
    assert "Velkommen, Nour!" in phone.content()
    assert_accessible(phone)
    phone.get_by_role("button", name="Tilmeld mig").click()
    phone.wait_for_url(f"**{offer}")
    assert "Du er tilmeldt" in phone.content()


def test_registration_returns_only_to_local_paths(client, world):
    for target in ("//evil.example/x", "https://evil.example/", "javascript:alert(1)"):
        client.get(f"/register?next={target}")
        step1 = {"first_name": "Ali", "birth_month": "2", "birth_year": str(local_today().year - 15),
                 "home_district_id": "0", "gender": ""}
        assert client.post_form("/register", step1).status_code == 302
        email = f"ali{abs(hash(target))}@example.org"
        client.post_form("/register/login", {"email": email, "password": "en lang adgangskode", "read_notice": "y"})
        response = confirm_registration(client, email)
        assert response.status_code == 302 and response.headers["Location"] in ("/", "/me/activities"), target
        client.post_form("/logout")
