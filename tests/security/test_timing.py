"""Log-in and password reset do the same work for unknown and known e-mails.

A test that measured the time would be flaky; instead these count the work that costs time:
password-hash verifications (argon2, with the same parameters), secrets hashed and mails
written, and they check that no mail server is contacted before the answer is out.
"""
from __future__ import annotations

import argon2
import pytest

from youthclub.accounts import passwords, youth_services
from youthclub.accounts.passwords import dummy_hash
from youthclub.extensions import db
from youthclub.mail import services as mail_services


@pytest.fixture
def verifications(monkeypatch):
    """Count argon2 verifications, with the parameters of the hash verified each time."""
    seen = []
    real = argon2.PasswordHasher.verify

    def counting(self, hash_, password):
        seen.append(argon2.extract_parameters(hash_))
        return real(self, hash_, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting)
    return seen


def test_a_wrong_password_and_an_unknown_email_verify_one_hash_of_the_same_cost(client, world, verifications):
    client.login("staff.a@example.org", "wrong password here")
    known = list(verifications)
    verifications.clear()
    client.login("nobody-here@example.org", "wrong password here")
    unknown = list(verifications)
    assert len(known) == len(unknown) == 1
    assert known == unknown  # same algorithm, memory, time and parallelism


def test_the_dummy_hash_has_the_cost_of_the_hasher_in_use(app):
    hasher = passwords._hasher()
    assert argon2.extract_parameters(dummy_hash()) == argon2.extract_parameters(hasher.hash("x"))
    assert argon2.extract_parameters(dummy_hash(passwords._default)).memory_cost == passwords._default.memory_cost


def test_an_inactive_account_costs_the_same_too(client, world, verifications):
    world.staff_b.active = False
    client.login("staff.b@example.org", "correct horse battery")
    assert len(verifications) == 1


@pytest.fixture
def work(monkeypatch):
    """Count the reset's costly steps: secrets hashed and mails rendered."""
    counts = {"hash": 0, "render": 0}
    real_hash, real_render = youth_services.hash_secret, youth_services.render_message

    def hash_secret(secret):
        counts["hash"] += 1
        return real_hash(secret)

    def render_message(*args, **kwargs):
        counts["render"] += 1
        return real_render(*args, **kwargs)

    monkeypatch.setattr(youth_services, "hash_secret", hash_secret)
    monkeypatch.setattr(youth_services, "render_message", render_message)
    return counts


def test_reset_does_the_same_work_and_answers_the_same(client, world, work):
    known = client.post_form("/password/forgot", {"email": "staff.a@example.org"}, follow_redirects=True)
    known_work = dict(work)
    work.update(hash=0, render=0)
    unknown = client.post_form("/password/forgot", {"email": "nobody-here@example.org"}, follow_redirects=True)
    assert known_work == work == {"hash": 1, "render": 1}
    assert known.status_code == unknown.status_code == 200 and known.request.path == unknown.request.path
    for answer in (known, unknown):
        assert "Hvis e-mailen har en konto hos os" in answer.get_data(as_text=True)


def test_the_reset_mail_goes_out_after_the_answer(app, client, world, smtp_server, monkeypatch):
    contacted = []
    real = mail_services._smtp_connection

    def connecting():
        from flask import has_request_context

        contacted.append(has_request_context())
        return real()

    monkeypatch.setattr(mail_services, "_smtp_connection", connecting)
    client.post_form("/password/forgot", {"email": "staff.a@example.org"})
    assert contacted == [False]  # contacted once, after the request had ended
    assert len(smtp_server.messages) == 1 and smtp_server.messages[0]["To"] == "staff.a@example.org"


def _statements_before_the_answer(app, client, url, data) -> list[str]:
    """The kinds of SQL statement (SELECT, INSERT, COMMIT…) a request runs before its answer is handed
    back; work queued for after the answer (the response's close) is not counted."""
    from sqlalchemy import event

    from youthclub.extensions import db

    seen: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement.split(None, 1)[0].upper())

    def commit(conn):
        seen.append("COMMIT")

    data = {**data, "csrf_token": client.csrf_token()}
    db.session.commit()
    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "commit", commit)
    try:
        response = client.post(url, data=data, buffered=False)
        answered = list(seen)
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "commit", commit)
    response.close()  # now what waited for the answer runs
    return answered


def test_reset_writes_nothing_before_the_answer_for_a_known_or_an_unknown_email(app, client, world):
    """Equal work means equal database work too: the known address's token, mail and audit event
    are written after the answer, so a commit's time does not tell which e-mails have an account."""
    from sqlalchemy import select

    from youthclub.mail.models import OutboxMessage

    known = _statements_before_the_answer(app, client, "/password/forgot", {"email": "staff.a@example.org"})
    unknown = _statements_before_the_answer(app, client, "/password/forgot", {"email": "nobody-here@example.org"})
    assert known == unknown, f"known: {known}, unknown: {unknown}"
    # and the mail still goes out, to the known address only
    db.session.expire_all()
    assert [m.to_address for m in db.session.scalars(select(OutboxMessage))] == ["staff.a@example.org"]


def test_registration_writes_the_same_before_the_answer_for_a_taken_or_a_new_email(app, client, world):
    """Registration's screen 2 mails the address typed either way; the database work before the
    answer must not tell a taken address (a 'you have an account' mail) from a new one (a link)."""
    from youthclub.i18n import local_today

    def step_one():
        client.post_form("/register", {
            "first_name": "Sara", "last_name": "", "birth_month": "3", "birth_year": str(local_today().year - 13),
            "gender": "pige", "home_district_id": str(world.district_a.id),
        })

    answers = {}
    for label, email in (("taken", "ung@example.org"), ("new", "helt.ny@example.org")):
        step_one()
        answers[label] = _statements_before_the_answer(app, client, "/register/login", {
            "email": email, "password": "mit hemmelige ord", "read_notice": "y"})
    assert answers["taken"] == answers["new"], answers


def test_a_reset_asked_for_while_logged_in_is_still_mailed(client, world):
    """The work after the answer runs beside whatever the answered request's session still holds."""
    from sqlalchemy import select

    from youthclub.mail.models import OutboxMessage

    client.login_as(world.staff_b)
    client.get("/account")
    client.post_form("/password/forgot", {"email": "staff.a@example.org"})
    db.session.expire_all()
    assert [m.to_address for m in db.session.scalars(select(OutboxMessage))] == ["staff.a@example.org"]
