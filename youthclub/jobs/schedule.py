"""Running a scheduled job once per time slot across the whole cluster.

Every scheduler may send a job (two beats for safety, or an in-process ticker); the first
worker to insert the ``scheduled_run`` row for the job and its slot (the hour or the day,
Copenhagen time) runs it, and every other attempt in that slot finds the row and does nothing.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from ..database import write_transactions
from ..db_types import utcnow
from ..extensions import db
from ..i18n import LOCAL_TZ
from .models import ScheduledRun

log = logging.getLogger(__name__)

#: how long one slot of each kind of job is
SLOT_FORMATS = {"hourly": "%Y-%m-%dT%H", "daily": "%Y-%m-%d"}


def slot_for(period: str, now: datetime) -> str:
    return now.astimezone(LOCAL_TZ).strftime(SLOT_FORMATS[period])


def run_once(job: str, period: str, work, *, now: datetime | None = None) -> str | None:
    """Run ``work()`` (which returns a short outcome) unless this job already ran in this slot.

    The slot is taken in a transaction of its own before the work starts, so a second
    worker that starts meanwhile skips it; the work commits on its own. Returns the outcome,
    or None when the slot was taken.
    """
    now = now or utcnow()
    slot = slot_for(period, now)
    try:
        with db.engine.begin() as conn:
            run_id = conn.execute(
                insert(ScheduledRun).values(job=job, slot=slot, started_at=now).returning(ScheduledRun.id)
            ).scalar_one()
    except IntegrityError:
        log.info("scheduled job %s already ran for %s", job, slot)
        return None
    log.info("scheduled job %s runs for %s", job, slot)
    try:
        with write_transactions():
            outcome = work()
            db.session.commit()
    except Exception as err:
        db.session.rollback()
        _record(run_id, f"error: {type(err).__name__}: {err}"[:300])
        log.exception("scheduled job %s for %s failed", job, slot)
        raise
    _record(run_id, (outcome or "")[:300])
    return outcome


def _record(run_id: int, outcome: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(update(ScheduledRun).where(ScheduledRun.id == run_id).values(finished_at=utcnow(), outcome=outcome))
