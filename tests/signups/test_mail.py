"""Mail goes through a real SMTP server after commit, only once, in the recipient's language."""
from __future__ import annotations

from datetime import timedelta
from email.header import decode_header, make_header

from click.testing import CliRunner

from tests.factories import make_activity, make_session, make_youth
from youthclub.extensions import db
from youthclub.i18n import local_today
from youthclub.mail.models import OutboxMessage
from youthclub.mail.services import send_mail
from youthclub.signups import services


def subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def test_send_mail_delivers_after_commit(app, smtp_server):
    message = send_mail("ung@example.org", "Hej", "Krop æøå\n")
    assert smtp_server.messages == []  # nothing leaves before the transaction commits
    db.session.commit()
    assert len(smtp_server.messages) == 1
    received = smtp_server.messages[0]
    assert received["To"] == "ung@example.org" and received["Subject"] == "Hej"
    assert "Krop æøå" in received.get_payload(decode=True).decode(received.get_content_charset())
    db.session.refresh(message)
    assert message.sent_at is not None and message.attempts == 1 and message.last_error is None


def test_rolled_back_mail_is_never_sent(app, smtp_server):
    send_mail("ung@example.org", "Hej", "tekst")
    db.session.rollback()
    db.session.commit()
    assert smtp_server.messages == []
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 0


def test_dedupe_key_sends_once(app, smtp_server):
    first = send_mail("ung@example.org", "Hej", "1", dedupe_key="k1")
    second = send_mail("ung@example.org", "Hej", "2", dedupe_key="k1")
    db.session.commit()
    assert first.id == second.id
    assert len(smtp_server.messages) == 1


def test_without_mail_server_messages_stay_in_the_outbox(app, caplog):
    app.config["MAIL_SERVER"] = None
    with caplog.at_level("INFO", logger="youthclub.mail.services"):
        message = send_mail("ung@example.org", "Emne", "Brødtekst")
        db.session.commit()
    db.session.refresh(message)
    assert message.sent_at is None
    assert "Brødtekst" in caplog.text


def test_unreachable_server_keeps_message_and_error(app):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)  # nobody listens there
    message = send_mail("ung@example.org", "Emne", "tekst")
    db.session.commit()
    db.session.refresh(message)
    assert message.sent_at is None and message.attempts == 1 and message.last_error


def test_each_cancellation_promotes_and_mails_the_next_in_line(world, smtp_server):
    """Two cancellations mail the first two in line; the third (English) is mailed at the next one."""
    activity = make_activity(world.inst_a, title="Boksning", capacity=2)
    make_session(activity, day=local_today() + timedelta(days=4))
    people = [make_youth(with_login=True, email=f"p{i}@example.org") for i in range(5)]
    people[4].user.locale = "en"
    signups = [services.sign_up(y, activity) for y in people]
    assert signups[4].position == 3
    db.session.commit()
    services.cancel_signup(signups[0], by_user=people[0].user)
    services.cancel_signup(signups[1], by_user=people[1].user)
    db.session.commit()
    assert signups[4].position == 1
    by_address = {m["To"]: m for m in smtp_server.messages}
    assert set(by_address) == {"p2@example.org", "p3@example.org"}
    assert subject(by_address["p2@example.org"]) == "Du har fået en plads: Boksning"
    services.cancel_signup(signups[2], by_user=people[2].user)
    db.session.commit()
    english = smtp_server.messages[-1]
    assert english["To"] == "p4@example.org"
    assert subject(english) == "You have got a place: Boksning"


def test_send_reminders_command_is_safe_to_run_twice(world, smtp_server):
    activity = make_activity(world.inst_a, title="Madklub", capacity=5)
    make_session(activity, day=local_today() + timedelta(days=1))
    youth = make_youth(with_login=True, email="madklub@example.org")
    services.sign_up(youth, activity)
    db.session.commit()
    runner = CliRunner()
    from youthclub.signups.commands import send_reminders_command

    first = runner.invoke(send_reminders_command, obj=_script_info(world))
    second = runner.invoke(send_reminders_command, obj=_script_info(world))
    assert first.exit_code == 0, first.output
    assert "1 reminder(s)" in first.output and "0 reminder(s)" in second.output
    reminders = [m for m in smtp_server.messages if m["To"] == "madklub@example.org"]
    assert len(reminders) == 1 and subject(reminders[0]) == "Husk i morgen: Madklub"


def _script_info(world):
    from flask import current_app
    from flask.cli import ScriptInfo

    app = current_app._get_current_object()
    return ScriptInfo(create_app=lambda: app)
