"""Background jobs: a Celery app bound to the Flask app, as in Flask's "Background Tasks with Celery".

With a broker (``JOBS_BROKER_URL``, else ``REDIS_URL``) jobs go to Redis and run in
``youthclub worker`` processes; ``youthclub scheduler`` (Celery beat) sends the scheduled ones.
Without a broker (tests, ``make run`` with no Redis) every job runs in-process, at once
(Celery's eager mode), so mail still reaches the outbox and the SMTP server.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from celery import Celery, Task
from celery.schedules import crontab
from flask import Flask, current_app

log = logging.getLogger(__name__)

#: the schedule: job name → (task, when). Hourly jobs run once an hour, daily ones once a day
#: (Copenhagen time), however many schedulers send them: ``schedule.run_once`` takes the slot.
SCHEDULE = {
    "deliver-due-mail": ("youthclub.mail.deliver_due", timedelta(minutes=1)),
    "send-reminders": ("youthclub.jobs.send_reminders", crontab(minute=5)),
    "expire-tokens": ("youthclub.jobs.expire_tokens", crontab(minute=35)),
    "visit-counts-check": ("youthclub.jobs.check_visit_counts", crontab(hour=2, minute=15)),
    "purge": ("youthclub.jobs.purge", crontab(hour=3, minute=15)),
    "figures-warm": ("youthclub.jobs.warm_figures", crontab(hour=4, minute=15)),
}


def broker_url(app: Flask) -> str | None:
    return app.config.get("JOBS_BROKER_URL") or app.config.get("REDIS_URL") or None


def in_process(app: Flask | None = None) -> bool:
    """True when jobs run in the calling process (no broker, or JOBS_IN_PROCESS)."""
    app = app or current_app
    return bool(app.config.get("JOBS_IN_PROCESS")) or broker_url(app) is None


def _beat_schedule(app: Flask) -> dict:
    every = app.config.get("JOBS_SCHEDULE_SECONDS")  # for trying the schedule out (and its tests)
    schedule = {
        name: {"task": task, "schedule": timedelta(seconds=float(every)) if every else when}
        for name, (task, when) in SCHEDULE.items()
    }
    sweep = app.config.get("OUTBOX_SWEEP_SECONDS")
    if sweep:
        schedule["deliver-due-mail"]["schedule"] = timedelta(seconds=float(sweep))
    return schedule


def init_app(app: Flask) -> Celery:
    """Make the app's Celery (``app.extensions["celery"]``); its tasks run inside an app context."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.import_name, task_cls=FlaskTask)
    eager = in_process(app)
    celery.conf.update(
        broker_url=broker_url(app) or "memory://",
        task_always_eager=eager,
        task_eager_propagates=False,
        task_ignore_result=True,
        result_backend=None,
        # a job is acknowledged when it has finished, so a worker that dies hands it back
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # the web side never waits long for Redis: a message it cannot enqueue waits for the sweep
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5},
        broker_transport_options={"socket_connect_timeout": 2, "socket_timeout": 5,
                                  # unacknowledged jobs go back to the queue after this long
                                  "visibility_timeout": int(app.config.get("OUTBOX_LEASE_SECONDS", 300)) * 2},
        timezone=app.config.get("BABEL_DEFAULT_TIMEZONE", "Europe/Copenhagen"),
        enable_utc=True,
        beat_schedule=_beat_schedule(app),
        include=["youthclub.jobs.tasks", "youthclub.mail.tasks"],
    )
    app.extensions["celery"] = celery
    from flask import request_started

    request_started.connect(_mark_answering, app, weak=False)
    from ..mail import tasks as _mail_tasks  # noqa: F401  (registers the jobs with this Celery)
    from . import tasks as _tasks  # noqa: F401

    return celery


def _mark_answering(sender, **extra) -> None:
    from flask import g

    g._answering_request = True


def answering_a_request() -> bool:
    """Inside a request the app is dispatching, whose answer has not gone out yet (not a bare request
    context of a test or a command, and not the work that runs after an answer)."""
    from flask import g, has_request_context

    return has_request_context() and bool(g.get("_answering_request"))


def after_response(fn, *args) -> None:
    """Run ``fn(*args)`` once the answer has gone out (the response's WSGI close), in its own app
    context and transaction: committed when it returns, rolled back and logged if it raises.

    For work whose time must not show in the answer (what a reset does for a known e-mail and not
    for an unknown one). Outside a request it runs now, in the caller's transaction.
    """
    from flask import after_this_request, has_app_context
    from flask.globals import app_ctx

    from ..database import write_transactions
    from ..extensions import db

    if not answering_a_request():
        fn(*args)
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the app behind the proxy

    answered = app_ctx._get_current_object()  # type: ignore[attr-defined]

    def run() -> None:
        if has_app_context() and app_ctx._get_current_object() is answered:  # type: ignore[attr-defined]
            # the answered request's context is still there only where a test client keeps it around
            # the whole exchange (a server has torn it down by now): end its session, so its
            # transaction (BEGIN IMMEDIATE on SQLite) does not hold the database against this work
            db.session.remove()
        # the work writes: on SQLite its transaction takes the write lock at its start, waiting for
        # another writer, instead of reading first and then failing at once ("database is locked")
        # when someone else wrote meanwhile (a reset mail was lost that way beside a log-in)
        with app.app_context(), write_transactions():
            try:
                fn(*args)
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("work after the response (%s) failed", getattr(fn, "__name__", fn))

    @after_this_request
    def _on_close(response):
        response.call_on_close(run)
        return response


def enqueue(task_name: str, *args, **options) -> bool:
    """Send a job to the queue (or run it here when in-process); False when the broker refused it.

    A job that could not be enqueued is not lost when it is outbox mail: the sweep
    (``deliver-due-mail``, every minute) sends what is due.
    """
    celery = current_app.extensions["celery"]
    task = celery.tasks[task_name]
    try:
        task.apply_async(args=args, **options)
    except Exception:  # Redis away: the committed work stands, the sweep catches up
        log.exception("could not enqueue %s%r", task_name, args)
        return False
    return True
