"""Passes, check-in, roll-call, head counts and corrections.

Check-in follows pretix: a nonce makes a retry harmless and the unique (young person,
session) constraint backs it all, so two scanners scanning the same pass at the same moment
write one attendance; the session is share-locked, so check-ins at one door run side by side
while a change to the session waits for them (see "check-in" below). Offline scans
are accepted as having happened and flagged; those the server must refuse are kept as
``ScanConflict`` rows for staff to see.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import NoReturn

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..accounts.access import visible_youths
from ..accounts.models import Gender, RevokedPass, YouthProfile, age_on, new_pass_token
from ..accounts.services import mark_active
from ..activities.models import Activity, Session
from ..audit.services import record_event
from ..database import execute_write, lock_row, locking_enabled, rows_changed, start_writing
from ..db_types import utcnow
from ..errors import DomainError
from ..extensions import db
from ..i18n import fmt_date, fmt_time, to_local
from ..ops.metrics import CHECKINS, counted
from ..signals import pass_revoked
from ..signups.models import Signup, SignupStatus, confirmed_at_moment, is_active
from .models import AgeBand, Attendance, CheckinMethod, HeadCount, ScanConflict

#: corrections to attendance older than this need a reason (and always leave an audit event)
CORRECTION_WINDOW = timedelta(hours=24)
#: the most scans one batch from an offline queue may hold (the scanner sends at most this many)
MAX_BATCH = 500
#: a device clock this far ahead of the server is not believed; a scan dated this far behind it was held on the device
CLOCK_SKEW = timedelta(minutes=5)

#: refusals of a scan; an offline scan refused for one of these becomes a ScanConflict
REFUSAL_CODES = (
    "unknown_token",
    "revoked_token",
    "not_signed_up",
    "waitlisted",
    "outside_age",
    "session_cancelled",
    "session_not_now",
    "reason_required",
    "scanned_in_future",
)


class CheckinError(DomainError):
    """A scan the rules refuse; ``code`` is one of REFUSAL_CODES (or nonce_conflict)."""


class AttendanceError(DomainError):
    """A roll-call, head-count or correction the rules refuse."""


def refusal_message(code: str) -> str:
    return {
        "unknown_token": _("Ukendt pas."),
        "revoked_token": _("Passet er spærret. Bed om det nye pas."),
        "not_signed_up": _("Ikke tilmeldt, og aktiviteten tager ikke imod drop-in."),
        "waitlisted": _("Står på ventelisten."),
        "outside_age": _("Uden for aldersgruppen."),
        "session_cancelled": _("Gangen er aflyst."),
        "nonce_conflict": _("Scanningens id er allerede brugt til en anden scanning."),
        "session_not_now": _("Gangen er ikke i gang: forkert dag eller tid."),
        "reason_required": _("Scannet for mere end 24 timer siden: ret det på afkrydsningslisten med en begrundelse."),
        "scanned_in_future": _("Scanningens tid ligger i fremtiden. Tjek telefonens ur."),
    }.get(code, _("Scanningen blev afvist."))


def hash_pass_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- passes -------------------------------------------------------------------------------


def revoke_pass(youth: YouthProfile, by_user) -> str:
    """Replace the young person's pass token; the old one is refused from now on. Returns the new token."""
    db.session.add(RevokedPass(youth_id=youth.id, token_hash=hash_pass_token(youth.pass_token)))
    youth.pass_token = new_pass_token()
    youth.pass_issued_at = utcnow()
    db.session.flush()
    record_event("pass.revoke", youth, user=by_user)
    pass_revoked.send(youth)
    return youth.pass_token


def resolve_token(token: str) -> YouthProfile:
    """The young person a pass token belongs to, or a CheckinError (unknown_token / revoked_token)."""
    token = (token or "").strip()
    if token and len(token) <= 64:
        youth = db.session.scalar(select(YouthProfile).where(YouthProfile.pass_token == token))
        if youth is not None and youth.anonymised_at is None:
            return youth
        revoked = db.session.scalar(select(RevokedPass).where(RevokedPass.token_hash == hash_pass_token(token)))
        if revoked is not None:
            raise CheckinError(refusal_message("revoked_token"), "revoked_token", youth_id=revoked.youth_id)
    raise CheckinError(refusal_message("unknown_token"), "unknown_token")


# -- check-in -----------------------------------------------------------------------------
#
# A check-in reads everything it decides on in one statement (``read_scan``) and writes the
# attendance with one INSERT that the unique constraints make safe (``ON CONFLICT DO
# NOTHING``): two scanners of one pass, or a retried nonce, write one row, and the loser
# reads the winner's. What the session's row lock used to protect beyond that is the
# session itself: cancelling, reinstating or moving it must not pass a check-in between its
# read and its commit, or the visit counts (triggers on attendance *and* session) and the
# check-in window would be decided on a session that is no longer so. ``FOR SHARE`` on the
# session keeps exactly that: check-ins share it and never wait on each other; a change to
# the session waits for the check-ins in flight, and a check-in behind a change reads the
# changed session. SQLite has one writer at a time, so there the transaction is simply short.


@dataclass(frozen=True)
class Visitor:
    """The young person a scan is about, as ``read_scan`` read them."""

    id: int
    first_name: str
    birth_year: int
    birth_month: int
    last_active_at: datetime | None
    pass_token: str

    def age_on(self, day) -> int:
        return age_on(self.birth_year, self.birth_month, day)


@dataclass(frozen=True)
class CheckedIn:
    """An attendance as a check-in answers it."""

    id: int
    youth_id: int
    session_id: int
    scanned_at: datetime
    method: CheckinMethod
    drop_in: bool
    age_override: bool
    recorded_by_id: int | None
    youth: Visitor | None


@dataclass(frozen=True)
class DoorActivity:
    id: int
    institution_id: int
    title: str
    requires_signup: bool
    allows_drop_in: bool
    min_age: int
    max_age: int


@dataclass(frozen=True)
class DoorSession:
    """A session with its activity's rules: what the window, the refusals and the messages read."""

    id: int
    starts_at: datetime
    ends_at: datetime
    cancelled_at: datetime | None
    activity: DoorActivity

    @property
    def activity_id(self) -> int:
        return self.activity.id

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


@dataclass(frozen=True)
class Scan:
    """Everything a check-in decides on, read together (``read_scan``)."""

    session: DoorSession
    #: the pass's (or the chosen) young person; None for an unknown or anonymised pass
    youth: Visitor | None
    #: the young person's active sign-up status for the activity, if any
    signup_status: SignupStatus | None
    #: the young person's attendance at this session already, if any
    attendance: CheckedIn | None
    #: an attendance (at any session) written under this scan's nonce
    nonce_attendance: CheckedIn | None
    #: an offline refusal kept under this scan's nonce: (session id, code, youth id)
    nonce_conflict: tuple[int, str, int | None] | None


@dataclass
class CheckinResult:
    attendance: CheckedIn
    #: False for a repeat (same nonce, or the young person was already checked in)
    created: bool

    @property
    def youth(self) -> Visitor | None:
        return self.attendance.youth


def session_day(session):
    return to_local(session.starts_at).date()


def checked_in_count(session: Session) -> int:
    return db.session.scalar(select(func.count(Attendance.id)).where(Attendance.session_id == session.id)) or 0


_s, _a = Session.__table__, Activity.__table__
_y, _sg = YouthProfile.__table__, Signup.__table__
_att, _sc = Attendance.__table__, ScanConflict.__table__
_ea, _na = _att.alias("ea"), _att.alias("na")
_ATTENDANCE_COLS = ("id", "youth_id", "session_id", "scanned_at", "method", "drop_in", "age_override", "recorded_by_id")
_YOUTH_COLS = ("id", "first_name", "birth_year", "birth_month", "last_active_at", "pass_token")


def _scan_statement(by_token: bool, lock: bool):
    youth_match = ((_y.c.pass_token == bindparam("token")) & _y.c.anonymised_at.is_(None) if by_token
                   else _y.c.id == bindparam("youth_id"))
    stmt = (
        select(_s.c.id, _s.c.starts_at, _s.c.ends_at, _s.c.cancelled_at,
               _a.c.id, _a.c.institution_id, _a.c.title, _a.c.requires_signup, _a.c.allows_drop_in,
               _a.c.min_age, _a.c.max_age,
               *(_y.c[c] for c in _YOUTH_COLS), _sg.c.status,
               *(_ea.c[c] for c in _ATTENDANCE_COLS), *(_na.c[c] for c in _ATTENDANCE_COLS),
               _sc.c.session_id, _sc.c.code, _sc.c.youth_id)
        .select_from(
            _s.join(_a, _a.c.id == _s.c.activity_id)
            .outerjoin(_y, youth_match)
            .outerjoin(_sg, (_sg.c.youth_id == _y.c.id) & (_sg.c.activity_id == _a.c.id)
                       & is_active(_sg.c.status))
            .outerjoin(_ea, (_ea.c.youth_id == _y.c.id) & (_ea.c.session_id == _s.c.id))
            .outerjoin(_na, _na.c.nonce == bindparam("nonce"))
            .outerjoin(_sc, _sc.c.nonce == bindparam("nonce")))
        .where(_s.c.id == bindparam("session_id"))
    )
    # shared: check-ins do not wait on each other, a change to the session waits for them
    return stmt.with_for_update(read=True, of=_s) if lock else stmt


_SCAN_STATEMENTS = {(t, lock): _scan_statement(t, lock) for t in (True, False) for lock in (True, False)}


def _checked_in(values, youth: Visitor | None) -> CheckedIn | None:
    if values[0] is None:
        return None
    return CheckedIn(**dict(zip(_ATTENDANCE_COLS, values, strict=True)),
                     youth=youth if youth is not None and youth.id == values[1] else None)


def read_scan(session_id: int, *, token: str | None = None, youth_id: int | None = None,
              nonce: str | None = None) -> Scan | None:
    """The session, its activity, the young person (by pass ``token`` or ``youth_id``), their sign-up
    and attendance, and anything already written under ``nonce``: one statement. None if no such session.

    On PostgreSQL the session row is share-locked for the rest of the transaction (see above).
    """
    token = (token or "").strip()
    by_token = youth_id is None
    if by_token and not (token and len(token) <= 64):
        token = ""  # no young person has it: the pass is unknown
    row = db.session.connection().execute(
        _SCAN_STATEMENTS[(by_token, locking_enabled())],
        {"session_id": session_id, "token": token, "youth_id": youth_id, "nonce": nonce or None},
    ).first()
    if row is None:
        return None
    session = DoorSession(row[0], row[1], row[2], row[3], DoorActivity(*row[4:11]))
    youth = Visitor(*row[11:17]) if row[11] is not None else None
    n = len(_ATTENDANCE_COLS)
    ea, na, sc = row[18:18 + n], row[18 + n:18 + 2 * n], row[18 + 2 * n:]
    return Scan(session=session, youth=youth, signup_status=row[17], attendance=_checked_in(ea, youth),
                nonce_attendance=_checked_in(na, youth), nonce_conflict=tuple(sc) if sc[0] is not None else None)


def _visitor(youth_id: int | None) -> Visitor | None:
    if youth_id is None:
        return None
    row = db.session.connection().execute(
        select(*(_y.c[c] for c in _YOUTH_COLS)).where(_y.c.id == youth_id)).first()
    return Visitor(*row) if row is not None else None


def _attendance_where(*conditions) -> CheckedIn | None:
    row = db.session.connection().execute(select(*(_att.c[c] for c in _ATTENDANCE_COLS)).where(*conditions)).first()
    return _checked_in(row, None) if row is not None else None


def _with_youth(attendance: CheckedIn, youth: Visitor | None) -> CheckedIn:
    if attendance.youth is not None:
        return attendance
    if youth is None or youth.id != attendance.youth_id:
        youth = _visitor(attendance.youth_id)
    return replace(attendance, youth=youth)


def held_on_device(when: datetime) -> bool:
    """Whether a scan dated ``when`` was held on the device before it was sent: dated before the clocks' margin.

    Such a scan is an offline scan however it arrives (the queue of a phone that lost the
    network, or a live request sent again later), and is recorded as one: only the present is
    recorded as a scan at the door.
    """
    return when < utcnow() - CLOCK_SKEW


def _scan_time(scanned_at: datetime | None) -> datetime:
    """The scan's moment: now, or the device's time; a time ahead of the server's clock is refused."""
    now = utcnow()
    if scanned_at is None:
        return now
    if scanned_at.tzinfo is None:
        scanned_at = scanned_at.replace(tzinfo=UTC)
    if scanned_at > now + CLOCK_SKEW:
        raise CheckinError(refusal_message("scanned_in_future"), "scanned_in_future")
    return min(scanned_at, now)


# -- only a session that is happening ----------------------------------------------------


def checkin_window(session: Session | DoorSession) -> tuple[datetime, datetime]:
    """From when until when a scan counts for ``session`` (CHECKIN_OPEN_BEFORE / CHECKIN_CLOSE_AFTER)."""
    return window_of(session.starts_at, session.ends_at)


def window_of(starts_at: datetime, ends_at: datetime) -> tuple[datetime, datetime]:
    """The check-in window of a session from ``starts_at`` to ``ends_at``."""
    config = current_app.config
    return starts_at - config["CHECKIN_OPEN_BEFORE"], ends_at + config["CHECKIN_CLOSE_AFTER"]


def require_visits_stay(session: Session, starts_at: datetime, ends_at: datetime, *, door_staff: bool = True) -> None:
    """Moving a session keeps its recorded visits true: a session with visits (attendance or a head count)
    is not moved to a time that has not begun, and every pass scanned inside its window stays inside it.

    Otherwise today's visits would count for next week, and next week the same young people would be
    "already checked in" at the door. The caller holds the session's row lock (check-ins in flight finish first).

    ``door_staff``: the mover works at the session's institution. Anyone else (a coordinator) moves no
    session with visits at all, and is not told how many: one session's count is a small cell.
    """
    opens, closes = window_of(starts_at, ends_at)
    old_opens, old_closes = checkin_window(session)
    attended = db.session.scalar(select(func.count(Attendance.id)).where(Attendance.session_id == session.id)) or 0
    counted = db.session.scalar(select(func.coalesce(func.sum(HeadCount.count), 0))
                                .where(HeadCount.session_id == session.id)) or 0
    if not attended and not counted:
        return
    if not door_staff:
        raise AttendanceError(
            _("Der er registreret fremmøde på denne gang, så kun institutionens personale kan flytte den."),
            "has_visits", field="day")
    left_behind = db.session.scalar(select(func.count(Attendance.id)).where(
        Attendance.session_id == session.id, Attendance.scanned_at >= old_opens, Attendance.scanned_at <= old_closes,
        or_(Attendance.scanned_at < opens, Attendance.scanned_at > closes))) or 0
    if opens > utcnow() or left_behind:
        raise AttendanceError(
            _("Der er registreret fremmøde på denne gang (%(n)d unge, %(heads)d talt), og det ville så høre til "
              "et andet tidspunkt. Ret fremmødet først, eller opret en ny gang.", n=attended, heads=counted),
            "has_visits", field="day")


def is_happening(session: Session | DoorSession, at: datetime | None = None) -> bool:
    """Whether a scan at ``at`` (default now) is inside the session's check-in window."""
    opens, closes = checkin_window(session)
    return opens <= (at or utcnow()) <= closes


def scan_state(session: Session | DoorSession, at: datetime | None = None) -> str:
    """"open", "later" (the window has not opened yet) or "over"; for the pages that lead to the scanner."""
    opens, closes = checkin_window(session)
    at = at or utcnow()
    return "later" if at < opens else ("over" if at > closes else "open")


def not_now_message(session: Session | DoorSession) -> str:
    return _("Forkert gang: %(title)s er %(date)s kl. %(start)s–%(end)s, ikke nu. Der scannes kun ind til en gang, "
             "der er i gang.", title=session.activity.title, date=fmt_date(to_local(session.starts_at)),
             start=fmt_time(to_local(session.starts_at)), end=fmt_time(to_local(session.ends_at)))


def _require_happening(session: Session | DoorSession, when: datetime, details: dict, *,
                       correction: bool = False) -> None:
    """Refuse (``session_not_now``) a visit at ``when`` outside the session's check-in window; a
    ``correction`` (roll-call, head count) may record a session that is over, never one not yet begun."""
    state = scan_state(session, when)
    if state == "later" or (state == "over" and not correction):
        opens, closes = checkin_window(session)
        raise CheckinError(not_now_message(session), "session_not_now", opens=opens.isoformat(),
                           closes=closes.isoformat(), **details)


def require_begun(session: Session | DoorSession, at: datetime | None = None) -> None:
    """Refuse to record visitors (by name or as a head count) at a session whose window has not opened."""
    _require_happening(session, at or utcnow(), {}, correction=True)


def _repeat_for_nonce(scan: Scan, nonce: str | None, token: str | None) -> CheckinResult | None:
    """A scan already seen under this nonce: the same answer again, nothing new written."""
    if not nonce:
        return None
    done = scan.nonce_attendance
    if done is not None:
        _require_same_scan(scan, done.session_id, done.youth_id, token)
        return CheckinResult(_with_youth(done, scan.youth), created=False)
    if scan.nonce_conflict is not None:
        session_id, code, youth_id = scan.nonce_conflict
        _require_same_scan(scan, session_id, youth_id, token)
        youth = scan.youth if scan.youth is not None and scan.youth.id == youth_id else _visitor(youth_id)
        raise CheckinError(refusal_message(code), code, **_youth_details(youth, scan.session))
    return None


def _require_same_scan(scan: Scan, session_id: int, youth_id: int | None, token: str | None = None) -> None:
    """Refuse (``nonce_conflict``) a scan whose nonce is another scan's: written for another session, or
    for another young person than the pass (or name) now sent names.

    A pass that names nobody now is the same scan only if it was that young person's pass, revoked
    since (its repeat is answered as before), or if the first scan named nobody either: a token that
    never was their pass learns nothing of whoever used the nonce.
    """
    if scan.youth is not None:
        same_person = scan.youth.id == youth_id
    else:
        same_person = youth_id is None or _was_their_pass(token, youth_id)
    if session_id != scan.session.id or not same_person:
        raise CheckinError(refusal_message("nonce_conflict"), "nonce_conflict", status=409)


def _was_their_pass(token: str | None, youth_id: int) -> bool:
    return _revoked_owner(token) == youth_id


def _revoked_owner(token: str | None) -> int | None:
    """Whose pass ``token`` was, if it is a revoked one (None: never a pass, or still in use)."""
    token = (token or "").strip()
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(RevokedPass.youth_id).where(RevokedPass.token_hash == hash_pass_token(token)))


def _youth_details(youth, session) -> dict:
    if youth is None:
        return {}
    return {"youth": {"id": youth.id, "first_name": youth.first_name, "age": youth.age_on(session_day(session))}}


def _refuse_pass(token: str | None) -> NoReturn:
    """A pass that names nobody: revoked (its young person has a new one) or unknown."""
    owner = _revoked_owner(token)
    if owner is not None:
        raise CheckinError(refusal_message("revoked_token"), "revoked_token", youth_id=owner)
    raise CheckinError(refusal_message("unknown_token"), "unknown_token")


def check_in(session: Session | int, token: str | None, *, nonce: str | None, scanned_at: datetime | None = None,
             by_user=None, offline: bool = False, override_age: bool = False,
             youth: YouthProfile | None = None, reason: str | None = None,
             correction: bool = False) -> CheckinResult:
    """Check a pass (``token``), or a young person found by name (``youth``), in to ``session``.

    A scan counts only for a session that is happening at its ``scanned_at``; one older than
    the correction window needs a ``reason`` and is audited. ``correction`` (the roll-call)
    may record a session that is over, never one that has not begun.
    Raises CheckinError with a refusal code. For an offline scan, a refusal is also kept
    as a ScanConflict (once per nonce) so staff see it afterwards.
    """
    session_id = session if isinstance(session, int) else session.id
    scan = read_scan(session_id, token=token, youth_id=youth.id if youth is not None else None, nonce=nonce)
    if scan is None:
        raise DomainError(_("Gangen findes ikke."), "not_found", status=404)
    return record_scan(scan, token, nonce=nonce, scanned_at=scanned_at, by_user=by_user, offline=offline,
                       override_age=override_age, manual=youth is not None, reason=reason, correction=correction)


@counted(CHECKINS, lambda result: "checked_in" if result.created else "already_checked_in")
def record_scan(scan: Scan, token: str | None, *, nonce: str | None, scanned_at: datetime | None = None,
                by_user=None, offline: bool = False, override_age: bool = False, manual: bool = False,
                reason: str | None = None, correction: bool = False) -> CheckinResult:
    """Decide and record a scan that ``read_scan`` read (the rules of ``check_in``)."""
    session = scan.session
    repeat = _repeat_for_nonce(scan, nonce, token)
    if repeat is not None:
        return repeat
    youth = scan.youth
    # the device's time as it claims it, for a refusal kept as a conflict (a clock that runs fast too)
    when = utcnow() if scanned_at is None else (scanned_at if scanned_at.tzinfo else scanned_at.replace(tzinfo=UTC))
    offline = offline or held_on_device(when)
    try:
        when = _scan_time(scanned_at)
        if youth is None:
            _refuse_pass(token)
        try:
            result = _check_in_youth(scan, youth, nonce=nonce, when=when, by_user=by_user, offline=offline,
                                     manual=manual, override_age=override_age, reason=reason, correction=correction)
        except _Changed:
            result = _decide_again(scan, token, nonce=nonce, when=when, by_user=by_user, offline=offline,
                                   manual=manual, override_age=override_age, reason=reason, correction=correction)
    except CheckinError as err:
        if offline and nonce and err.code in REFUSAL_CODES:
            youth_id = err.details["youth_id"] if "youth_id" in err.details else getattr(youth, "id", None)
            start_writing()
            db.session.add(ScanConflict(session_id=session.id, nonce=nonce, youth_id=youth_id, code=err.code,
                                        scanned_at=when, recorded_by_id=getattr(by_user, "id", None)))
            db.session.flush()
        raise
    if result.created and not correction and needs_reason(when):
        record_event("attendance.correct", db.session.get(Session, session.id), user=by_user, change="add",
                     youth_id=youth.id, scanned_at=when.isoformat(), reason=(reason or "").strip())
    return result


class _Changed(Exception):
    """The insert found the session (or the young person) other than the scan had read it."""


def _decide_again(scan: Scan, token: str | None, *, manual: bool, **decision) -> CheckinResult:
    """Read the scan again and decide on what is there: the session was moved or cancelled, or the
    young person merged into another, since it was first read."""
    again = read_scan(scan.session.id, token=token, youth_id=scan.youth.id if manual and scan.youth else None,
                      nonce=decision["nonce"])
    if again is None:
        raise DomainError(_("Gangen findes ikke."), "not_found", status=404)
    repeat = _repeat_for_nonce(again, decision["nonce"], token)
    if repeat is not None:
        return repeat
    if again.youth is None:
        _refuse_pass(scan.youth.pass_token if manual and scan.youth else token)
    try:
        return _check_in_youth(again, again.youth, manual=manual, **decision)
    except _Changed:
        # changed again (on PostgreSQL the session's share lock prevents it; on SQLite the check-in's
        # insert runs on its own, so a second change within the same scan can come in between):
        # say so, and the scanner sends it again
        raise CheckinError(_("Gangen blev ændret, mens passet blev scannet. Scan igen."), "session_changed",
                           status=409) from None


def _check_in_youth(scan: Scan, youth: Visitor, *, nonce, when, by_user, offline, manual, override_age, reason,
                    correction) -> CheckinResult:
    session, activity = scan.session, scan.session.activity
    details = _youth_details(youth, session)
    if scan.attendance is not None:
        return CheckinResult(scan.attendance, created=False)
    _require_happening(session, when, details, correction=correction)
    if session.is_cancelled:
        raise CheckinError(refusal_message("session_cancelled"), "session_cancelled", **details)
    # no sign-up: a drop-in, where the activity takes them (or needs no sign-up at all)
    drop_in = scan.signup_status is None
    if drop_in and activity.requires_signup and not activity.allows_drop_in:
        raise CheckinError(refusal_message("not_signed_up"), "not_signed_up", **details)
    if scan.signup_status == SignupStatus.WAITLISTED:
        raise CheckinError(refusal_message("waitlisted"), "waitlisted", **details)
    age = youth.age_on(session_day(session))
    outside = not (activity.min_age <= age <= activity.max_age)
    if outside and not override_age:
        raise CheckinError(refusal_message("outside_age"), "outside_age",
                           min_age=activity.min_age, max_age=activity.max_age, **details)
    if not correction and needs_reason(when) and not (reason or "").strip():
        # a scan from before the correction window: the same rule as any late correction
        raise CheckinError(refusal_message("reason_required"), "reason_required", **details)
    method = CheckinMethod.OFFLINE if offline else (CheckinMethod.MANUAL if manual else CheckinMethod.QR)
    attendance = CheckedIn(id=0, youth_id=youth.id, session_id=session.id, scanned_at=when, method=method,
                           drop_in=drop_in, age_override=outside, recorded_by_id=getattr(by_user, "id", None),
                           youth=youth)
    # a scan from before the correction window is audited with its insert (``record_scan``): then the
    # insert is not the request's only write that matters
    new_id = _insert_attendance(attendance, nonce, session, alone=not needs_reason(when))
    if new_id is None:
        # another scanner got there first (or the nonce was used meanwhile): theirs stands
        existing = _attendance_where(_att.c.youth_id == youth.id, _att.c.session_id == session.id)
        if existing is None and nonce:
            existing = _attendance_where(_att.c.nonce == nonce)
            if existing is not None:
                _require_same_scan(scan, existing.session_id, existing.youth_id)
        if existing is None:
            raise _Changed  # the session or the young person changed since the scan was read
        return CheckinResult(_with_youth(existing, youth), created=False)
    mark_active(youth.id, youth.last_active_at)
    return CheckinResult(replace(attendance, id=new_id), created=True)


_INSERTED = ("session_id", "method", "recorded_by_id", "scanned_at", "recorded_at", "nonce", "drop_in", "age_override")


def _insert_statement(dialect: str, lock: bool):
    """INSERT … SELECT from the young person's row … ON CONFLICT DO NOTHING RETURNING id, built once.

    It inserts only while the session is as the scan read it (same times, not cancelled): on
    SQLite the reads ran before the write lock (``database.reads_first``), so a change to the
    session in between makes it insert nothing, and the scan is read and decided again.
    """
    insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
    seen_start = bindparam("seen_starts_at", type_=_s.c.starts_at.type)
    seen_end = bindparam("seen_ends_at", type_=_s.c.ends_at.type)
    if dialect == "sqlite":
        # SQLite keeps times as text, and one written outside the ORM is spelt otherwise (no
        # microseconds): compare the instants, not the spelling
        same_times = [func.julianday(_s.c.starts_at) == func.julianday(seen_start),
                      func.julianday(_s.c.ends_at) == func.julianday(seen_end)]
    else:
        same_times = [_s.c.starts_at == seen_start, _s.c.ends_at == seen_end]
    unchanged = select(_s.c.id).where(_s.c.id == bindparam("session_id"), *same_times, _s.c.cancelled_at.is_(None))
    source = select(_y.c.id, *(bindparam(c, type_=_att.c[c].type) for c in _INSERTED)).where(
        _y.c.id == bindparam("youth_id"), unchanged.exists())
    if lock:
        source = source.with_for_update(read=True, key_share=True)  # FOR KEY SHARE
    statement = insert_(_att).from_select(["youth_id", *_INSERTED], source).on_conflict_do_nothing()
    # SQLite: no RETURNING. With it the statement, and so its write lock, ends only once Python
    # has fetched the row; without it the insert ends inside SQLite, and its row id is the cursor's
    return statement.returning(_att.c.id) if dialect == "postgresql" else statement


_INSERT_STATEMENTS = {(d, lock): _insert_statement(d, lock) for d in ("postgresql", "sqlite") for lock in (True, False)}


def _insert_attendance(a: CheckedIn, nonce: str | None, session: DoorSession, *, alone: bool = False) -> int | None:
    """Insert the attendance unless the unique constraints already hold one, the young person is
    gone or ``session`` is no longer as it was read.

    The row is selected from the young person's, key-share locked: a merge that removes the
    profile makes this wait, then insert nothing, instead of failing the transaction.
    ``alone``: nothing written after it needs to be in one transaction with it (``execute_write``).
    """
    dialect = db.session.get_bind().dialect.name
    result = execute_write(_INSERT_STATEMENTS[(dialect, locking_enabled())], {
        "seen_starts_at": session.starts_at, "seen_ends_at": session.ends_at,
        "youth_id": a.youth_id, "session_id": a.session_id, "method": a.method, "recorded_by_id": a.recorded_by_id,
        "scanned_at": a.scanned_at, "recorded_at": utcnow(), "nonce": nonce or None, "drop_in": a.drop_in,
        "age_override": a.age_override,
    }, alone=alone)
    if dialect == "postgresql":
        return result.scalar()
    return result.lastrowid if result.rowcount == 1 else None


def move_attendances(from_youth: YouthProfile, to_youth: YouthProfile) -> int:
    """Give ``to_youth`` the attendances and scan conflicts of ``from_youth`` (the same person twice).

    Where both were at the same session, ``to_youth``'s attendance remains (one young person,
    one visit; the unique constraint holds). The moves are plain UPDATEs and DELETEs of
    ``attendance``, so the visit-count triggers keep ``visit_month`` exact. The caller holds
    both young people's row locks: a check-in of either waits for the merge (its insert
    needs the young person's row). Returns how many duplicate attendances were removed.
    """
    both = select(Attendance.session_id).where(Attendance.youth_id == to_youth.id)
    removed = rows_changed(
        delete(Attendance).where(Attendance.youth_id == from_youth.id, Attendance.session_id.in_(both))
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Attendance).where(Attendance.youth_id == from_youth.id).values(youth_id=to_youth.id)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(ScanConflict).where(ScanConflict.youth_id == from_youth.id).values(youth_id=to_youth.id)
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    return removed


def resolve_conflict(conflict: ScanConflict, by_user) -> None:
    """Staff have seen an offline scan's refusal."""
    if conflict.resolved_at is None:
        conflict.resolved_at = utcnow()
        record_event("scan_conflict.resolve", conflict, user=by_user, code=conflict.code)
        db.session.flush()


def open_conflicts(session: Session) -> list[ScanConflict]:
    return list(db.session.scalars(
        select(ScanConflict).where(ScanConflict.session_id == session.id, ScanConflict.resolved_at.is_(None))
        .order_by(ScanConflict.scanned_at)
    ))


# -- roll-call and corrections ------------------------------------------------------------


def needs_reason(moment: datetime) -> bool:
    """A correction to something from before the 24-hour window must give a reason."""
    return moment < utcnow() - CORRECTION_WINDOW


def _require_reason(moment: datetime, reason: str | None) -> str | None:
    reason = (reason or "").strip() or None
    if needs_reason(moment) and not reason:
        raise AttendanceError(_("Rettelser efter 24 timer kræver en begrundelse."), "reason_required")
    return reason


def mark_present(session: Session, youth: YouthProfile, by_user, *, reason: str | None = None) -> CheckinResult:
    """Roll-call tick: staff record a young person as present (their tick overrides the age range)."""
    reason = _require_reason(session.ends_at, reason)
    result = check_in(session, None, nonce=None, by_user=by_user, youth=youth, override_age=True, correction=True)
    if result.created and needs_reason(session.ends_at):
        record_event("attendance.correct", session, user=by_user, change="add", youth_id=youth.id, reason=reason)
    return result


def remove_attendance(attendance: Attendance, by_user, *, reason: str | None = None) -> None:
    """Undo a tick or a scan. Within 24 hours no reason is needed; every removal is audited."""
    reason = _require_reason(attendance.recorded_at, reason)
    record_event("attendance.correct", attendance.session, user=by_user, change="remove",
                 youth_id=attendance.youth_id, method=str(attendance.method),
                 scanned_at=attendance.scanned_at.isoformat(), reason=reason)
    db.session.delete(attendance)
    db.session.flush()


def roll_call(session: Session) -> list[tuple[YouthProfile, Attendance | None, Signup | None]]:
    """Everyone signed up for the session plus everyone who came, with their attendance.

    Signed up means holding a place when the session starts (``confirmed_at_moment``), as the
    statistics' sign-up × session pairs count it, so a past session's roll-call counts who was
    signed up at it, not who is today. While the session is still to come or running, whoever
    holds a place now counts as well (they may yet come).
    """
    attendances = {a.youth_id: a for a in db.session.scalars(
        select(Attendance).where(Attendance.session_id == session.id))}
    now = utcnow()
    held = and_(*confirmed_at_moment(min(session.starts_at, now)))
    if session.ends_at > now:
        held = or_(held, Signup.status == SignupStatus.CONFIRMED)
    signups: dict[int, Signup] = {}
    for s in db.session.scalars(
        select(Signup).where(Signup.activity_id == session.activity_id, held)
        .order_by(Signup.status != SignupStatus.CONFIRMED, Signup.id)
    ):
        signups.setdefault(s.youth_id, s)
    ids = set(attendances) | set(signups)
    youths = db.session.scalars(select(YouthProfile).where(YouthProfile.id.in_(ids))).all() if ids else []
    rows = [(y, attendances.get(y.id), signups.get(y.id)) for y in youths]
    rows.sort(key=lambda r: (r[0].first_name.casefold(), (r[0].last_name or "").casefold(), r[0].id))
    return rows


@dataclass(frozen=True)
class RollCallCount:
    """The count at the top of the roll-call: signed-up young people here out of those signed up; the rest apart."""

    #: young people with a confirmed sign-up who are checked in
    present: int
    #: young people with a confirmed sign-up
    signed_up: int
    #: checked in without a confirmed sign-up (drop-ins)
    drop_ins: int


def roll_call_count(rows) -> RollCallCount:
    """Count the rows of ``roll_call``: a drop-in is never one of the signed-up."""
    return RollCallCount(
        present=sum(1 for _y, attendance, signup in rows if attendance is not None and signup is not None),
        signed_up=sum(1 for _y, _a, signup in rows if signup is not None),
        drop_ins=sum(1 for _y, attendance, signup in rows if attendance is not None and signup is None),
    )


def search_youths(session: Session, query: str, user, limit: int = 10) -> list[YouthProfile]:
    """Young people the user may see whose name matches ``query`` (for a forgotten phone)."""
    words = [w for w in (query or "").strip().split() if w][:3]
    if not words or len(query.strip()) < 2:
        return []
    stmt = select(YouthProfile).where(visible_youths(user))
    for word in words:
        # a typed % or _ is a letter to look for, not a wildcard
        pattern = "%" + word.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(func.lower(YouthProfile.first_name).like(pattern, escape="\\"),
                              func.lower(func.coalesce(YouthProfile.last_name, "")).like(pattern, escape="\\")))
    stmt = stmt.order_by(YouthProfile.first_name, YouthProfile.id).limit(limit)
    return list(db.session.scalars(stmt))


# -- head counts --------------------------------------------------------------------------


def head_counts(session: Session) -> dict[tuple[AgeBand, Gender], int]:
    return {(h.age_band, h.gender): h.count for h in db.session.scalars(
        select(HeadCount).where(HeadCount.session_id == session.id))}


def adjust_head_count(session: Session, age_band: AgeBand, gender: Gender, delta: int, by_user,
                      *, seen: int, reason: str | None = None) -> int:
    """Add ``delta`` (+1 or −1) anonymous drop-ins to a tally cell that stood at ``seen``; returns the new count.

    ``seen`` is the count the tap was made on: when the cell no longer stands there (the same
    tap sent twice, a double press, a colleague's tap in between) nothing changes, so a
    repeated request never counts one visitor twice.
    """
    if delta not in (1, -1):
        raise AttendanceError(_("Ugyldig ændring."), "invalid_delta", status=400)
    reason = _require_reason(session.ends_at, reason)
    session = lock_row(Session, session.id)
    if delta > 0:
        # anonymous visitors are visits too: never counted at a session that has not begun or is
        # cancelled (the scanner refuses both; a cancelled session's counts are in no figure)
        if session.is_cancelled:
            raise AttendanceError(refusal_message("session_cancelled"), "session_cancelled", status=422)
        require_begun(session)
    cell = db.session.scalar(select(HeadCount).where(
        HeadCount.session_id == session.id, HeadCount.age_band == age_band, HeadCount.gender == gender))
    if cell is None:
        cell = HeadCount(session_id=session.id, age_band=age_band, gender=gender, count=0)
        db.session.add(cell)
    if cell.count != seen:
        raise AttendanceError(_("Tallet var allerede ændret (et dobbelttryk eller en kollega). Her er det nye tal."),
                              "count_changed", status=409)
    if cell.count + delta < 0:
        raise AttendanceError(_("Tallet kan ikke blive mindre end nul."), "negative_count")
    cell.count += delta
    cell.updated_by_id = getattr(by_user, "id", None)
    db.session.flush()
    if needs_reason(session.ends_at):
        record_event("headcount.correct", session, user=by_user, age_band=str(age_band), gender=str(gender),
                     delta=delta, reason=reason)
    return cell.count
