"""Outgoing mail, kept in an outbox so nothing is sent twice and development can read it."""
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
