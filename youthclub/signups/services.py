"""Sign-up rules: age, window, capacity, a first-come waitlist, reminders.

The waitlist is first come, first served, as an invariant: ``promote_waitlist`` is the one
function that gives free places to the front of the waitlist, and every change that can free
a place calls it (a cancelled sign-up, a raised capacity, publishing, un-cancelling an offer,
a closed account, a merged profile); ``sign_up`` confirms only while a place is free *and*
nobody waits. Free places have one definition (``places.py``).

Capacity holds under concurrency: every change takes the activity's row lock first
(``lock_row``: ``FOR UPDATE`` on PostgreSQL; SQLite requests already hold the write lock),
and the partial unique index ``uq_signup_active`` refuses a second active sign-up.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..accounts.models import YouthProfile
from ..accounts.services import mark_active
from ..activities.models import Activity, ActivityStatus, Session
from ..audit.services import record_event
from ..database import lock_row
from ..db_types import utcnow
from ..errors import DomainError
from ..extensions import db
from ..i18n import LOCAL_TZ, local_today, to_utc
from ..mail.services import send_template
from ..ops.metrics import SIGNUPS, counted
from ..signals import signup_promoted
from .models import Signup, SignupStatus, is_active
from .places import free_places, has_free_place

ACTIVE = (SignupStatus.CONFIRMED, SignupStatus.WAITLISTED)


class SignupError(DomainError):
    pass


def refusal_error(code: str) -> SignupError:
    """The SignupError for a refusal code, with its Danish message and HTTP status."""
    messages = {
        "not_open": (_("Tilmeldingen er ikke åben for dette tilbud."), 422),
        "signup_not_required": (_("Du behøver ikke at tilmelde dig. Bare mød op."), 422),
        "window_closed": (_("Tilmeldingen er ikke åben lige nu."), 422),
        "outside_age": (_("Tilbuddet er for en anden aldersgruppe."), 422),
        "already_signed_up": (_("Du er allerede tilmeldt."), 409),
        "full_waitlist_closed": (_("Der er ikke flere pladser, og der er ingen venteliste."), 409),
        "not_waitlisted": (_("Du står ikke på ventelisten."), 409),
        "not_a_youth": (_("Kun unge med en profil kan tilmelde sig."), 403),
    }
    message, status = messages[code]
    return SignupError(message, code, status=status)


def youth_email(youth: YouthProfile) -> str | None:
    """Where mail about a young person goes: their login's e-mail, else an e-mail given as contact."""
    if youth.user is not None and youth.user.email:
        return youth.user.email
    if youth.contact and "@" in youth.contact:
        return youth.contact
    return None


def count_confirmed(activity_id: int) -> int:
    return db.session.scalar(
        select(func.count(Signup.id)).where(Signup.activity_id == activity_id, Signup.status == SignupStatus.CONFIRMED)
    ) or 0


def waitlist(activity_id: int, *, limit: int | None = None) -> list[Signup]:
    """The activity's waitlist, front first (the first ``limit`` only, if given)."""
    stmt = (
        select(Signup)
        .where(Signup.activity_id == activity_id, Signup.status == SignupStatus.WAITLISTED)
        .order_by(Signup.position, Signup.created_at, Signup.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def anyone_waiting(activity_id: int) -> bool:
    return db.session.scalar(
        select(Signup.id).where(Signup.activity_id == activity_id, Signup.status == SignupStatus.WAITLISTED).limit(1)
    ) is not None


def active_signup(youth_id: int, activity_id: int) -> Signup | None:
    return db.session.scalar(
        select(Signup).where(
            Signup.youth_id == youth_id, Signup.activity_id == activity_id, is_active(Signup.status)
        )
    )


def in_age_range(youth: YouthProfile, activity: Activity) -> bool:
    """Whether the young person's age today is inside the activity's range."""
    age = youth.age_on(local_today())
    return activity.min_age <= age <= activity.max_age


def refusal(youth: YouthProfile | None, activity: Activity, now: datetime | None = None) -> str | None:
    """The code of the rule that stops ``youth`` signing up now, or None (capacity aside)."""
    now = now or utcnow()
    if activity.status != ActivityStatus.PUBLISHED:
        return "not_open"
    if not activity.requires_signup:
        return "signup_not_required"
    if (activity.signup_opens_at and now < activity.signup_opens_at) or (
        activity.signup_closes_at and now >= activity.signup_closes_at
    ):
        return "window_closed"
    if youth is not None and not in_age_range(youth, activity):
        return "outside_age"
    return None


@counted(SIGNUPS, lambda signup: str(signup.status))
def sign_up(youth: YouthProfile, activity: Activity, *, by_user=None) -> Signup:
    """Sign ``youth`` up: a confirmed place while there is one, else the end of the waitlist."""
    activity = lock_row(Activity, activity.id)
    code = refusal(youth, activity)
    if code:
        raise refusal_error(code)
    if active_signup(youth.id, activity.id) is not None:
        raise refusal_error("already_signed_up")
    # whoever waits is first: free places go to them before a newcomer is considered
    waiting = anyone_waiting(activity.id)
    if waiting:
        promote_waitlist(activity)
        waiting = anyone_waiting(activity.id)
    signup = Signup(youth_id=youth.id, activity_id=activity.id)
    if not waiting and has_free_place(free_places(activity)):
        _confirm(signup)
    elif activity.waitlist_enabled:
        last = db.session.scalar(
            select(func.max(Signup.position)).where(
                Signup.activity_id == activity.id, Signup.status == SignupStatus.WAITLISTED
            )
        )
        signup.status = SignupStatus.WAITLISTED
        signup.position = (last or 0) + 1
    else:
        raise refusal_error("full_waitlist_closed")
    try:
        with db.session.begin_nested():
            db.session.add(signup)
            db.session.flush()
    except IntegrityError:
        # a second request of the same young person won the unique index
        raise refusal_error("already_signed_up") from None
    mark_active(youth.id, youth.last_active_at)
    record_event("signup.create", signup, user=by_user, status=str(signup.status), position=signup.position)
    return signup


def _renumber(activity_id: int) -> None:
    for number, entry in enumerate(waitlist(activity_id), start=1):
        if entry.position != number:
            entry.position = number


def _confirm(signup: Signup) -> None:
    """A confirmed place from now on. The one place that confirms: the statistics pair a sign-up with the
    sessions held between its ``confirmed_at`` and its ``cancelled_at``."""
    signup.status = SignupStatus.CONFIRMED
    signup.position = None
    signup.confirmed_at = utcnow()


def cancel_signup(signup: Signup, *, by_user, reason: str | None = None) -> list[Signup]:
    """Cancel a sign-up or waitlist place; free places go to the front of the waitlist. Returns who was promoted.

    Cancelling an already cancelled sign-up changes nothing, so a retried request is harmless.
    """
    lock_row(Activity, signup.activity_id)
    db.session.refresh(signup)
    if signup.status == SignupStatus.CANCELLED:
        return []
    signup.status = SignupStatus.CANCELLED
    signup.position = None
    signup.cancelled_at = utcnow()
    signup.cancelled_by_id = getattr(by_user, "id", None)
    signup.cancel_reason = (reason or "").strip()[:300] or None
    db.session.flush()
    record_event("signup.cancel", signup, user=by_user, reason=signup.cancel_reason)
    _renumber(signup.activity_id)
    db.session.flush()
    return promote_waitlist(signup.activity)


def leave_waitlist(signup: Signup, *, by_user) -> None:
    """Give up a place on the waitlist; everyone behind moves one place up."""
    if signup.status != SignupStatus.WAITLISTED:
        raise refusal_error("not_waitlisted")
    cancel_signup(signup, by_user=by_user)


def fills_from_waitlist(activity: Activity) -> bool:
    """Whether free places of ``activity`` go to its waitlist now: only while it is published.

    A draft or cancelled offer keeps its waitlist as it is; publishing (or un-cancelling) it
    fills the places that came free meanwhile.
    """
    return activity.status == ActivityStatus.PUBLISHED


def promote_waitlist(activity: Activity) -> list[Signup]:
    """Fill free places from the front of the waitlist; mail those promoted and send ``signup_promoted``.

    The one rule that moves people up: call it after any change that can free a place. It
    takes the activity's row lock, and calling it when nothing is free changes nothing.
    """
    activity = lock_row(Activity, activity.id)
    promoted: list[Signup] = []
    if activity is None or not fills_from_waitlist(activity):
        return promoted
    free = free_places(activity)
    if free == 0:
        return promoted
    promoted = waitlist(activity.id, limit=free)
    for signup in promoted:
        _confirm(signup)
        signup.promoted_at = signup.confirmed_at
    if not promoted:
        return promoted
    db.session.flush()
    _renumber(activity.id)
    db.session.flush()
    for signup in promoted:
        record_event("signup.promote", signup, user=None)
        youth = signup.youth
        send_template(
            youth_email(youth), "promoted", dedupe_key=f"promoted:{signup.id}", youth=youth,
            youth_profile=youth, activity=activity, sessions=upcoming_sessions(activity.id, limit=3),
        )
        signup_promoted.send(signup)
    return promoted


def to_tell(activity_id: int) -> list[Signup]:
    """Staff's to-do: young people without e-mail who moved up to a place and were not yet told (oldest first)."""
    promoted = db.session.scalars(
        select(Signup).where(Signup.activity_id == activity_id, Signup.status == SignupStatus.CONFIRMED,
                             Signup.promoted_at.is_not(None), Signup.told_at.is_(None))
        .order_by(Signup.promoted_at, Signup.id)
    ).all()
    return [signup for signup in promoted if youth_email(signup.youth) is None]


def mark_told(signup: Signup, *, by_user) -> None:
    """Staff told the young person about their place: the to-do is done (again: no change)."""
    if signup.told_at is not None:
        return
    signup.told_at = utcnow()
    db.session.flush()
    record_event("signup.told", signup, user=by_user)


def upcoming_sessions(activity_id: int, *, limit: int | None = None, include_cancelled: bool = True) -> list[Session]:
    stmt = (
        select(Session)
        .where(Session.activity_id == activity_id, Session.ends_at >= utcnow())
        .order_by(Session.starts_at)
    )
    if not include_cancelled:
        stmt = stmt.where(Session.cancelled_at.is_(None))
    if limit:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def my_signups(youth: YouthProfile) -> list[Signup]:
    """A young person's active sign-ups and waitlist places, soonest activity first."""
    signups = list(db.session.scalars(
        select(Signup).where(Signup.youth_id == youth.id, is_active(Signup.status)).order_by(Signup.created_at)
    ))
    far = datetime.max.replace(tzinfo=LOCAL_TZ)

    def next_start(signup):
        sessions = upcoming_sessions(signup.activity_id, limit=1, include_cancelled=False)
        return sessions[0].starts_at if sessions else far

    return sorted(signups, key=next_start)


def send_reminders(now: datetime | None = None) -> int:
    """Mail everyone with a confirmed place about tomorrow's sessions; safe to run twice. Returns mails written."""
    now = now or utcnow()
    tomorrow = now.astimezone(LOCAL_TZ).date() + timedelta(days=1)
    start, end = to_utc(tomorrow, datetime.min.time()), to_utc(tomorrow + timedelta(days=1), datetime.min.time())
    rows = db.session.execute(
        select(Session, Signup)
        .join(Activity, Activity.id == Session.activity_id)
        .join(Signup, Signup.activity_id == Activity.id)
        .where(
            Session.starts_at >= start,
            Session.starts_at < end,
            Session.cancelled_at.is_(None),
            Activity.status == ActivityStatus.PUBLISHED,
            Signup.status == SignupStatus.CONFIRMED,
        )
        .order_by(Session.starts_at, Signup.id)
    ).all()
    written = 0
    for session, signup in rows:
        youth = signup.youth
        address = youth_email(youth)
        key = f"reminder:{session.id}:{youth.id}"
        if not address or youth.anonymised_at is not None:
            continue
        from ..mail.models import OutboxMessage

        if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
            continue
        send_template(address, "reminder", dedupe_key=key, youth=youth, youth_profile=youth,
                      activity=session.activity, session=session)
        written += 1
    return written


def notify_session_changed(session: Session, change: str) -> int:
    """Mail the young people with a place about a cancelled, moved or restored session."""
    if change not in ("cancelled", "moved", "restored"):
        return 0
    # a session moved twice is mailed about twice; the same change sent again is not
    stamp = int((session.cancelled_at if change == "cancelled" and session.cancelled_at else session.starts_at).timestamp())
    written = 0
    signups = db.session.scalars(
        select(Signup).where(Signup.activity_id == session.activity_id, Signup.status == SignupStatus.CONFIRMED)
    ).all()
    for signup in signups:
        youth = signup.youth
        message = send_template(
            youth_email(youth), f"session_{change}", dedupe_key=f"session-{change}:{session.id}:{youth.id}:{stamp}",
            youth=youth, youth_profile=youth, activity=session.activity, session=session,
        )
        written += message is not None
    return written


def notify_activity_cancelled(activity: Activity) -> int:
    """Mail everyone signed up or waiting that the whole activity is cancelled."""
    written = 0
    signups = db.session.scalars(
        select(Signup).where(Signup.activity_id == activity.id, Signup.status.in_(ACTIVE))
    ).all()
    for signup in signups:
        youth = signup.youth
        message = send_template(
            youth_email(youth), "activity_cancelled", dedupe_key=f"activity-cancelled:{activity.id}:{youth.id}",
            youth=youth, youth_profile=youth, activity=activity,
        )
        written += message is not None
    return written


# -- merging two profiles of one young person ------------------------------------------------


def signup_activity_ids(*youth_ids: int) -> list[int]:
    """The activities these young people hold an active sign-up or waitlist place for (sorted, to lock in order)."""
    return sorted(set(db.session.scalars(
        select(Signup.activity_id).where(Signup.youth_id.in_(youth_ids), is_active(Signup.status))
    )))


def _stronger(a: Signup, b: Signup) -> tuple[Signup, Signup]:
    """(the sign-up to keep, the one to cancel): a place beats the waitlist, then the earlier place in line."""
    def rank(s: Signup):
        if s.status == SignupStatus.CONFIRMED:
            return (0, s.confirmed_at or s.created_at, s.id)
        return (1, s.position or 0, s.id)

    return (a, b) if rank(a) <= rank(b) else (b, a)


def move_signups(from_youth: YouthProfile, to_youth: YouthProfile, *, by_user) -> list[Signup]:
    """Give ``to_youth`` every sign-up of ``from_youth`` (the same person twice). Returns the cancelled duplicates.

    Where both hold one for the same activity, one remains: a confirmed place over a
    waitlist place, else the earlier. The waitlist is renumbered 1..n, and a place freed by a
    cancelled duplicate goes to the next in line (``promote_waitlist``). The caller holds the
    activities' locks first (``signup_activity_ids``), then the young people's, so a concurrent
    sign-up that waits for a young person's row cannot hold an activity the merge still needs.
    """
    cancelled: list[Signup] = []
    touched: set[int] = set()
    for signup in db.session.scalars(
        select(Signup).where(Signup.youth_id == from_youth.id, is_active(Signup.status)).order_by(Signup.id)
    ).all():
        lock_row(Activity, signup.activity_id)
        touched.add(signup.activity_id)
        other = active_signup(to_youth.id, signup.activity_id)
        if other is None:
            continue
        _kept, drop = _stronger(other, signup)
        drop.status = SignupStatus.CANCELLED
        drop.position = None
        drop.cancelled_at = utcnow()
        drop.cancelled_by_id = getattr(by_user, "id", None)
        cancelled.append(drop)
        record_event("signup.cancel", drop, user=by_user, reason="merge")
    db.session.flush()
    db.session.execute(
        update(Signup).where(Signup.youth_id == from_youth.id).values(youth_id=to_youth.id)
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    for activity_id in sorted(touched):
        _renumber(activity_id)
    db.session.flush()
    for activity_id in sorted(touched):
        # the one rule that fills free places from the waitlist (a no-op where none came free)
        promote_waitlist(db.session.get_one(Activity, activity_id))
    return cancelled
