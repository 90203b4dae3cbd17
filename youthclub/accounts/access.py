"""Who may see what. Every view uses these helpers, so the rules live in one place.

- admin: everything
- coordinator: every institution, offer and aggregate; never another role's settings
- institution admin: their institution, its offers and staff
- staff: their institution and its offers, and the young people who take part in them
- young person: their own profile, sign-ups and pass
"""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from ..extensions import db
from .models import Role


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
    from ..programme.models import Institution

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
    from ..activities.models import Activity

    activity = db.session.get(Activity, activity_id)
    if activity is None:
        abort(404)
    if not can_access_institution(current_user, activity.institution_id):
        abort(403)
    return activity


def get_session_or_403(session_id: int):
    """A session of an activity the current user may manage."""
    from ..activities.models import Session

    session = db.session.get(Session, session_id)
    if session is None:
        abort(404)
    if not can_access_institution(current_user, session.activity.institution_id):
        abort(403)
    return session


def staff_can_see_youth(user, youth) -> bool:
    """Staff see a young person who takes part in their institution's offers or was registered there."""
    if user.is_programme_wide:
        return True
    ids = user.institution_ids()
    if not ids:
        return False
    if youth.registered_by_institution_id in ids:
        return True
    from sqlalchemy import exists, select

    from ..activities.models import Activity, Session
    from ..attendance.models import Attendance
    from ..signups.models import Signup

    signed_up = select(Signup.id).join(Activity, Activity.id == Signup.activity_id).where(
        Signup.youth_id == youth.id, Activity.institution_id.in_(ids)
    )
    attended = (
        select(Attendance.id)
        .join(Session, Session.id == Attendance.session_id)
        .join(Activity, Activity.id == Session.activity_id)
        .where(Attendance.youth_id == youth.id, Activity.institution_id.in_(ids))
    )
    return bool(db.session.scalar(select(exists(signed_up) | exists(attended))))


def get_youth_or_403(youth_id: int):
    from .models import YouthProfile

    youth = db.session.get(YouthProfile, youth_id)
    if youth is None or youth.anonymised_at is not None:
        abort(404)
    if not staff_can_see_youth(current_user, youth):
        abort(403)
    return youth


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
