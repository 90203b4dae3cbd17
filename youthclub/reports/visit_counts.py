"""``visit_month`` against the visits it counts: find differences, rebuild.

The triggers (migration ``c3d1a7e5f9b2``) keep the table exact; these are for the day
something went around them (a restore into a database without them, a trigger disabled
for a bulk load, a hand-made repair), and for the tests that prove the triggers right.
"""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import and_, delete, func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite

from ..activities.models import Session
from ..attendance.models import Attendance
from ..extensions import db
from .bulk import secondary_indexes_dropped
from .models import VisitMonth

#: the trigger that counts each new visit (migration ``c3d1a7e5f9b2``); a bulk load suspends it and
#: counts its visits with ``add_visit_counts`` instead
INSERT_TRIGGER = "visit_month_attendance_insert"


def counted():
    """The visit counts as the visits say they are: held sessions, per young person, month and activity."""
    return (
        select(Attendance.youth_id, Session.local_month.label("month"), Session.activity_id, func.count().label("visits"))
        .join(Session, Session.id == Attendance.session_id)
        .where(Session.cancelled_at.is_(None))
        .group_by(Attendance.youth_id, Session.local_month, Session.activity_id)
    )


@contextmanager
def visit_counts_suspended():
    """Without the trigger that counts each new visit into ``visit_month`` (the caller counts them after)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(f"ALTER TABLE attendance DISABLE TRIGGER {INSERT_TRIGGER}"))
        yield
        db.session.execute(text(f"ALTER TABLE attendance ENABLE TRIGGER {INSERT_TRIGGER}"))
        return
    # SQLite has no disabled triggers: drop it and make it again from its own text, in the same transaction
    sql = db.session.scalar(text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :n"), {"n": INSERT_TRIGGER})
    if sql is None:
        raise RuntimeError(f"the trigger {INSERT_TRIGGER} is missing: run the migrations")
    db.session.execute(text(f"DROP TRIGGER {INSERT_TRIGGER}"))
    yield
    db.session.execute(text(sql))


def add_visit_counts(first_session_id: int, last_session_id: int) -> None:
    """Add the visits at the sessions ``first_session_id``..``last_session_id`` to the counts, in one statement.

    For visits that went in without the insert trigger (a bulk load of new sessions'
    visits): each (young person, month, activity) is added to the count already there.
    """
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    new = counted().where(Session.id.between(first_session_id, last_session_id))
    stmt = dialect.insert(VisitMonth).from_select(["youth_id", "month", "activity_id", "visits"], new)
    db.session.execute(stmt.on_conflict_do_update(
        index_elements=[VisitMonth.youth_id, VisitMonth.month, VisitMonth.activity_id],
        set_={"visits": VisitMonth.visits + stmt.excluded.visits},
    ))


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
    # a whole table's worth: its index and foreign keys built again after, not kept up row by row
    with secondary_indexes_dropped(VisitMonth.__tablename__, 0):
        db.session.execute(insert(VisitMonth).from_select(["youth_id", "month", "activity_id", "visits"], counted()))
    return db.session.scalar(select(func.count()).select_from(VisitMonth)) or 0
