"""Sign-ups and waitlists."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, ForeignKey, Index, Integer, String, literal_column, or_, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import Choice, UTCDateTime, utcnow
from ..extensions import Model

if TYPE_CHECKING:  # relationship targets in other domains (their modules import this one)
    from ..accounts.models import YouthProfile
    from ..activities.models import Activity


class SignupStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


#: the condition of the partial index ``uq_signup_active``, as the index spells it
ACTIVE_SIGNUP = f"status != '{SignupStatus.CANCELLED.value}'"


def is_active(status) -> ColumnElement[bool]:
    """``status`` (a sign-up's status column) is not cancelled, with the value in the SQL itself.

    Ask for active sign-ups in these words wherever ``uq_signup_active`` should answer. As a bound
    value, SQLite can use the index only by checking the value bound against the index's
    condition, and so prepares the statement again for each execution (ten times the cost of
    the check-in's scan); as ``status IN ('confirmed', 'waitlisted')`` neither database can tell
    that the index applies, and a young person's sign-up for an offer is looked for by walking all
    of the young person's sign-ups (or the offer's) instead of one probe.
    """
    return status != literal_column(f"'{SignupStatus.CANCELLED.value}'")


class Signup(Model):
    """A young person's sign-up ("tilmelding") for an activity, or their place on its waitlist."""

    __table_args__ = (
        # one active sign-up per young person and activity
        Index(
            "uq_signup_active",
            "youth_id",
            "activity_id",
            unique=True,
            sqlite_where=text(ACTIVE_SIGNUP),
            postgresql_where=text(ACTIVE_SIGNUP),
        ),
        Index("ix_signup_activity_status", "activity_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    youth_id: Mapped[int] = mapped_column(ForeignKey("youth_profile.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    status: Mapped[SignupStatus] = mapped_column(Choice(SignupStatus))
    #: place in the waitlist queue (1 is next); None unless waitlisted
    position: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: when the sign-up moved up from the waitlist to a place (None: confirmed when made, or still waiting)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: when staff marked that they told a young person without e-mail about the place (the to-do is done)
    told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: a reason staff give when they cancel; about the sign-up, never about the person
    cancel_reason: Mapped[str | None] = mapped_column(String(300))

    youth: Mapped[YouthProfile] = relationship("YouthProfile")
    activity: Mapped[Activity] = relationship("Activity")


def confirmed_at_moment(moment) -> list:
    """Conditions: the sign-up (``Signup``) held a place at ``moment``: confirmed at or before it, not cancelled before it.

    A sign-up is confirmed from ``confirmed_at`` (its sign-up or promotion from the waitlist)
    until ``cancelled_at``; a sign-up that was never confirmed has no ``confirmed_at``. The one
    rule for "signed up for a session": the statistics' sign-up × session pairs (the moment is
    the session's start) and the roll-call's count of the signed-up.
    """
    return [Signup.confirmed_at.is_not(None), Signup.confirmed_at <= moment,
            or_(Signup.cancelled_at.is_(None), Signup.cancelled_at >= moment)]
