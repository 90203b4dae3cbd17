"""Danish everywhere: no form answers bad input with WTForms' English messages on a Danish page.

Every form route in the URL map is posted twice as a role that may use it (every field empty,
then every field a word where numbers, dates, e-mails and choices belong); the page that comes
back must not hold one of WTForms' English texts. In English the same messages are English.
"""
from __future__ import annotations

import pytest

from tests.factories import make_activity
from youthclub.i18n import WTFORMS_MESSAGES

from .conftest import allowed_role, route_url
from .fuzzing import as_role, field_names
from .test_fuzz import _rules, _werkzeug_rule

ENGLISH = ("This field is required.", "Invalid email address.", "Not a valid", "Field must be", "Field cannot be",
           "Invalid Choice", "Invalid input", "Number must be", "Date must be", "is not a valid choice",
           "CSRF token", "Invalid value")
BAD = ("", "zz")


def _english_on(html: str) -> list[str]:
    return [text for text in ENGLISH if text in html]


@pytest.mark.parametrize("rule,endpoint,method", _rules(api=False, methods={"POST"}))
def test_bad_input_is_answered_in_danish(app, client, world, rule, endpoint, method):
    werkzeug_rule = _werkzeug_rule(app, rule, endpoint)
    url = route_url(app, werkzeug_rule, world)
    role = allowed_role(endpoint, method) or allowed_role(endpoint) or "anonymous"
    names = set()
    if "GET" in werkzeug_rule.methods:
        as_role(client, world, role)
        page = client.get(url)
        if page.status_code == 200 and page.mimetype == "text/html":
            names.update(field_names(page.get_data(as_text=True)))
    for value in BAD:
        token = as_role(client, world, role)
        response = client.post(url, data={**{name: value for name in names}, "csrf_token": token})
        if response.mimetype == "text/html":
            assert not _english_on(response.get_data(as_text=True)), f"POST {url} as {role} with {value!r}"


def test_every_wtforms_message_has_danish_and_the_english_is_english(client, world):
    assert client.post_form("/register", {"first_name": ""}).status_code == 200
    html = client.get("/register").get_data(as_text=True)
    assert "Hvor bor du?" in html
    danish = client.post_form("/register", {"first_name": "", "birth_month": "zz"}).get_data(as_text=True)
    assert "Feltet skal udfyldes." in danish and not _english_on(danish)
    # screen 2 of the registration, with an e-mail that is not one
    from youthclub.i18n import local_today
    step1 = {"first_name": "Nour", "birth_month": "1", "birth_year": str(local_today().year - 13),
             "home_district_id": str(world.district_a.id), "gender": ""}
    assert client.post_form("/register", step1).status_code == 302
    html = client.post_form("/register/login", {"email": "ikke-en-mail", "password": ""}).get_data(as_text=True)
    assert "Skriv en gyldig e-mailadresse." in html and "Feltet skal udfyldes." in html and not _english_on(html)
    client.post_form("/language", {"lang": "en"})
    english = client.post_form("/register", {"first_name": ""}).get_data(as_text=True)
    assert "This field is required." in english
    # every message WTForms has is in the table (a new WTForms version may add one)
    from pathlib import Path

    import wtforms
    pot = (Path(wtforms.__file__).parent / "locale" / "wtforms.pot").read_text(encoding="utf-8")
    ids = {i.replace('\\"', '"') for i in (line.split('"', 1)[1].rsplit('"', 1)[0] for line in pot.splitlines()
                                           if line.startswith(("msgid ", "msgid_plural ")))} - {"", "Invalid field name '%s'."}
    assert ids <= set(WTFORMS_MESSAGES), sorted(ids - set(WTFORMS_MESSAGES))


def test_staff_and_admin_forms_say_it_in_danish(client, world):
    make_activity(world.inst_a)
    client.login_as(world.staff_a)
    html = client.post_form(f"/institutions/{world.inst_a.id}/youths/new", {"contact": "x" * 300}).get_data(as_text=True)
    assert "Feltet skal udfyldes." in html and not _english_on(html)
