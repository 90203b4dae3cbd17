"""Free places: the one definition, written once in SQL, which Python asks too.

Free places are the capacity less the confirmed sign-ups (never below 0), or None when the
offer has no limit or needs no sign-up. The catalogue filters and sorts on the SQL
expression; ``free_places`` and ``free_places_by_activity`` evaluate the same expression,
so the number shown, the number filtered on and the number ``sign_up`` decides on agree.
"""
from __future__ import annotations

from sqlalchemy import and_, case, func, select

from ..activities.models import Activity
from ..extensions import db
from .models import Signup, SignupStatus


def confirmed_count_sql(activity=Activity):
    """The confirmed sign-ups of ``activity`` (a correlated scalar subquery)."""
    return (
        select(func.count(Signup.id))
        .where(Signup.activity_id == activity.id, Signup.status == SignupStatus.CONFIRMED)
        .correlate(activity)
        .scalar_subquery()
    )


def free_places_sql(activity=Activity):
    """Free places of ``activity`` as a SQL expression: NULL without a limit, else max(capacity − confirmed, 0)."""
    confirmed = confirmed_count_sql(activity)
    return case(
        (and_(activity.requires_signup.is_(True), activity.capacity.is_not(None)),
         case((activity.capacity > confirmed, activity.capacity - confirmed), else_=0)),
        else_=None,
    )


def free_places_by_activity(activity_ids) -> dict[int, int | None]:
    """Free places per activity id (None: no limit), in one query."""
    ids = list(set(activity_ids))
    if not ids:
        return {}
    rows = db.session.execute(select(Activity.id, free_places_sql()).where(Activity.id.in_(ids)))
    return {activity_id: free for activity_id, free in rows}


def free_places(activity: Activity) -> int | None:
    """Free places of one activity (None: no limit)."""
    return free_places_by_activity([activity.id]).get(activity.id)


def has_free_place(free: int | None) -> bool:
    """Whether a free-places number (None: no limit) leaves room for one more."""
    return free is None or free > 0


def confirmed_counts(activity_ids) -> dict[int, int]:
    """Confirmed sign-ups per activity id (0 for none), in one query."""
    ids = list(set(activity_ids))
    counts = dict.fromkeys(ids, 0)
    if ids:
        rows = db.session.execute(
            select(Signup.activity_id, func.count())
            .where(Signup.activity_id.in_(ids), Signup.status == SignupStatus.CONFIRMED)
            .group_by(Signup.activity_id)
        )
        counts.update({activity_id: n for activity_id, n in rows})
    return counts
