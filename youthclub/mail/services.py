"""Sending mail: every message is written to the outbox first, then a job sends it after commit.

A message is handed to the job queue only once its transaction commits, so a rolled-back
sign-up never mails anyone, and a worker, not the request, talks to the mail server (a slow
server slows nobody's sign-up). The worker claims the row first (``claim_messages``), so a
message goes out once however many workers run; a failed attempt is retried with a growing
delay, up to ``MAIL_MAX_ATTEMPTS``, then the message shows as failed on the outbox page. With no
``MAIL_SERVER`` configured (development), messages are logged and stay unsent in the
outbox, where admins can read them. ``dedupe_key`` makes a second send of the same
message a no-op (reminders, promotions).
"""
from __future__ import annotations

import logging
import os
import secrets
import smtplib
import ssl
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import Row, and_, event, func, or_, select, update
from sqlalchemy.orm import Session as OrmSession

from ..database import rows_changed
from ..db_types import utcnow
from ..extensions import db
from ..jobs import after_response as run_after_response
from ..jobs import answering_a_request, enqueue
from .models import OutboxMessage

log = logging.getLogger(__name__)

#: the job that sends committed messages (youthclub/mail/tasks.py)
DELIVER_TASK = "youthclub.mail.deliver"

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
    later = after_response and answering_a_request()
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
    # one Message-ID per outbox row: if a worker dies after the server took the message but before
    # it was marked sent, the second delivery carries the same id and mail systems drop the copy
    domain = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1].split("@")[-1] or "localhost"
    msg["Message-ID"] = f"<outbox-{message_row.id}.{int(message_row.created_at.timestamp())}@{domain}>"
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


def retry_delay(attempts: int) -> int:
    """Seconds to wait after the ``attempts``-th failed attempt: doubling from MAIL_RETRY_SECONDS, at most an hour."""
    base = int(current_app.config.get("MAIL_RETRY_SECONDS", 30))
    return min(base * 2 ** max(attempts - 1, 0), int(current_app.config.get("MAIL_RETRY_MAX_SECONDS", 3600)))


def _due(now, *, respect_backoff: bool):
    lease = timedelta(seconds=int(current_app.config.get("OUTBOX_LEASE_SECONDS", 300)))
    conditions = [
        OutboxMessage.sent_at.is_(None),
        OutboxMessage.failed_at.is_(None),
        or_(OutboxMessage.claimed_at.is_(None), OutboxMessage.claimed_at < now - lease),
    ]
    if respect_backoff:
        conditions.append(or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now))
    return and_(*conditions)


def claim_messages(ids=None, *, limit: int = 50) -> tuple[str, Sequence[Row]]:
    """Take unsent messages for one delivery attempt; returns the claim's token and the rows taken.

    ``ids`` names the messages (a job enqueued after commit, or its retry); without it the
    oldest due messages are taken (the sweep), and a failed message waits out its backoff.
    A message another attempt holds is skipped (PostgreSQL: ``FOR UPDATE SKIP LOCKED``;
    SQLite: one conditional ``UPDATE``, which holds the database's write lock), unless that
    claim is older than ``OUTBOX_LEASE_SECONDS``: its worker died, and the message is taken again.
    Each claim counts as an attempt, so a message that kills its worker still stops at the limit.
    """
    if ids is not None and not ids:
        return "", []
    # the process id first: whoever runs the workers can tell which process holds a claim
    token, now = f"{os.getpid()}-{secrets.token_hex(12)}", utcnow()
    due = _due(now, respect_backoff=ids is None)
    picked = select(OutboxMessage.id).where(due).order_by(OutboxMessage.id).limit(limit)
    if ids is not None:
        picked = picked.where(OutboxMessage.id.in_(list(ids)))
    claim = {"claimed_at": now, "claimed_by": token, "attempts": OutboxMessage.attempts + 1}
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            taken = conn.scalars(picked.with_for_update(skip_locked=True)).all()
            if taken:
                conn.execute(update(OutboxMessage).where(OutboxMessage.id.in_(taken)).values(**claim))
        else:
            conn.execute(
                update(OutboxMessage).where(OutboxMessage.id.in_(picked.scalar_subquery()), due).values(**claim)
            )
        rows = conn.execute(
            select(OutboxMessage.id, OutboxMessage.to_address, OutboxMessage.subject, OutboxMessage.body_text,
                   OutboxMessage.created_at, OutboxMessage.attempts)
            .where(OutboxMessage.claimed_by == token).order_by(OutboxMessage.id)
        ).all()
    return token, rows


def _finish(token: str, results: dict[int, str | None], attempts: dict[int, int]) -> dict[int, int]:
    """Record each attempt's outcome under its claim; returns {id: seconds until the retry} of the failures."""
    now = utcnow()
    limit = int(current_app.config.get("MAIL_MAX_ATTEMPTS", 8))
    retries = {}
    with db.engine.begin() as conn:
        for row_id, error in results.items():
            values: dict[str, datetime | str | None] = {"claimed_at": None, "claimed_by": None, "last_error": error}
            if error is None:
                values["sent_at"] = now
            elif attempts[row_id] >= limit:
                values["failed_at"] = now
                log.error("mail %s gave up after %s attempts: %s", row_id, attempts[row_id], error)
            else:
                retries[row_id] = retry_delay(attempts[row_id])
                values["next_attempt_at"] = now + timedelta(seconds=retries[row_id])
            done = conn.execute(
                update(OutboxMessage).where(OutboxMessage.id == row_id, OutboxMessage.claimed_by == token).values(**values)
            ).rowcount
            if not done:
                log.warning("mail %s: the claim ran out before the attempt ended (another worker took it)", row_id)
    return retries


def _release(token: str, ids) -> None:
    """Hand back claimed messages that were not tried (the attempt is not counted)."""
    with db.engine.begin() as conn:
        conn.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(list(ids)), OutboxMessage.claimed_by == token)
            .values(claimed_at=None, claimed_by=None, attempts=OutboxMessage.attempts - 1)
        )


def deliver(ids=None, *, limit: int = 50) -> tuple[int, dict[int, int]]:
    """Claim and send messages (the given ``ids``, else the oldest due); returns (sent, {id: retry in seconds}).

    Reads and writes on its own connections, so it can run right after a commit. Without
    ``MAIL_SERVER`` (development) the messages are logged and stay unsent in the outbox.
    """
    if not current_app.config.get("MAIL_SERVER"):
        if ids:
            with db.engine.connect() as conn_read:
                for row in conn_read.execute(
                    select(OutboxMessage.to_address, OutboxMessage.subject, OutboxMessage.body_text)
                    .where(OutboxMessage.id.in_(list(ids)), OutboxMessage.sent_at.is_(None))
                ):
                    log.info("mail (no MAIL_SERVER, kept in the outbox) to=%s subject=%s\n%s",
                             row.to_address, row.subject, row.body_text)
        return 0, {}
    token, rows = claim_messages(ids, limit=limit)
    if not rows:
        return 0, {}
    results: dict[int, str | None] = {}
    attempts = {row.id: row.attempts for row in rows}
    # stop well inside the lease, so no other worker takes a message this one is still sending
    deadline = time.monotonic() + int(current_app.config.get("OUTBOX_LEASE_SECONDS", 300)) / 2
    try:
        conn = _smtp_connection()
    except (OSError, smtplib.SMTPException) as err:
        log.warning("mail server unreachable: %s", err)
        results = {row.id: str(err)[:300] or type(err).__name__ for row in rows}
        conn = None
    if conn is not None:
        with conn:
            for row in rows:
                if time.monotonic() > deadline:
                    break
                try:
                    conn.send_message(_build(row))
                except (OSError, smtplib.SMTPServerDisconnected) as err:
                    # the connection is gone: this message and the rest of the batch failed this attempt
                    log.warning("mail %s to %s failed: %s", row.id, row.to_address, err)
                    error = str(err)[:300] or type(err).__name__
                    results.update({r.id: error for r in rows if r.id not in results})
                    break
                except smtplib.SMTPException as err:
                    log.warning("mail %s to %s failed: %s", row.id, row.to_address, err)
                    results[row.id] = str(err)[:300]
                else:
                    results[row.id] = None
                    # marked at once: a worker that dies later in the batch must not leave it to be sent again
                    _finish(token, {row.id: None}, attempts)
    untried = [row.id for row in rows if row.id not in results]
    if untried:
        _release(token, untried)
    retries = _finish(token, {row_id: error for row_id, error in results.items() if error is not None}, attempts)
    return sum(1 for error in results.values() if error is None), retries


def deliver_due(limit: int = 200) -> int:
    """Send every due unsent message (oldest first), e.g. after the mail server was down; returns how many went out."""
    sent = 0
    while True:
        batch_sent, _ = deliver(limit=min(limit, 50))
        sent += batch_sent
        limit -= 50
        if not batch_sent or limit <= 0:
            return sent


def retry_failed(message_id: int) -> OutboxMessage | None:
    """Give a message that was given up a new round of attempts; it is sent when the transaction commits.

    Only a message that failed is changed (a conditional UPDATE: a second press, or one on a
    message that was sent meanwhile, changes nothing and answers None). Its attempts start from
    zero again; its last error stays on the page until an attempt succeeds.
    """
    retried = rows_changed(
        update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.failed_at.is_not(None))
        .values(failed_at=None, attempts=0, next_attempt_at=None, claimed_at=None, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    if not retried:
        return None
    db.session.info.setdefault(_PENDING, []).append(message_id)
    return db.session.get(OutboxMessage, message_id, populate_existing=True)


def outbox_counts() -> dict[str, int]:
    """How many messages wait to be sent (retries included) and how many were given up."""
    waiting = db.session.scalar(
        select(func.count(OutboxMessage.id)).where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))
    )
    failed = db.session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.failed_at.is_not(None)))
    return {"waiting": waiting or 0, "failed": failed or 0}


def oldest_waiting_age(now=None) -> float | None:
    """Seconds the oldest message still waiting to be sent has waited, or None when none waits."""
    oldest = db.session.scalar(
        select(func.min(OutboxMessage.created_at)).where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))
    )
    if oldest is None:
        return None
    if oldest.tzinfo is None:  # min() on SQLite bypasses the column type
        oldest = datetime.fromisoformat(str(oldest)).replace(tzinfo=UTC)
    return ((now or utcnow()) - oldest).total_seconds()


@event.listens_for(OrmSession, "after_commit")
def _deliver_after_commit(session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released; the outer transaction may still roll back
    ids = session.info.pop(_PENDING, None)
    if ids:
        _deliver_safely(ids)
    later = session.info.pop(_AFTER_RESPONSE, None)
    if later:
        # once the answer has gone out; what is never sent waits for the sweep (``deliver_due``)
        run_after_response(_deliver_safely, later)


def _deliver_safely(ids) -> None:
    """Hand the committed messages to the queue (in-process: send them now); never raises."""
    try:
        enqueue(DELIVER_TASK, list(ids))
    except Exception:  # a mail problem must never undo or break the committed work
        log.exception("delivering outbox messages %s failed", ids)


@event.listens_for(OrmSession, "after_rollback")
def _forget_after_rollback(session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_PENDING, None)
        session.info.pop(_AFTER_RESPONSE, None)
