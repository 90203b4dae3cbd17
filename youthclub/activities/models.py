"""Activity offers, their weekly patterns and their sessions."""
from __future__ import annotations

import enum
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Time,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..db_types import Choice, UTCDateTime, utcnow
from ..extensions import Model, db

if TYPE_CHECKING:  # relationship targets in other domains (their modules import this one)
    from ..programme.models import District, FocusArea, Initiative, Institution


class Category(enum.StrEnum):
    SPORT = "sport"
    KREATIV = "kreativ"
    MUSIK = "musik"
    GAMING = "gaming"
    LEKTIEHJAELP = "lektiehjaelp"
    JOB = "job_uddannelse"
    TURE = "ture_oplevelser"
    ANDET = "andet"


class ActivityStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


activity_focus_area = Table(
    "activity_focus_area",
    db.metadata,
    Column("activity_id", ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True),
    Column("focus_area_id", ForeignKey("focus_area.id", ondelete="CASCADE"), primary_key=True),
)

activity_initiative = Table(
    "activity_initiative",
    db.metadata,
    Column("activity_id", ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True),
    Column("initiative_id", ForeignKey("initiative.id", ondelete="CASCADE"), primary_key=True),
)


class Activity(Model):
    """An offer ("tilbud") an institution lists for young people."""

    __table_args__ = (
        Index("ix_activity_catalogue", "status", "district_id", "category"),
        Index("ix_activity_status_ages", "status", "min_age", "max_age"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    #: where the activity takes place; defaults to the institution's district
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[Category] = mapped_column(Choice(Category))
    min_age: Mapped[int] = mapped_column(Integer)
    max_age: Mapped[int] = mapped_column(Integer)
    address: Mapped[str | None] = mapped_column(String(300))
    room: Mapped[str | None] = mapped_column(String(120))
    #: False for "drop-in, no sign-up" offers
    requires_signup: Mapped[bool] = mapped_column(Boolean, default=True)
    #: places for sign-up activities; None means no limit
    capacity: Mapped[int | None] = mapped_column(Integer)
    #: whether a full activity keeps a waitlist
    waitlist_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    #: whether visitors without a sign-up may also attend an offer that takes sign-ups (recorded as
    #: drop-ins); off unless staff choose it, so a full offer does not invite everyone in anyway
    allows_drop_in: Mapped[bool] = mapped_column(Boolean, default=False)
    signup_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signup_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[ActivityStatus] = mapped_column(Choice(ActivityStatus), default=ActivityStatus.DRAFT)
    cancel_reason: Mapped[str | None] = mapped_column(String(300))
    #: title and description casefolded, for text search that handles æ, ø and å on every database
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    institution: Mapped[Institution] = relationship("Institution")
    district: Mapped[District] = relationship("District")
    focus_areas: Mapped[list[FocusArea]] = relationship("FocusArea", secondary=activity_focus_area)
    initiatives: Mapped[list[Initiative]] = relationship("Initiative", secondary=activity_initiative)
    sessions: Mapped[list[Session]] = relationship(
        back_populates="activity", order_by="Session.starts_at", cascade="all, delete-orphan"
    )
    patterns: Mapped[list[SessionPattern]] = relationship(
        back_populates="activity", cascade="all, delete-orphan"
    )

    def refresh_search_text(self) -> None:
        self.search_text = f"{self.title} {self.description or ''}".casefold()

    def __str__(self) -> str:
        return self.title


class SessionPattern(Model):
    """A weekly pattern that generates sessions between two dates, in Europe/Copenhagen time."""

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"), index=True)
    #: ISO weekdays as a list of ints, Monday = 0
    weekdays: Mapped[list[int]] = mapped_column(JSON)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    #: dates (ISO strings) that are skipped, e.g. holidays
    skip_dates: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    activity: Mapped[Activity] = relationship(back_populates="patterns")


def _local(starts_at: datetime) -> datetime:
    from ..i18n import to_local

    if starts_at.tzinfo is None:  # stored values are UTC
        starts_at = starts_at.replace(tzinfo=UTC)
    return to_local(starts_at)


def local_weekday_of(starts_at: datetime) -> int:
    """The weekday (Monday = 0) of a start time in Europe/Copenhagen."""
    return _local(starts_at).weekday()


def local_month_of(starts_at: datetime) -> int:
    """The month of a start time in Europe/Copenhagen as one number: year × 12 + month − 1."""
    local = _local(starts_at)
    return local.year * 12 + local.month - 1


# these defaults also fill the columns for Core (bulk) inserts that leave them out
def _local_weekday_default(context) -> int:
    return local_weekday_of(context.get_current_parameters()["starts_at"])


def _local_month_default(context) -> int:
    return local_month_of(context.get_current_parameters()["starts_at"])


class Session(Model):
    """One occurrence ("mødegang") of an activity."""

    __table_args__ = (
        Index("ix_session_activity_starts", "activity_id", "starts_at"),
        Index("ix_session_activity_weekday", "activity_id", "local_weekday", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    pattern_id: Mapped[int | None] = mapped_column(ForeignKey("session_pattern.id", ondelete="SET NULL"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the reason given when the session was cancelled or moved; shown to young people
    cancel_reason: Mapped[str | None] = mapped_column(String(300))
    #: the original start when a session was moved
    moved_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: weekday of ``starts_at`` in Copenhagen (Monday = 0), kept for the catalogue's weekday filter
    local_weekday: Mapped[int] = mapped_column(Integer, default=_local_weekday_default)
    #: month of ``starts_at`` in Copenhagen (``local_month_of``): the statistics group visits by it
    local_month: Mapped[int] = mapped_column(Integer, default=_local_month_default)
    #: the places the activity offered at this session (None: no limit): the activity's capacity when
    #: the session was made, changed with it only while the session has not started (``set_capacity``)
    capacity: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    activity: Mapped[Activity] = relationship(back_populates="sessions")

    @validates("activity")
    def _take_capacity(self, key, activity):
        # a new session offers the places its activity offers now
        if activity is not None and self.id is None:
            self.capacity = activity.capacity
        return activity

    @validates("starts_at")
    def _keep_local_fields(self, key, value):
        if value is not None:
            self.local_weekday = local_weekday_of(value)
            self.local_month = local_month_of(value)
        return value

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None
