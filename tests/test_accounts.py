"""Log in, log out, wrong passwords, CSRF, language and safe redirects."""
from __future__ import annotations

from youthclub.accounts.models import User
from youthclub.extensions import db


def test_login_with_right_password_lands_on_start_page(client, world):
    response = client.login("staff.a@example.org")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    response = client.get("/")
    assert response.status_code == 302  # home sends staff to their institution
    assert f"/institutions/{world.inst_a.id}" in response.headers["Location"]


def test_wrong_password_is_refused_in_danish(client, world):
    response = client.login("staff.a@example.org", "wrong password here")
    assert response.status_code == 401
    assert "Forkert e-mail eller adgangskode." in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_unknown_email_gets_the_same_answer(client, world):
    response = client.login("nobody@example.org", "wrong password here")
    assert response.status_code == 401
    assert "Forkert e-mail eller adgangskode." in response.get_data(as_text=True)


def test_deactivated_user_cannot_log_in(client, world):
    world.staff_a.active = False
    db.session.commit()
    assert client.login("staff.a@example.org").status_code == 401


def test_logout_ends_the_session_on_the_server(client, world):
    client.login("staff.a@example.org")
    assert client.get("/account").status_code == 200
    with client.session_transaction() as sess:
        stolen = dict(sess)
    client.post_form("/logout")
    assert client.get("/account").status_code == 302
    # a copied cookie replayed after log-out is refused
    with client.session_transaction() as sess:
        sess.update(stolen)
    assert client.get("/account").status_code == 302


def test_csrf_token_is_required(client, world):
    response = client.post("/login", data={"email": "staff.a@example.org", "password": "correct horse battery"})
    assert response.status_code == 400
    assert "Formularen er udløbet" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_next_redirect_stays_on_site(client, world):
    for evil in ("https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"):
        response = client.login("staff.a@example.org", next=evil)
        assert response.headers["Location"] == "/", evil
        client.post_form("/logout")
    response = client.login("staff.a@example.org", next="/account")
    assert response.headers["Location"] == "/account"


def test_interface_is_danish_by_default_and_switches_to_english(client, world):
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="da"' in page and "Adgangskode" in page
    client.post_form("/language", {"lang": "en", "next": "/login"})
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="en"' in page and "Password" in page


def test_change_password_keeps_this_session_and_ends_others(app, client, world):
    other = app.test_client()
    other.login("staff.a@example.org")
    client.login("staff.a@example.org")
    response = client.post_form(
        "/account", {"current_password": "correct horse battery", "new_password": "en helt ny lang sætning"}
    )
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    assert other.get("/account").status_code == 302


def test_common_password_is_refused(client, world):
    client.login("staff.a@example.org")
    response = client.post_form("/account", {"current_password": "correct horse battery", "new_password": "password123"})
    assert "for almindelig" in response.get_data(as_text=True)


def test_admin_creates_staff_user(client, world):
    client.login_as(world.admin)
    response = client.post_form(
        "/admin/users/new",
        {"name": "Ny Medarbejder", "email": "ny@example.org", "password": "lang nok adgangskode",
         "role": "staff", "institution_id": str(world.inst_a.id)},
    )
    assert response.status_code == 302
    user = db.session.scalar(db.select(User).where(User.email == "ny@example.org"))
    assert user.has_role("staff", world.inst_a.id)


def test_staff_role_needs_an_institution(client, world):
    client.login_as(world.admin)
    response = client.post_form(
        "/admin/users/new",
        {"name": "X", "email": "x@example.org", "password": "lang nok adgangskode", "role": "staff", "institution_id": "0"},
    )
    assert response.status_code == 200
    assert "Vælg en institution" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(User).where(User.email == "x@example.org")) is None


def test_institution_admin_adds_staff_to_own_institution_only(client, world):
    client.login_as(world.inst_admin_a)
    data = {"name": "Ny", "email": "ny2@example.org", "role": "staff"}
    assert client.post_form(f"/institutions/{world.inst_a.id}/staff", data).status_code == 302
    assert client.post_form(f"/institutions/{world.inst_b.id}/staff", dict(data, email="ny3@example.org")).status_code == 403


def test_password_fields_say_what_they_are_for_password_managers(client, world):
    login_page = client.get("/login").get_data(as_text=True)
    assert 'autocomplete="current-password"' in login_page and 'autocomplete="email"' in login_page
    client.login_as(world.staff_a)
    account = client.get("/account").get_data(as_text=True)
    assert 'autocomplete="current-password"' in account and 'autocomplete="new-password"' in account
