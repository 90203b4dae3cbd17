"""Outgoing mail, kept in an outbox so nothing is sent twice and development can read it.

A worker claims a row (``claimed_at``/``claimed_by``) before it talks to the mail server, so
two workers never send one message; a claim older than the lease (``OUTBOX_LEASE_SECONDS``)
belongs to a worker that died and may be taken again.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db_types import UTCDateTime, utcnow
from ..extensions import Model


class OutboxMessage(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body_text: Mapped[str] = mapped_column(Text)
    #: one message per key, e.g. "reminder:<session>:<youth>"; a second send is a no-op
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    #: the young person or user it concerns, so closing an account can remove it
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    youth_id: Mapped[int | None] = mapped_column(ForeignKey("youth_profile.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    #: when a worker took the message to send it; cleared when the attempt ends
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the attempt holding the claim (a random token), so a late worker cannot mark another's attempt
    claimed_by: Mapped[str | None] = mapped_column(String(40))
    #: after a failed attempt, not before this time (the backoff)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: set when MAIL_MAX_ATTEMPTS attempts failed: nobody tries again (the outbox page shows it)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def status(self) -> str:
        """sent, failed (given up), retrying (an attempt failed) or waiting."""
        if self.sent_at is not None:
            return "sent"
        if self.failed_at is not None:
            return "failed"
        return "retrying" if self.last_error else "waiting"
