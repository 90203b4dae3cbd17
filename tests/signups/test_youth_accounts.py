"""Young people's accounts: registration, staff-made profiles with claim codes, password reset, consent."""
from __future__ import annotations

import re
from datetime import timedelta
from email.header import decode_header, make_header

import pytest

from tests.factories import confirm_registration, mailed_link
from youthclub.accounts import youth_services
from youthclub.accounts.models import (
    ConsentKind,
    ConsentRecord,
    ConsentStatus,
    OneTimeToken,
    TokenPurpose,
    User,
    YouthProfile,
)
from youthclub.db_types import utcnow
from youthclub.extensions import db
from youthclub.i18n import local_today

LINK = re.compile(r"http://localhost(/\S+)")


def _body(message) -> str:
    return message.get_payload(decode=True).decode(message.get_content_charset())


def _subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def test_registration_in_two_screens_logs_in_for_long(client, world):
    year = local_today().year - 13
    page = client.get("/register").get_data(as_text=True)
    assert "Trin 1 af 2" in page
    first = client.post_form("/register", {
        "first_name": "Sara", "last_name": "", "birth_month": "3", "birth_year": str(year),
        "gender": "pige", "home_district_id": str(world.district_a.id),
    })
    assert first.status_code == 302 and first.headers["Location"].endswith("/register/login")
    second_page = client.get("/register/login").get_data(as_text=True)
    assert "Det gemmer vi om dig" in second_page and "CPR" in second_page
    assert "Hej Sara! Vælg nu dit login" in second_page
    # phones offer to make up and save a password
    assert 'autocomplete="new-password"' in second_page and 'autocomplete="email"' in second_page
    # the notice must be acknowledged
    refused = client.post_form("/register/login", {"email": "sara@example.org", "password": "mit hemmelige ord"})
    assert refused.status_code == 200 and User.query.filter_by(email="sara@example.org").first() is None
    sent = client.post_form("/register/login", {
        "email": "Sara@Example.org", "password": "mit hemmelige ord", "read_notice": "y",
    })
    # nothing is made yet: a mail with a link goes to the address typed
    assert sent.status_code == 200 and "Vi har sendt en mail til Sara@Example.org" in sent.get_data(as_text=True)
    assert User.query.filter_by(email="sara@example.org").first() is None
    link = mailed_link("sara@example.org", "/register/confirm/")
    assert "Gør min konto klar" in client.get(link).get_data(as_text=True)  # opening it (a mail scanner may) makes nothing
    assert User.query.filter_by(email="sara@example.org").first() is None
    done = client.post_form(link)
    assert done.status_code == 302
    assert "remember_token" in done.headers.get("Set-Cookie", "")
    youth = db.session.scalar(db.select(YouthProfile).where(YouthProfile.first_name == "Sara"))
    assert youth.user.email == "sara@example.org" and youth.birth_year == year and youth.last_name is None
    assert youth.home_district_id == world.district_a.id and youth.registered_by_institution_id is None
    assert client.get("/").headers["Location"].endswith("/me/activities")
    # the link works once; nothing of the registration is left waiting
    client.post_form("/logout")
    assert client.get(link).status_code == 404
    assert not db.session.scalars(db.select(OneTimeToken).where(
        OneTimeToken.purpose.in_([TokenPurpose.REGISTRATION_CONFIRM, TokenPurpose.REGISTRATION_DRAFT]))).all()


def _register(client, email: str, first_name: str = "Bo"):
    client.post_form("/register", {
        "first_name": first_name, "birth_month": "5", "birth_year": str(local_today().year - 14), "gender": "",
        "home_district_id": "0",
    })
    return client.post_form("/register/login", {"email": email, "password": "mit hemmelige ord", "read_notice": "y"})


def test_registration_checks_birth_year(client, world):
    response = client.post_form("/register", {
        "first_name": "Bo", "birth_month": "0", "birth_year": "0", "gender": "", "home_district_id": "0",
    })
    assert response.status_code == 200 and "Vælg en måned." in response.get_data(as_text=True)


def test_the_confirm_link_refuses_an_address_taken_meanwhile(app, world):
    first, second = app.test_client(), app.test_client()
    _register(first, "dobbelt@example.org")
    early_link = mailed_link("dobbelt@example.org", "/register/confirm/")
    _register(second, "dobbelt@example.org", first_name="Anden")
    assert confirm_registration(second, "dobbelt@example.org").status_code == 302
    refused = first.post_form(early_link)
    assert refused.status_code == 409 and "Der findes allerede en bruger med den e-mail." in refused.get_data(as_text=True)
    assert User.query.filter_by(email="dobbelt@example.org").count() == 1


def test_staff_register_youth_and_the_youth_claims_the_profile(client, world):
    client.login_as(world.staff_a)
    response = client.post_form(f"/institutions/{world.inst_a.id}/youths/new", {
        "first_name": "Yusuf", "birth_month": "9", "birth_year": str(local_today().year - 12),
        "gender": "dreng", "home_district_id": "0", "contact": "",
    })
    page = response.get_data(as_text=True)
    code = re.search(r"<strong>([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})</strong>", page).group(1)
    youth = db.session.scalar(db.select(YouthProfile).where(YouthProfile.first_name == "Yusuf"))
    assert youth.registered_by_institution_id == world.inst_a.id and youth.user_id is None
    token = db.session.scalar(db.select(OneTimeToken).where(OneTimeToken.youth_id == youth.id))
    assert token.purpose == TokenPurpose.CLAIM and code not in token.token_hash and len(token.token_hash) == 64
    youth_page = client.get(f"/youths/{youth.id}").get_data(as_text=True)
    assert "Yusuf" in youth_page and "Intet login endnu" in youth_page
    client.post_form("/logout")

    claimed = client.post_form("/claim", {"code": code.lower().replace("-", " "), "email": "yusuf@example.org",
                                          "password": "fodbold er fedt"})
    assert claimed.status_code == 302
    db.session.expire_all()
    assert youth.user.email == "yusuf@example.org"
    client.post_form("/logout")
    again = client.post_form("/claim", {"code": code, "email": "andet@example.org", "password": "fodbold er fedt"})
    assert "Koden er forkert eller udløbet" in again.get_data(as_text=True)


def test_a_new_claim_code_replaces_the_old(app, world):
    youth, first = youth_services.register_youth_by_staff(
        world.inst_a, first_name="Ali", last_name=None, birth_year=local_today().year - 12, birth_month=1,
        gender=None, home_district_id=None,
    )
    second = youth_services.issue_claim_code(youth)
    with pytest.raises(youth_services.AccountError):
        youth_services.claim_profile(first, "ali@example.org", "fodbold er fedt")
    assert youth_services.claim_profile(second, "ali@example.org", "fodbold er fedt").user.email == "ali@example.org"


def test_staff_of_another_institution_cannot_register_there(client, world):
    client.login_as(world.staff_b)
    assert client.get(f"/institutions/{world.inst_a.id}/youths/new").status_code == 403


def test_youth_page_has_the_youth_slot(app, client, world, monkeypatch):
    from jinja2 import ChoiceLoader, DictLoader

    from youthclub.nav import SLOTS, slot

    monkeypatch.setattr(app.jinja_env, "loader", ChoiceLoader([
        DictLoader({"test/youth_slot.html": "<p>SLOT-FOR-{{ youth.id }}</p>"}), app.jinja_env.loader,
    ]))
    monkeypatch.setitem(SLOTS, "youth", list(SLOTS.get("youth", [])))
    slot("youth", "test/youth_slot.html")
    client.login_as(world.staff_a)
    page = client.get(f"/youths/{world.youth.id}").get_data(as_text=True)
    assert f"SLOT-FOR-{world.youth.id}" in page


# -- password reset -------------------------------------------------------------------------


def test_password_reset_by_mail_single_use(client, world, smtp_server):
    from tests.conftest import CSRF_RE

    evil = "http://evil.example"  # a forged Host header must not end up in the link
    token = CSRF_RE.search(client.get("/password/forgot", base_url=evil).get_data(as_text=True)).group(1)
    response = client.post("/password/forgot", data={"email": "ung@example.org", "csrf_token": token}, base_url=evil)
    assert response.status_code == 302
    assert len(smtp_server.messages) == 1
    body = _body(smtp_server.messages[0])
    assert "evil.example" not in body
    path = LINK.search(body).group(1)
    assert path.startswith("/password/reset/")
    assert client.get(path).status_code == 200
    done = client.post_form(path, {"password": "et helt nyt ord"})
    assert done.status_code == 302
    assert client.login("ung@example.org", "et helt nyt ord").status_code == 302
    client.post_form("/logout")
    assert client.get(path).status_code == 404  # used once


def test_password_reset_does_not_reveal_accounts(client, world, smtp_server):
    known = client.post_form("/password/forgot", {"email": "ung@example.org"}, follow_redirects=True)
    unknown = client.post_form("/password/forgot", {"email": "nobody@example.org"}, follow_redirects=True)
    flash = re.compile(r'<p class="flash[^"]*">([^<]+)</p>')
    assert flash.findall(known.get_data(as_text=True)) == flash.findall(unknown.get_data(as_text=True))
    assert [m["To"] for m in smtp_server.messages] == ["ung@example.org"]


def test_expired_reset_link_is_refused(client, world):
    youth_services.request_password_reset("ung@example.org")
    token = db.session.scalar(db.select(OneTimeToken).where(OneTimeToken.purpose == TokenPurpose.PASSWORD_RESET))
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(youth_services.AccountError) as err:
        youth_services.reset_password("anything", "et helt nyt ord")
    assert err.value.code == "invalid_token"


def test_reset_link_uses_public_base_url(app, world):
    app.config["PUBLIC_BASE_URL"] = "https://ung.hotspot.example"
    assert youth_services.public_url("accounts.password_reset", token="abc") == \
        "https://ung.hotspot.example/password/reset/abc"


# -- consent ---------------------------------------------------------------------------------


def test_under_15_needs_a_guardian_who_confirms_by_link(client, world, smtp_server):
    assert youth_services.needs_guardian(world.youth)  # 14 in the world
    assert not youth_services.has_consent(world.youth, ConsentKind.PHOTOS)
    client.login_as(world.youth_user)
    # cannot switch it on alone
    client.post_form("/me/consents", {"o-kind": "photos"})
    assert not youth_services.has_consent(world.youth, ConsentKind.PHOTOS)
    client.post_form("/me/consents", {"g-kind": "photos", "g-guardian_email": "mor@example.org"})
    db.session.expire_all()
    assert not youth_services.has_consent(world.youth, ConsentKind.PHOTOS)
    mail = smtp_server.messages[-1]
    assert mail["To"] == "mor@example.org" and "Aisha" in _body(mail) and "Aisha" not in _subject(mail)
    path = LINK.search(_body(mail)).group(1)
    client.post_form("/logout")
    page = client.get(path).get_data(as_text=True)
    assert "Ja, jeg giver samtykke" in page
    assert client.post_form(path).status_code == 200
    db.session.expire_all()
    assert youth_services.has_consent(world.youth, ConsentKind.PHOTOS)
    record = db.session.scalar(db.select(ConsentRecord))
    assert (record.given_by, record.guardian_email, record.notice_version) == (
        "guardian", "mor@example.org", youth_services.CONSENT_NOTICE_VERSION)
    assert record.granted_at is not None
    used = client.get(path)
    assert used.status_code == 404  # single use, in words that fit a parent (not a password link)
    html = used.get_data(as_text=True)
    assert "Har du allerede svaret, er dit svar gemt" in html and "adgangskode" not in html
    # the young person can switch it off again
    client.login_as(world.youth_user)
    client.post_form("/me/consents/photos/withdraw")
    db.session.expire_all()
    assert not youth_services.has_consent(world.youth, ConsentKind.PHOTOS)
    assert record.status == ConsentStatus.WITHDRAWN


def test_consent_age_is_configurable_and_older_youths_decide_themselves(app, world):
    app.config["CONSENT_AGE"] = 13
    assert not youth_services.needs_guardian(world.youth)
    record = youth_services.give_own_consent(world.youth, ConsentKind.NEWSLETTER)
    assert record.given_by == "self" and youth_services.has_consent(world.youth, ConsentKind.NEWSLETTER)
    app.config["CONSENT_AGE"] = 15
    with pytest.raises(youth_services.AccountError):
        youth_services.give_own_consent(world.youth, ConsentKind.PHOTOS)


def test_login_page_links_to_registration_claim_and_reset(client):
    page = client.get("/login").get_data(as_text=True)
    assert "/register" in page and "/claim" in page and "/password/forgot" in page


def test_english_registration(client, world):
    client.post_form("/language", {"lang": "en"})
    page = client.get("/register").get_data(as_text=True)
    assert "Step 1 of 2" in page and "Where do you live?" in page
