"""The contact field holds a way to reach a young person and nothing else; a name holds no digits.

Outside test: "Urolig og voldelig, kendt af politiet" went in as a contact and showed on the profile to
every colleague, "CPR 010203-1234" was kept as the 10 digits of a CPR number, and a last name of ten
digits was taken: the privacy page promises no notes and no CPR number.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from youthclub.accounts.models import YouthProfile, contact_problem, name_problem, normalise_contact
from youthclub.extensions import db

ACCEPTED = ("12345678", "12 34 56 78", "+45 12 34 56 78", "0045 12345678", "12-34-56-78", "(+45) 1234 5678",
            "+46 70 123 45 67", "0046701234567", "ung@example.org", "Ung.Navn+klub@Example.DK")
REFUSED = ("Urolig og voldelig, kendt af politiet. Far sidder i fængsel.", "CPR 010203-1234", "010203-1234",
           "0102031234", "+0102031234", "0045 0102031234", "+45 0102031234", "1234567", "123456789",
           "ring til mor", "mor: 12345678", "urolig @ klubben", "a@b", "ung@example", "+46 70", "12345678 (far)")


@pytest.mark.parametrize("value", ACCEPTED)
def test_phone_numbers_and_e_mails_are_taken(app, value):
    with app.test_request_context():
        assert contact_problem(value) is None


@pytest.mark.parametrize("value", REFUSED)
def test_notes_cpr_numbers_and_broken_numbers_are_refused(app, value):
    with app.test_request_context():
        assert contact_problem(value)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # the app is only read
@given(st.one_of(st.text(max_size=40), st.from_regex(r"\A\(?\+?[0-9 ().-]{6,20}\Z")))
def test_whatever_is_taken_is_kept_as_a_number_of_8_to_15_digits_or_an_e_mail(app, value):
    """Property: nothing the rule lets through is stored as free text or as a 10-digit number without a country code."""
    with app.test_request_context():
        if contact_problem(value) is not None or not value.strip():
            return
    kept = normalise_contact(value)
    assert (kept.count("@") == 1 and not any(ch.isspace() for ch in kept)) or (kept.isdigit() and 8 <= len(kept) <= 15)
    compact = "".join(ch for ch in value if ch not in " ().-")
    if not compact.startswith(("+", "00")):
        assert "@" in kept or len(kept) == 8  # without a country code: a Danish number, never a CPR number's 10 digits


def test_names_with_digits_are_refused(app):
    with app.test_request_context():
        assert name_problem("0102031234") and name_problem("Ali 2") and name_problem("٣")
        assert name_problem("Zoë-Marie") is None and name_problem("Ólafur O'Neill") is None


def test_a_name_of_invisible_characters_or_punctuation_is_refused(client, world):
    """An outside test registered a young person whose first name was two zero-width spaces."""
    from tests.signups.test_youth_accounts import _register

    with client.application.test_request_context():
        for blank in ("\u200b\u200b", "\u2060", "--", "\u200b.\u200b"):
            assert name_problem(blank) == "Et navn skal have mindst ét bogstav.", repr(blank)
        assert name_problem("\u200bAli") is None and name_problem("李") is None
    _register(client, "usynlig@example.org", first_name="\u200b\u200b")
    assert db.session.scalar(select(func.count(YouthProfile.id)).where(YouthProfile.first_name.like("%\u200b%"))) == 0
    page = client.post_form("/register", {"first_name": "\u200b", "birth_month": "5", "birth_year": "2011",
                                          "gender": "", "home_district_id": "0"}).get_data(as_text=True)
    assert "Et navn skal have mindst ét bogstav." in page


def _new(client, world, **fields):
    data = {"first_name": "Notea", "last_name": "", "birth_month": "5", "birth_year": "2011", "gender": "dreng",
            "home_district_id": str(world.district_a.id), "contact": "", "create_anyway": "y", **fields}
    return client.post_form(f"/institutions/{world.inst_a.id}/youths/new", data)


@pytest.mark.parametrize("fields,message", [
    ({"contact": "Urolig og voldelig, kendt af politiet. Far sidder i fængsel."}, "ikke til noter"),
    ({"contact": "CPR 010203-1234"}, "ikke til noter"),
    ({"contact": "010203-1234"}, "8 cifre"),
    ({"last_name": "0102031234"}, "må ikke indeholde tal"),
])
def test_staff_cannot_store_a_note_or_a_cpr_number_about_a_young_person(client, world, fields, message):
    client.login_as(world.staff_a)
    response = _new(client, world, **fields)
    assert response.status_code in (200, 422) and message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(YouthProfile.id)).where(YouthProfile.first_name == "Notea")) == 0
    assert "er registreret" in _new(client, world, contact="+45 12 34 56 78").get_data(as_text=True)
    kept = db.session.scalar(select(YouthProfile.contact).where(YouthProfile.first_name == "Notea"))
    assert kept == "12345678"
