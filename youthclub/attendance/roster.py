"""The door roster: what a scanner needs to decide a scan with no signal, and nothing more.

For each session of today at the staff member's institutions it lists the facts the rule in
``services.check_in`` reads: the session's check-in window and cancellation, the activity's
sign-up, drop-in and age rules, and, per pass, the first name, age on the day, sign-up
status and whether (and when) they are already checked in. A pass appears only as
sha256(salt ‖ sha256(token)) with a salt made for this roster, never the token; revoked
passes the same way (``RevokedPass`` keeps sha256(token), so no old token is needed).
The scanner mirrors the rule in ``static/js/door-rules.js``; the server stays the authority
when the queue syncs.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, or_, select

from ..accounts.models import RevokedPass, YouthProfile
from ..activities.models import Activity, ActivityStatus, Session
from ..db_types import utcnow
from ..extensions import db
from ..i18n import to_local, to_utc
from ..signups.models import Signup, is_active
from .models import Attendance
from .services import checkin_window, hash_pass_token, session_day

#: a drop-in session's roster includes young people who came to the institution this recently
KNOWN_FOR = timedelta(days=90)


def roster_hash(salt: str, token_sha256: str) -> str:
    """How a pass appears in a roster: sha256 of the salt and the token's sha256 (hex)."""
    return hashlib.sha256(f"{salt}{token_sha256}".encode()).hexdigest()


def _day_bounds(now: datetime) -> tuple[date, datetime, datetime]:
    today = to_local(now).date()
    return today, to_utc(today, time(0)), to_utc(today + timedelta(days=1), time(0))


def todays_sessions(institution_ids: set[int], now: datetime | None = None) -> list[Session]:
    """The door's sessions of today at these institutions (cancelled ones too: they refuse scans).

    Those that start on today's local date, and those whose check-in window is open now or opens
    later today: an evening club that began yesterday at 22:00 is still at the door at 00:30,
    and one that starts at 00:30 tomorrow opens for scans before midnight.
    """
    now = now or utcnow()
    _today, start, end = _day_bounds(now)
    config = current_app.config
    return list(db.session.scalars(
        select(Session).join(Activity, Activity.id == Session.activity_id)
        .where(Activity.institution_id.in_(institution_ids), Activity.status != ActivityStatus.CANCELLED,
               or_(and_(Session.starts_at >= start, Session.starts_at < end),
                   and_(Session.ends_at >= now - config["CHECKIN_CLOSE_AFTER"],
                        Session.starts_at < end + config["CHECKIN_OPEN_BEFORE"])))
        .order_by(Session.starts_at, Session.id)
    ))


def _roster_youths(sessions: list[Session], institution_ids: set[int]) -> list[YouthProfile]:
    activity_ids = {s.activity_id for s in sessions}
    wanted = [
        YouthProfile.id.in_(select(Signup.youth_id).where(Signup.activity_id.in_(activity_ids),
                                                           is_active(Signup.status))),
        YouthProfile.id.in_(select(Attendance.youth_id).where(Attendance.session_id.in_([s.id for s in sessions]))),
    ]
    if any(not s.activity.requires_signup or s.activity.allows_drop_in for s in sessions):
        # a drop-in may be anyone the institution knows: registered there, or came lately
        since = utcnow() - KNOWN_FOR
        wanted += [
            YouthProfile.registered_by_institution_id.in_(institution_ids),
            YouthProfile.id.in_(
                select(Attendance.youth_id).join(Session, Session.id == Attendance.session_id)
                .join(Activity, Activity.id == Session.activity_id)
                .where(Activity.institution_id.in_(institution_ids), Session.starts_at >= since)),
        ]
    return list(db.session.scalars(
        select(YouthProfile).where(YouthProfile.anonymised_at.is_(None), or_(*wanted)).order_by(YouthProfile.id)))


def door_roster(user, now: datetime | None = None) -> dict:
    """Today's roster for the institutions where ``user`` works (see the module's docstring).

    It is good until the end of the day, or until the last of its sessions' check-in windows
    closes if that is later (a session that runs past midnight).
    """
    now = now or utcnow()
    institution_ids = user.institution_ids()
    sessions = todays_sessions(institution_ids, now) if institution_ids else []
    today, _start, end_of_day = _day_bounds(now)
    salt = secrets.token_hex(16)
    roster: dict[str, Any] = {
        "day": today.isoformat(),
        "generated_at": now.isoformat(),
        "expires_at": max([end_of_day, *(checkin_window(s)[1] for s in sessions)]).isoformat(),
        "salt": salt,
        "sessions": {},
        "activities": {},
        "passes": {},
        "revoked": [],
    }
    if not sessions:
        return roster
    youths = _roster_youths(sessions, institution_ids)
    hashes = {y.id: roster_hash(salt, hash_pass_token(y.pass_token)) for y in youths}
    activity_ids = {s.activity_id for s in sessions}
    for session in sessions:
        opens, closes = checkin_window(session)
        day = session_day(session)
        roster["sessions"][str(session.id)] = {
            "activity_id": session.activity_id, "title": session.activity.title,
            "starts_at": session.starts_at.isoformat(), "ends_at": session.ends_at.isoformat(),
            "opens": opens.isoformat(), "closes": closes.isoformat(), "cancelled": session.is_cancelled,
            "checked_in": {},
            # the age rule reads the age on the session's own day (yesterday's late club, tomorrow's
            # early one): only the passes whose age differs from today's are listed
            "ages": {hashes[y.id]: y.age_on(day) for y in youths if day != today and y.age_on(day) != y.age_on(today)},
        }
    for activity in {s.activity for s in sessions}:
        roster["activities"][str(activity.id)] = {
            "requires_signup": activity.requires_signup, "allows_drop_in": activity.allows_drop_in,
            "min_age": activity.min_age, "max_age": activity.max_age, "signups": {},
        }
    for signup in db.session.scalars(select(Signup).where(
            Signup.activity_id.in_(activity_ids), is_active(Signup.status),
            Signup.youth_id.in_(hashes))):
        roster["activities"][str(signup.activity_id)]["signups"][hashes[signup.youth_id]] = str(signup.status)
    for attendance in db.session.scalars(select(Attendance).where(
            Attendance.session_id.in_([s.id for s in sessions]))):
        if attendance.youth_id in hashes:
            roster["sessions"][str(attendance.session_id)]["checked_in"][hashes[attendance.youth_id]] = \
                attendance.scanned_at.isoformat()
    for youth in youths:
        roster["passes"][hashes[youth.id]] = {"first_name": youth.first_name, "age": youth.age_on(today)}
    revoked = db.session.scalars(select(RevokedPass.token_hash).where(RevokedPass.youth_id.in_(hashes)))
    roster["revoked"] = sorted(roster_hash(salt, h) for h in revoked)
    return roster
