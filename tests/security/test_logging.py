"""Logs never hold names, e-mail addresses, pass tokens or API tokens."""
from __future__ import annotations

import logging

import pytest

from youthclub.security import REDACTED, redact


@pytest.mark.parametrize("text,secret", [
    ("login failed for aisha.hansen@example.org", "aisha.hansen@example.org"),
    ("Authorization: Bearer yc_8Jd93kLmQp0Zx7Ty2WvR5s", "yc_8Jd93kLmQp0Zx7Ty2WvR5s"),
    ("GET /pass/Xk3mP9qLw2RtY7uZa1Bc4DeF HTTP/1.1", "Xk3mP9qLw2RtY7uZa1Bc4DeF"),
    ("GET /reset?token=abc123def456&x=1", "abc123def456"),
    ("[parameters: ('Aisha', 'Hansen', 'aisha@example.org')]", "Hansen"),
])
def test_redact_removes_secrets(text, secret):
    cleaned = redact(text)
    assert secret not in cleaned and REDACTED in cleaned


def test_redact_keeps_ordinary_text():
    text = "unhandled error on POST /institutions/3/staff (accounts.institution_staff) 0.012s"
    assert redact(text) == text


def test_every_logger_is_redacted(app, caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("werkzeug").info('"%s" %s', "GET /x?email=bo@example.org", 200)
    logging.getLogger("some.library").warning("user %s", "bo@example.org")
    app.logger.error("token %s", "Zq8Wm2Lp5Xk9Tr4Yv7Nb3Hc6")
    text = caplog.text
    assert "bo@example.org" not in text and "Zq8Wm2Lp5Xk9Tr4Yv7Nb3Hc6" not in text
    assert text.count(REDACTED) >= 3


def test_exception_tracebacks_are_redacted(app, caplog):
    try:
        raise ValueError("could not save aisha@example.org")
    except ValueError:
        logging.getLogger("youthclub.test").exception("failed")
    assert "aisha@example.org" not in caplog.text
    assert "ValueError" in caplog.text


def test_a_busy_day_leaves_no_personal_data_in_the_logs(app, client, world, caplog):
    """Log-ins, failures, user creation, errors and an API token: the log mentions none of the people."""
    import hashlib
    import secrets

    from youthclub.accounts.models import ApiToken
    from youthclub.extensions import db

    caplog.set_level(logging.DEBUG)
    secret = "yc_" + secrets.token_urlsafe(24)
    db.session.add(ApiToken(user_id=world.coordinator.id, name="t", prefix=secret[:8],
                            token_hash=hashlib.sha256(secret.encode()).hexdigest()))
    db.session.commit()
    client.login("ung@example.org", "wrong password here")
    client.login("ung@example.org")
    client.get("/account")
    client.get("/account/data")
    client.post_form("/logout")
    client.login_as(world.admin)
    client.post_form("/admin/users/new", {"name": "Zenobia Quist", "email": "zenobia@example.org",
                                          "password": "lang nok adgangskode", "role": "coordinator"})
    client.post_form("/admin/users/new", {"name": "Zenobia Quist", "email": "zenobia@example.org",
                                          "password": "lang nok adgangskode", "role": "coordinator"})
    client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    client.get("/api/v1/me", headers={"Authorization": "Bearer wrong" + secret})
    text = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    for personal in ("Aisha", "ung@example.org", "Zenobia", "Quist", "zenobia@example.org", secret,
                     world.youth.pass_token, "Personale", "staff.a@example.org"):
        assert personal not in text, personal
