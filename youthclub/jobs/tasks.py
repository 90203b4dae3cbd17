"""The scheduled jobs (see ``SCHEDULE`` in ``youthclub/jobs/__init__.py``); each runs once per slot in the cluster."""
from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app

from ..privacy.services import DEFAULT_OUTBOX_RETENTION_DAYS, delete_expired_tokens
from ..privacy.services import purge as purge_data
from ..reports import figures_cache
from ..reports.visit_counts import find_differences
from ..signups.services import send_reminders as write_reminders
from .schedule import run_once

log = logging.getLogger(__name__)


def _outbox_days() -> int:
    return int(current_app.config.get("OUTBOX_RETENTION_DAYS", DEFAULT_OUTBOX_RETENTION_DAYS))


def _summary(counts: dict) -> str:
    return ", ".join(f"{key}={value}" for key, value in counts.items())


@shared_task(name="youthclub.jobs.send_reminders")
def send_reminders() -> str | None:
    """Hourly: mail tomorrow's participants (once per session and young person: the outbox's dedupe key)."""
    return run_once("send-reminders", "hourly", lambda: f"{write_reminders()} reminder(s)")


@shared_task(name="youthclub.jobs.expire_tokens")
def expire_tokens() -> str | None:
    """Hourly: delete expired reset links, claim codes, guardian links and API tokens."""
    return run_once("expire-tokens", "hourly", lambda: _summary(delete_expired_tokens(revoked_days=_outbox_days())))


@shared_task(name="youthclub.jobs.purge")
def purge() -> str | None:
    """Daily: the retention schedule (``youthclub purge``)."""
    return run_once("purge", "daily", lambda: _summary(
        purge_data(retention_months=int(current_app.config["RETENTION_MONTHS"]), outbox_days=_outbox_days())
    ))


@shared_task(name="youthclub.jobs.check_visit_counts")
def check_visit_counts() -> str | None:
    """Nightly: compare the visit counts with the visits; a difference is logged as an error (the alert)."""

    def check() -> str:
        total, sample = find_differences()
        if total:
            log.error("visit counts differ from the visits in %s place(s), e.g. %s; run `youthclub visit-counts rebuild`",
                      total, sample[:5])
            return f"{total} difference(s)"
        return "no differences"

    return run_once("visit-counts-check", "daily", check)


@shared_task(name="youthclub.jobs.warm_figures")
def warm_figures() -> str | None:
    """Nightly, after the purge: compute again the closed years' figures a day's late writes made stale (``youthclub figures warm``)."""
    return run_once("figures-warm", "daily", lambda: f"{figures_cache.warm(figures_cache.closed_years())} computed")
