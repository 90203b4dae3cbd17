"""One row per run of a scheduled job and its time slot, so a cluster runs each slot once."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db_types import UTCDateTime, utcnow
from ..extensions import Model


class ScheduledRun(Model):
    __table_args__ = (UniqueConstraint("job", "slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the job's name in the schedule, e.g. "send-reminders"
    job: Mapped[str] = mapped_column(String(60))
    #: the period it ran for, e.g. "2026-12-01T14" (hourly) or "2026-12-01" (daily), Copenhagen time
    slot: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: what it did ("4 reminder(s)") or the error that stopped it
    outcome: Mapped[str | None] = mapped_column(String(300))
