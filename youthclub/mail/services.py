"""Sending mail: every message is written to the outbox first, then handed to SMTP after commit.

A message is delivered only once its transaction commits, so a rolled-back sign-up never
mails anyone and no SMTP conversation happens while a row lock is held. With no
``MAIL_SERVER`` configured (development), messages are logged and stay unsent in the
outbox, where admins can read them. ``dedupe_key`` makes a second send of the same
message a no-op (reminders, promotions).
"""
from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from flask import after_this_request, current_app, has_request_context, render_template
from flask_babel import force_locale
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session as OrmSession

from ..db_types import utcnow
from ..extensions import db
from .models import OutboxMessage

log = logging.getLogger(__name__)

_PENDING = "outbox_pending"
#: messages whose sending must not show in the answer's timing (e.g. a reset link): sent after the response
_AFTER_RESPONSE = "outbox_after_response"


def recipient_locale(*, user=None, youth=None, locale=None) -> str:
    """The language a message is written in: given, else the recipient's, else Danish."""
    languages = current_app.config.get("LANGUAGES", ("da", "en"))
    for candidate in (
        locale,
        getattr(user, "locale", None),
        getattr(getattr(youth, "user", None), "locale", None),
    ):
        if candidate is not None and candidate in languages:
            return candidate
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "da")


def render_message(template: str, locale: str, **context) -> tuple[str, str]:
    """Render the plain-text ``mail/<template>.html`` (autoescape off) in ``locale``: the first line is the subject, the rest the body."""
    with force_locale(locale):
        text = render_template(f"mail/{template}.html", **context)
    subject, _, body = text.strip().partition("\n")
    return subject.strip(), body.strip() + "\n"


def send_mail(to, subject, body, *, dedupe_key=None, user=None, youth=None, locale=None,
              after_response: bool = False) -> OutboxMessage | None:
    """Put a message in the outbox; it is sent when the transaction commits. None when ``to`` is empty.

    A message whose ``dedupe_key`` was used before is not written or sent again. With
    ``after_response`` (in a request) it is sent once the answer has gone out, so the time the
    mail server takes cannot tell the caller whether a mail was sent at all.
    """
    to = (to or "").strip()
    if not to or "@" not in parseaddr(to)[1]:
        return None
    if dedupe_key is not None:
        existing = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    message = OutboxMessage(
        to_address=to,
        subject=subject[:200],
        body_text=body,
        dedupe_key=dedupe_key,
        user_id=getattr(user, "id", None) or getattr(youth, "user_id", None),
        youth_id=getattr(youth, "id", None),
    )
    if dedupe_key is not None:
        # two transactions racing for the same key: the loser's insert fails, and it sends nothing
        from sqlalchemy.exc import IntegrityError

        try:
            with db.session.begin_nested():
                db.session.add(message)
                db.session.flush()
        except IntegrityError:
            return db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))
    else:
        db.session.add(message)
        db.session.flush()
    later = after_response and has_request_context()
    db.session.info.setdefault(_AFTER_RESPONSE if later else _PENDING, []).append(message.id)
    return message


def send_template(to, template, *, dedupe_key=None, user=None, youth=None, locale=None, after_response=False,
                  **context):
    """Render ``mail/<template>.html`` in the recipient's language and send it."""
    lang = recipient_locale(user=user, youth=youth, locale=locale)
    subject, body = render_message(template, lang, **context)
    return send_mail(to, subject, body, dedupe_key=dedupe_key, user=user, youth=youth, locale=lang,
                     after_response=after_response)


def _build(message_row) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    msg["To"] = message_row.to_address
    msg["Subject"] = message_row.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1].split("@")[-1] or None)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(message_row.body_text)
    return msg


def _smtp_connection():
    cfg = current_app.config
    host, port = cfg["MAIL_SERVER"], int(cfg.get("MAIL_PORT") or 25)
    timeout = cfg.get("MAIL_TIMEOUT", 10)
    conn: smtplib.SMTP
    if cfg.get("MAIL_USE_SSL"):
        conn = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        conn = smtplib.SMTP(host, port, timeout=timeout)
        if cfg.get("MAIL_USE_TLS"):
            conn.starttls(context=ssl.create_default_context())
    if cfg.get("MAIL_USERNAME"):
        conn.login(cfg["MAIL_USERNAME"], cfg.get("MAIL_PASSWORD") or "")
    return conn


def deliver(ids) -> int:
    """Send the given outbox messages that are still unsent; returns how many went out.

    Reads and writes on its own connection, so it can run right after a commit.
    """
    if not ids:
        return 0
    with db.engine.connect() as conn_read:
        rows = conn_read.execute(
            select(OutboxMessage.id, OutboxMessage.to_address, OutboxMessage.subject, OutboxMessage.body_text)
            .where(OutboxMessage.id.in_(list(ids)), OutboxMessage.sent_at.is_(None))
        ).all()
        conn_read.rollback()
    if not rows:
        return 0
    if not current_app.config.get("MAIL_SERVER"):
        for row in rows:
            log.info("mail (no MAIL_SERVER, kept in the outbox) to=%s subject=%s\n%s", row.to_address, row.subject, row.body_text)
        return 0
    sent, results = 0, dict[int, str | None]()
    try:
        conn = _smtp_connection()
    except (OSError, smtplib.SMTPException) as err:
        log.warning("mail server unreachable: %s", err)
        results = {row.id: str(err)[:300] for row in rows}
        conn = None
    if conn is not None:
        with conn:
            for row in rows:
                try:
                    conn.send_message(_build(row))
                except (OSError, smtplib.SMTPException) as err:
                    log.warning("mail %s to %s failed: %s", row.id, row.to_address, err)
                    results[row.id] = str(err)[:300]
                else:
                    results[row.id] = None
                    sent += 1
    now = utcnow()
    with db.engine.begin() as conn_db:
        for row_id, error in results.items():
            values: dict[str, object] = {"attempts": OutboxMessage.attempts + 1, "last_error": error}
            if error is None:
                values["sent_at"] = now
            conn_db.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values))
    return sent


def deliver_unsent(limit: int = 200) -> int:
    """Retry unsent messages (oldest first), e.g. after the mail server was down."""
    ids = db.session.scalars(
        select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None)).order_by(OutboxMessage.id).limit(limit)
    ).all()
    db.session.commit()
    return deliver(ids)


@event.listens_for(OrmSession, "after_commit")
def _deliver_after_commit(session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released; the outer transaction may still roll back
    ids = session.info.pop(_PENDING, None)
    if ids:
        _deliver_safely(ids)
    later = session.info.pop(_AFTER_RESPONSE, None)
    if later:
        _deliver_after_response(later)


def _deliver_safely(ids) -> None:
    try:
        deliver(ids)
    except Exception:  # a mail problem must never undo or break the committed work
        log.exception("delivering outbox messages %s failed", ids)


def _deliver_after_response(ids) -> None:
    """Send once the response has been sent (WSGI close); what is never sent waits for ``deliver_unsent``."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the app behind the proxy, for the thread

    def deliver_in_app():
        with app.app_context():
            _deliver_safely(ids)

    @after_this_request
    def _on_close(response):
        response.call_on_close(deliver_in_app)
        return response


@event.listens_for(OrmSession, "after_rollback")
def _forget_after_rollback(session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_PENDING, None)
        session.info.pop(_AFTER_RESPONSE, None)
