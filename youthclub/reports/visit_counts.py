"""``visit_month`` against the visits it counts: find differences, rebuild.

The triggers (migration ``c3d1a7e5f9b2``) keep the table exact; these are for the day
something went around them (a restore into a database without them, a trigger disabled
for a bulk load, a hand-made repair), and for the tests that prove the triggers right.
"""
from __future__ import annotations

from sqlalchemy import delete, except_, func, insert, select, text, union

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
    sides = [except_(stored(), counted()).subquery("extra"), except_(counted(), stored()).subquery("missing")]
    keys = union(*[select(s.c.youth_id, s.c.month, s.c.activity_id) for s in sides]).subquery("keys")
    total = db.session.scalar(select(func.count()).select_from(keys))
    if not total:
        return 0, []
    truth = counted().subquery("truth")
    sample = db.session.execute(
        select(keys.c.youth_id, keys.c.month, keys.c.activity_id, VisitMonth.visits, truth.c.visits)
        .outerjoin(VisitMonth, (VisitMonth.youth_id == keys.c.youth_id) & (VisitMonth.month == keys.c.month)
                   & (VisitMonth.activity_id == keys.c.activity_id))
        .outerjoin(truth, (truth.c.youth_id == keys.c.youth_id) & (truth.c.month == keys.c.month)
                   & (truth.c.activity_id == keys.c.activity_id))
        .order_by(keys.c.youth_id, keys.c.month, keys.c.activity_id)
        .limit(limit)
    ).all()
    return total, [tuple(r) for r in sample]


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
