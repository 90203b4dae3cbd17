"""Registration tells an anonymous caller nothing about which e-mails have accounts.

The answer is one page for every address; only the mail differs (a link for a new address,
"you already have an account" for a taken one), and both branches do the same work.
"""
from __future__ import annotations

from tests.factories import make_youth
from tests.signups.test_youth_accounts import _register
from youthclub.accounts import youth_services
from youthclub.accounts.models import User
from youthclub.extensions import db
from youthclub.mail.models import OutboxMessage


def _answer(response) -> str:
    """The page without its per-session part (the CSRF token)."""
    from tests.conftest import CSRF_RE

    return CSRF_RE.sub("", response.get_data(as_text=True))


def test_registration_answers_the_same_whether_or_not_the_email_is_taken(app, world):
    """The caller learns nothing: the same page for a taken and a new address; the mailbox learns which."""
    staff_made = make_youth(first_name="Ida")
    staff_made.contact = "ida@example.org"
    db.session.commit()
    answers = {}
    for email in ("ung@example.org", "ny@example.org", "ida@example.org"):
        answers[email] = _register(app.test_client(), email, first_name="Qwzyxéna")
        assert answers[email].status_code == 200
    pages = {_answer(a).replace(e, "EMAIL") for e, a in answers.items()}
    assert len(pages) == 1 and "Der findes allerede" not in pages.pop()
    mails = {m.to_address: (m.subject, m.body_text) for m in db.session.scalars(db.select(OutboxMessage))}
    assert "allerede en konto" in mails["ung@example.org"][0]
    assert "/login" in mails["ung@example.org"][1] and "/password/forgot" in mails["ung@example.org"][1]
    assert "/register/confirm/" not in mails["ung@example.org"][1]
    assert "/claim" in mails["ida@example.org"][1] and "/register/confirm/" not in mails["ida@example.org"][1]
    assert "/register/confirm/" in mails["ny@example.org"][1]
    # nothing the caller typed (the first name) is in any mail
    # (a name no random link can contain: "Bo" was found in a link's secret now and then)
    assert all("Qwzyxéna" not in subject + body for subject, body in mails.values())
    assert staff_made.user_id is None and User.query.filter_by(email="ny@example.org").first() is None


def test_registration_does_the_same_work_for_a_taken_and_a_new_email(app, world, monkeypatch):
    """Counted, not timed: one password hash, one secret hashed, one mail rendered and sent after the answer."""
    counts = {}

    def counting(name, real):
        def wrapper(*args, **kwargs):
            counts[name] = counts.get(name, 0) + 1
            if name == "send":
                counts["after_response"] = kwargs.get("after_response")
            return real(*args, **kwargs)
        return wrapper

    for name in ("hash_password", "hash_secret", "render_message", "send_mail"):
        monkeypatch.setattr(youth_services, name, counting("send" if name == "send_mail" else name,
                                                           getattr(youth_services, name)))
    work = []
    for email in ("ung@example.org", "ny@example.org"):
        counts.clear()
        _register(app.test_client(), email)
        work.append(dict(counts))
    assert work[0] == work[1]  # secrets hashed include the draft's look-ups, the same for both
    assert {k: work[0][k] for k in ("hash_password", "render_message", "send", "after_response")} == {
        "hash_password": 1, "render_message": 1, "send": 1, "after_response": True}


def test_registration_mails_one_address_only_a_few_times(world, limited_app):
    """From many client addresses, one mailbox still gets at most the per-account limit of mails."""
    app = limited_app()
    statuses = []
    for n in range(7):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.9.0.{n}"
        statuses.append(_register(client, "offer@example.org").status_code)
    assert statuses == [200] * 5 + [429] * 2
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))
                             .where(OutboxMessage.to_address == "offer@example.org")) == 5
