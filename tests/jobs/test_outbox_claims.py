"""Claims on outbox messages, backoff and giving up (in-process: no worker or Redis needed)."""
from __future__ import annotations

import re
import threading
from datetime import timedelta

from sqlalchemy import func, select, update

from tests.jobs.conftest import free_port
from youthclub.db_types import utcnow
from youthclub.extensions import db
from youthclub.mail import services
from youthclub.mail.models import OutboxMessage


def _message(i: int = 0) -> OutboxMessage:
    return OutboxMessage(to_address=f"ung{i}@example.org", subject="Hej", body_text="tekst")


def _set(**values) -> None:
    """Change every outbox row in a transaction of its own (as another process would)."""
    db.session.commit()  # end the read snapshot first: SQLite cannot turn a stale one into a write
    db.session.execute(update(OutboxMessage).values(**values))
    db.session.commit()


def _fresh(message):
    db.session.commit()
    db.session.refresh(message)
    return message


def test_a_claimed_message_is_not_claimed_again_until_its_lease_runs_out(app):
    app.config["OUTBOX_LEASE_SECONDS"] = 60
    message = _message()
    db.session.add(message)
    db.session.commit()
    token, rows = services.claim_messages([message.id])
    assert [r.id for r in rows] == [message.id]
    assert services.claim_messages([message.id])[1] == []  # another worker: nothing to take
    assert services.claim_messages()[1] == []  # nor for the sweep
    # the worker died: once the lease is over, the message is taken again (and the attempt counted)
    _set(claimed_at=utcnow() - timedelta(seconds=61))
    second, rows = services.claim_messages()
    assert [r.id for r in rows] == [message.id] and rows[0].attempts == 2
    # the first worker, come back to life, cannot record its attempt over the new claim
    services._finish(token, {message.id: None}, {message.id: 1})
    assert _fresh(message).sent_at is None and message.claimed_by == second


def test_concurrent_claims_take_each_message_once(app):
    db.session.add_all([_message(i) for i in range(60)])
    db.session.commit()
    taken, barrier = [], threading.Barrier(4)

    def claim():
        with app.app_context():
            barrier.wait()
            while True:
                _token, rows = services.claim_messages(limit=5)
                if not rows:
                    return
                taken.extend(r.id for r in rows)

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(taken) == 60 and len(set(taken)) == 60


def test_a_message_that_keeps_failing_waits_longer_each_time_then_is_given_up(app, client, world):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_MAX_ATTEMPTS=3, MAIL_RETRY_SECONDS=30)
    message = services.send_mail("ung@example.org", "Velkommen", "tekst")
    db.session.commit()  # in-process: the first attempt happens now, and fails (nobody listens)
    assert _fresh(message).attempts == 1 and message.last_error and message.failed_at is None
    assert timedelta(seconds=25) < message.next_attempt_at - utcnow() <= timedelta(seconds=30)
    assert message.status == "retrying"
    assert services.deliver_due() == 0 and _fresh(message).attempts == 1  # the sweep waits out the backoff
    services.deliver([message.id])  # the retry job, after its countdown
    assert timedelta(seconds=55) < _fresh(message).next_attempt_at - utcnow() <= timedelta(seconds=60)
    services.deliver([message.id])
    assert _fresh(message).failed_at is not None and message.attempts == 3 and message.status == "failed"
    services.deliver([message.id])
    _set(next_attempt_at=utcnow() - timedelta(seconds=1))
    services.deliver_due()
    assert _fresh(message).attempts == 3  # given up: nobody tries again
    assert services.outbox_counts() == {"waiting": 0, "failed": 1}

    client.login_as(world.admin)
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "Fejlet" in page and "Opgivet efter 3 forsøg" in page and "0 venter på at blive sendt, 1 er fejlet" in page
    with client.session_transaction() as sess:
        sess["lang"] = "en"
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "Failed" in page and "Gave up after 3 attempts" in page and "0 waiting to be sent, 1 failed" in page


def test_the_outbox_page_shows_a_retry_with_its_next_attempt(app, client, world):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    services.send_mail("ung@example.org", "Velkommen", "tekst")
    db.session.commit()
    client.login_as(world.admin)
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "Prøver igen" in page and "Forsøg 1 mislykkedes; næste forsøg" in page


def test_an_admin_sends_a_given_up_message_again_once_the_mail_server_is_mended(app, client, world, smtp_server):
    from youthclub.audit.models import AuditEvent

    app.config.update(MAIL_MAX_ATTEMPTS=1)
    mended_port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = free_port()  # the wrong port first: nobody listens
    message = services.send_mail("ung@example.org", "Velkommen", "tekst")
    db.session.commit()
    assert _fresh(message).status == "failed" and smtp_server.messages == []
    app.config["MAIL_PORT"] = mended_port

    # staff and coordinators cannot; nor can anyone without the form's CSRF token
    for who in (world.staff_a, world.coordinator):
        client.login_as(who)
        assert client.post_form(f"/admin/outbox/{message.id}/retry").status_code == 403
    client.login_as(world.admin)
    assert client.post(f"/admin/outbox/{message.id}/retry").status_code == 400
    assert _fresh(message).status == "failed"

    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "Prøv at sende igen" in page
    response = client.post_form(f"/admin/outbox/{message.id}/retry")
    assert response.status_code == 302
    assert _fresh(message).status == "sent" and message.attempts == 1 and message.last_error is None
    assert [m["To"] for m in smtp_server.messages] == ["ung@example.org"]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "outbox.retry")).all()
    assert [(e.user_id, e.object_id) for e in events] == [(world.admin.id, message.id)]

    # a second press (a replayed request) sends nothing and records nothing
    client.post_form(f"/admin/outbox/{message.id}/retry")
    assert len(smtp_server.messages) == 1
    assert "Mailen er ikke fejlet" in client.get("/admin/outbox").get_data(as_text=True)
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "outbox.retry")) == 1
    assert client.post_form("/admin/outbox/999999/retry").status_code == 404


def test_with_a_mail_server_the_outbox_shows_no_link_an_admin_could_follow(app, client, world):
    """An outside test took over an account from the outbox: its password-reset link was shown to admins
    though the mail had really been sent. Now every one-time link's secret is hidden once mail is sent
    (in development, with no mail server, the outbox is the only way to the link, and shows it)."""
    from tests.factories import mailed_link
    from youthclub.accounts import youth_services

    youth_services._send_password_reset(world.youth_user.email)
    youth_services.request_registration(
        {"first_name": "Bo", "birth_year": 2012, "birth_month": 5, "gender": None, "home_district_id": None},
        email="ny@example.org", password="mit hemmelige ord", locale="da", next_path=None)
    db.session.commit()
    links = [mailed_link(world.youth_user.email, "/password/reset/"), mailed_link("ny@example.org", "/register/confirm/")]
    secrets = [link.rsplit("/", 1)[1] for link in links]
    assert all(len(s) > 20 for s in secrets)
    client.login_as(world.admin)
    app.config.update(MAIL_SERVER=None)
    shown = client.get("/admin/outbox").get_data(as_text=True)
    assert all(s in shown for s in secrets)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    hidden = client.get("/admin/outbox").get_data(as_text=True)
    assert not any(s in hidden for s in secrets)
    assert "/password/reset/[skjult]" in hidden and "/register/confirm/[skjult]" in hidden
    assert "Personlige links" in hidden
    from youthclub.mail.views import _link_secrets

    pattern = _link_secrets(app).pattern
    for prefix in ("/invitations/", "/consent/", "/calendar/"):
        assert re.escape(prefix) in pattern
