"""What the statistics read through: a table of visit counts kept by the database, and indexes.

- ``visit_month``: the registered visits at held sessions per young person, activity and
  local month (``session.local_month``). Database triggers on ``attendance`` and ``session``
  keep it exact inside the same transaction as every check-in, deletion, cancellation,
  reinstatement and move (migration ``c3d1a7e5f9b2``; ``youthclub visit-counts`` checks and
  rebuilds it). A year's statistics read these rows (about a third of the visits, far fewer
  for young people who come every week) instead of every visit; the days of a period that
  do not make up a whole month are read from the visits themselves.
- attendance (session_id, youth_id): a period's sessions join their visits and count each
  young person without reading the table rows (an index-only scan on PostgreSQL).
- session (starts_at, activity_id, cancelled_at): a period's held sessions and their
  offers come from the index alone.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..activities.models import Session
from ..attendance.models import Attendance
from ..db_types import UTCDateTime, utcnow
from ..extensions import Model


class VisitMonth(Model):
    """Visits of one young person to one activity in one local month (held sessions only). Kept by triggers."""

    __tablename__ = "visit_month"
    __table_args__ = (
        CheckConstraint("visits > 0", name="visits_positive"),
        Index("ix_visit_month_month_activity", "month", "activity_id"),
    )

    youth_id: Mapped[int] = mapped_column(ForeignKey("youth_profile.id", ondelete="CASCADE"), primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True)
    visits: Mapped[int] = mapped_column(Integer)


ix_attendance_session_youth = Index("ix_attendance_session_youth", Attendance.session_id, Attendance.youth_id)
ix_session_period = Index("ix_session_period", Session.starts_at, Session.activity_id, Session.cancelled_at)


class FiguresYear(Model):
    """A generation per local year: database triggers bump it on every write that can change a closed year's figures.

    Migration ``f1c2a9e7b3d0`` holds the triggers; ``figures_cache.py`` what they are for. A write
    that changes year Y bumps only Y: an answer for a period ending in year E depends on every
    year up to E (who is new needs the visits before the period), so it checks the sum of the
    generations of the years up to E, and a bump of Y is seen by every answer ending in Y or
    later. Writes into the current year (or later) bump nothing, so an ordinary check-in,
    sign-up or head count writes no row here. Rows are never deleted (the sum only grows).
    """

    __tablename__ = "figures_year"

    #: a local (Europe/Copenhagen) calendar year
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(BigInteger, default=1)


class FiguresCache(Model):
    """The raw figures (``compute_tables``) of one closed period, filter and set of tables, as they were computed."""

    __tablename__ = "figures_cache"

    #: sha256 of the figures' code version, the canonical filter and the tables (``figures_cache.cache_key``)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: the sum of ``figures_year.generation`` up to ``end_year``, read before the figures were computed
    generations: Mapped[int] = mapped_column(BigInteger)
    end_year: Mapped[int] = mapped_column(Integer)
    #: the tables as JSON (``figures_cache.encode``): they come back exactly as computed
    payload: Mapped[str] = mapped_column(Text)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FiguresGrain(Model):
    """A closed year's sums at the finest grain the statistics keep of them (``grain_cache.py``).

    Sessions, drop-ins, sign-up × session pairs and visits at sessions with places add up over
    offers, months, age bands and genders, so a year's sums per (offer, month, age band,
    gender) answer every filter and table of any period that covers the whole year. Rows of one
    ``kind`` and ``year`` are written together and are valid while their ``FiguresGrainYear``
    says so. No age band or gender (sessions) is stored as ''.
    """

    __tablename__ = "figures_grain"
    __table_args__ = (Index("ix_figures_grain_kind_year", "kind", "year"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    activity_id: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    age_band: Mapped[str] = mapped_column(String(16))
    gender: Mapped[str] = mapped_column(String(16))
    v0: Mapped[int] = mapped_column(BigInteger)
    v1: Mapped[int] = mapped_column(BigInteger)
    v2: Mapped[int] = mapped_column(BigInteger)


class FiguresPeopleYear(Model):
    """A closed year's visits per young person, offer and age band (``grain_cache.ensure_people``).

    What the people figures of tables without months read for the closed years of a long
    period, instead of every month's visit counts: about a tenth of the rows. The age band is
    the young person's at each visit's month (a position in ``stats.AGE_BANDS``); where they
    live, their gender and record key are read from the profile when the figures are taken.
    Valid while the year's ``FiguresGrainYear`` of kind "people" says so; a deleted profile or
    offer takes its rows with it.
    """

    __tablename__ = "figures_people_year"
    # the cascades of a deleted profile or offer look their rows up by these
    __table_args__ = (Index("ix_figures_people_year_youth_id", "youth_id"), Index("ix_figures_people_year_activity_id", "activity_id"))

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    youth_id: Mapped[int] = mapped_column(ForeignKey("youth_profile.id", ondelete="CASCADE"), primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True)
    age_band: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    visits: Mapped[int] = mapped_column(Integer)


class FiguresGrainYear(Model):
    """Which closed year's grain of a kind is kept: computed under ``generations`` (the sum of
    ``figures_year.generation`` up to the year, read before) by the figures' code ``code``."""

    __tablename__ = "figures_grain_year"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    generations: Mapped[int] = mapped_column(BigInteger)
    code: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
