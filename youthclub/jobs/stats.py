"""Numbers about the job queue for whoever runs it (the metrics endpoint reads these)."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..mail.services import oldest_waiting_age, outbox_counts
from . import in_process
from .models import ScheduledRun


def queue_depth() -> int | None:
    """Jobs waiting in the broker's queue (not yet taken by a worker); None when jobs run in-process."""
    if in_process(current_app):
        return None
    celery = current_app.extensions["celery"]
    queue = celery.conf.task_default_queue
    with celery.connection_for_read() as conn:
        try:
            return conn.default_channel.queue_declare(queue=queue, passive=True).message_count
        except conn.channel_errors:  # no job was ever sent: the queue does not exist yet
            return 0


def mail_waiting_count() -> int:
    """Outbox messages not sent yet and not given up (the backlog, retries included)."""
    return outbox_counts()["waiting"]


def failed_count() -> int:
    """Outbox messages given up after MAIL_MAX_ATTEMPTS (shown as failed on the outbox page)."""
    return outbox_counts()["failed"]


def oldest_mail_age_seconds() -> float | None:
    """How long the oldest waiting message has waited; None when none waits."""
    return oldest_waiting_age()


def failed_scheduled_runs() -> int:
    """Scheduled job runs that ended in an error."""
    return db.session.scalar(select(func.count(ScheduledRun.id)).where(ScheduledRun.outcome.like("error:%"))) or 0
