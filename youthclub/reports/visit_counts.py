"""``visit_month`` against the visits it counts: find differences, rebuild.

The triggers (migration ``c3d1a7e5f9b2``) keep the table exact; these are for the day
something went around them (a restore into a database without them, a trigger disabled
for a bulk load, a hand-made repair), and for the tests that prove the triggers right.
"""
from __future__ import annotations

from sqlalchemy import and_, delete, func, insert, select, text

from ..activities.models import Session
from ..attendance.models import Attendance
from ..extensions import db
from .models import VisitMonth


def counted():
    """The visit counts as the visits say they are: held sessions, per young person, month and activity."""
    return (
        select(Attendance.youth_id, Session.local_month.label("month"), Session.activity_id, func.count().label("visits"))
        .join(Session, Session.id == Attendance.session_id)
        .where(Session.cancelled_at.is_(None))
        .group_by(Attendance.youth_id, Session.local_month, Session.activity_id)
    )


def stored():
    return select(VisitMonth.youth_id, VisitMonth.month, VisitMonth.activity_id, VisitMonth.visits)


def find_differences(limit: int = 20) -> tuple[int, list[tuple]]:
    """How many (young person, month, activity) counts differ, and the first ``limit`` of them.

    Each as (youth_id, month, activity_id, stored visits or None, counted visits or None).
    """
    kept, truth = stored().subquery("kept"), counted().subquery("truth")
    same = and_(*[kept.c[k] == truth.c[k] for k in ("youth_id", "month", "activity_id")])
    keys = [func.coalesce(kept.c[k], truth.c[k]) for k in ("youth_id", "month", "activity_id")]
    rows = db.session.execute(
        select(*keys, kept.c.visits, truth.c.visits, func.count().over())
        .select_from(kept.outerjoin(truth, same, full=True))
        .where(kept.c.visits.is_distinct_from(truth.c.visits))
        .order_by(*keys)
        .limit(limit)
    ).all()
    return (rows[0][-1] if rows else 0), [tuple(r[:-1]) for r in rows]


def rebuild_visit_counts() -> int:
    """Replace every count with what the visits say (in the caller's transaction); answers the rows written.

    On PostgreSQL, visits and sessions are locked against writers until the caller commits, so
    no check-in falls between the count and the commit (SQLite has one writer at a time anyway).
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("LOCK TABLE attendance, session IN SHARE MODE"))
    db.session.execute(delete(VisitMonth))
    db.session.execute(insert(VisitMonth).from_select(["youth_id", "month", "activity_id", "visits"], counted()))
    return db.session.scalar(select(func.count()).select_from(VisitMonth)) or 0
