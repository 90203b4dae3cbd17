"""Attendance of registered young people, scan conflicts, and anonymous head counts."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Gender, new_record_key
from ..db_types import Choice, UTCDateTime, utcnow
from ..extensions import Model

if TYPE_CHECKING:  # relationship targets in other domains (their modules import this one)
    from ..accounts.models import YouthProfile
    from ..activities.models import Session


class CheckinMethod(enum.StrEnum):
    QR = "qr"
    MANUAL = "manual"
    OFFLINE = "offline"


class Attendance(Model):
    """A registered young person was at a session ("fremmøde")."""

    __table_args__ = (
        UniqueConstraint("youth_id", "session_id"),
        Index("ix_attendance_session", "session_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    youth_id: Mapped[int] = mapped_column(ForeignKey("youth_profile.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"))
    method: Mapped[CheckinMethod] = mapped_column(Choice(CheckinMethod))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: when the pass was scanned (the device's time for offline scans)
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: when the server stored it
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: the scanner's idempotency key; a retry with the same nonce changes nothing
    nonce: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: came without a sign-up to an activity that allows drop-ins
    drop_in: Mapped[bool] = mapped_column(Boolean, default=False)
    #: staff let them in although they are outside the age range
    age_override: Mapped[bool] = mapped_column(Boolean, default=False)

    youth: Mapped[YouthProfile] = relationship("YouthProfile")
    session: Mapped[Session] = relationship("Session")


class ScanConflict(Model):
    """An offline scan the server could not turn into attendance, kept for staff to see."""

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"), index=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    #: the young person, when the token could be resolved
    youth_id: Mapped[int | None] = mapped_column(ForeignKey("youth_profile.id", ondelete="CASCADE"))
    #: the refusal's machine code, e.g. revoked_token or not_signed_up
    code: Mapped[str] = mapped_column(String(40))
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    youth: Mapped[YouthProfile | None] = relationship("YouthProfile")


class AgeBand(enum.StrEnum):
    UNDER_13 = "u13"
    AGE_13_15 = "13-15"
    AGE_16_17 = "16-17"
    AGE_18_24 = "18-24"

    @classmethod
    def for_age(cls, age: int) -> AgeBand:
        if age < 13:
            return cls.UNDER_13
        if age <= 15:
            return cls.AGE_13_15
        if age <= 17:
            return cls.AGE_16_17
        return cls.AGE_18_24


class HeadCount(Model):
    """Anonymous drop-ins at a session ("optælling"), by age band and gender."""

    __table_args__ = (
        UniqueConstraint("session_id", "age_band", "gender"),
        CheckConstraint("count >= 0", name="count_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"), index=True)
    age_band: Mapped[AgeBand] = mapped_column(Choice(AgeBand))
    gender: Mapped[Gender] = mapped_column(Choice(Gender))
    count: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: random 0..255, never changed: the record key of these anonymous drop-ins in the statistics' cell keys
    record_key: Mapped[int] = mapped_column(Integer, default=new_record_key, nullable=False)

    session: Mapped[Session] = relationship("Session")
