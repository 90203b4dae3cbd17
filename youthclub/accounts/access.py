"""Who may see what. Every view uses these helpers, so the rules live in one place.

- admin: everything
- coordinator: every institution, offer and aggregate, never a young person's name
  (the privacy page promises children this); never another role's settings
- institution admin: their institution, its offers and staff
- staff: their institution and its offers, and the young people who take part in them
  (only their own institution's part of each: ``youth_part_for``)
- admin: every young person, for support; each such page is audited
- young person: their own profile, sign-ups and pass
"""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import ColumnElement, and_, exists, false, or_, select

from ..activities.models import Activity, Session
from ..attendance.models import Attendance
from ..database import is_db_id
from ..extensions import db
from ..programme.models import Institution
from ..signups.models import Signup
from ..signups.services import ACTIVE as ACTIVE_SIGNUP
from .models import Role, YouthProfile


def is_admin(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_admin)


def is_coordinator(user) -> bool:
    """Coordinators and admins: programme-wide access."""
    return bool(getattr(user, "is_authenticated", False) and user.is_programme_wide)


def is_staff(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_staff_member)


def is_youth(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_youth)


def is_staff_or_coordinator(user) -> bool:
    return is_staff(user) or is_coordinator(user)


def require(check):
    """Decorator: log in, then 403 unless ``check(current_user)`` holds."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not check(current_user):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def can_access_institution(user, institution_id: int, *, admin: bool = False) -> bool:
    """Programme-wide users, or a member of the institution (an institution admin when ``admin``)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_programme_wide:
        return True
    roles = (Role.INSTITUTION_ADMIN,) if admin else (Role.STAFF, Role.INSTITUTION_ADMIN)
    return institution_id in user.institution_ids(*roles)


def get_institution_or_403(institution_id: int, *, admin: bool = False):
    """Load an institution (404 when missing) the current user may work with (403 otherwise)."""
    institution = db.session.get(Institution, institution_id)
    if institution is None:
        abort(404)
    if not can_access_institution(current_user, institution.id, admin=admin):
        abort(403)
    return institution


def visible_institution_ids(user) -> set[int] | None:
    """None means every institution; otherwise the set the user works at."""
    if user.is_programme_wide:
        return None
    return user.institution_ids()


def get_activity_or_403(activity_id: int):
    """An activity of an institution the current user works at (or any, for coordinators)."""
    activity = db.session.get(Activity, activity_id)
    if activity is None:
        abort(404)
    if not can_access_institution(current_user, activity.institution_id):
        abort(403)
    return activity


def get_session_or_403(session_id: int):
    """A session of an activity the current user may manage."""
    session = db.session.get(Session, session_id)
    if session is None:
        abort(404)
    if not can_access_institution(current_user, session.activity.institution_id):
        abort(403)
    return session


def get_roster_session_or_403(session_id: int):
    """A session whose roster (names) the current user may see: its institution's staff, or an admin."""
    session = get_session_or_403(session_id)
    if not can_see_roster(current_user, session.activity.institution_id):
        abort(403)
    return session


def get_roster_activity_or_403(activity_id: int):
    """An activity whose sign-ups (names) the current user may see: its institution's staff, or an admin."""
    activity = get_activity_or_403(activity_id)
    if not can_see_roster(current_user, activity.institution_id):
        abort(403)
    return activity


def get_door_session_or_403(session_id: int):
    """A session the current user may check young people in to: its institution's staff."""
    session = get_session_or_403(session_id)
    if not works_at(current_user, session.activity.institution_id):
        abort(403)
    return session


# -- who may see what of a young person: the one policy ------------------------------------
#
# Names are seen by the staff (and institution admins) of the institutions a young person
# takes part in or was registered at, and by admins for support (every such page is
# audited). Coordinators work with numbers only. A staff member sees only their own
# institutions' part of a young person: those sign-ups and those visits.


def sees_names(user) -> bool:
    """May ``user`` see any young person's name at all (staff of an institution, or an admin)?"""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.is_admin or bool(user.institution_ids())


def works_at(user, institution_id: int) -> bool:
    """Staff or institution admin of this institution: the door tools (scanner, name search, check-in)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return institution_id in user.institution_ids()


def can_see_roster(user, institution_id: int) -> bool:
    """The names on an institution's rosters: its staff, and admins for support (pages audited)."""
    return works_at(user, institution_id) or is_admin(user)


def youth_part_for(user) -> set[int] | None:
    """The institutions whose part of a young person (sign-ups, visits) ``user`` sees; None means all (admins)."""
    if not sees_names(user):
        return set()
    if user.is_admin:
        return None
    return user.institution_ids()


def visible_youths(user) -> ColumnElement[bool]:
    """SQL condition on ``YouthProfile``: the young people ``user`` may see (never the anonymised)."""
    not_anonymised = YouthProfile.anonymised_at.is_(None)
    ids = youth_part_for(user)
    if ids is None:
        return not_anonymised
    if not ids:
        return false()
    signed_up = select(Signup.youth_id).join(Activity, Activity.id == Signup.activity_id).where(
        Activity.institution_id.in_(ids))
    attended = (
        select(Attendance.youth_id)
        .join(Session, Session.id == Attendance.session_id)
        .join(Activity, Activity.id == Session.activity_id)
        .where(Activity.institution_id.in_(ids))
    )
    return and_(not_anonymised, or_(
        YouthProfile.registered_by_institution_id.in_(ids),
        YouthProfile.id.in_(signed_up),
        YouthProfile.id.in_(attended),
    ))


def can_see_youth(user, youth) -> bool:
    """Does the policy let ``user`` see ``youth``?"""
    if youth is None:
        return False
    return bool(db.session.scalar(
        select(exists().where(YouthProfile.id == youth.id, visible_youths(user)))
    ))


def signups_seen_by(user, youth) -> list:
    """A young person's active sign-ups at the institutions ``user`` sees (all, for admins)."""
    stmt = (select(Signup).join(Activity, Activity.id == Signup.activity_id)
            .where(Signup.youth_id == youth.id, Signup.status.in_(ACTIVE_SIGNUP)).order_by(Signup.created_at))
    ids = youth_part_for(user)
    if ids is not None:
        stmt = stmt.where(Activity.institution_id.in_(ids))
    return list(db.session.scalars(stmt))


def get_youth_or_404(youth_id) -> YouthProfile:
    """A young person the current user may see; 404 for anyone else (their existence is not told)."""
    youth = db.session.get(YouthProfile, youth_id) if is_db_id(youth_id) else None
    if youth is None or not can_see_youth(current_user, youth):
        abort(404)
    return youth


def can_issue_claim_code(user, youth) -> bool:
    """A new claim code for a staff-made profile: an admin, or staff of the institution that registered it.

    Whoever claims the profile reads all of it (every institution's sign-ups and visits), so staff
    who see the young person only because they came to their club may not make one (nor void the
    registering institution's printed code).
    """
    if not getattr(user, "is_authenticated", False) or youth is None:
        return False
    if user.is_admin:
        return True
    return youth.registered_by_institution_id is not None and youth.registered_by_institution_id in user.institution_ids()


def can_merge_youths(user, keep, remove) -> bool:
    """Merging two profiles: an admin, or staff of the institution that registered both.

    Staff may not merge a profile registered elsewhere (or self-registered): the merge
    would show and move another institution's records of that young person.
    """
    if not getattr(user, "is_authenticated", False) or keep.id == remove.id:
        return False
    if user.is_admin:
        return True
    institution_id = keep.registered_by_institution_id
    return institution_id is not None and institution_id == remove.registered_by_institution_id \
        and institution_id in user.institution_ids()
