"""Data protection: a person's own data, closing an account, and the retention schedule."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update

from ..accounts.models import (
    ApiToken,
    ConsentRecord,
    OneTimeToken,
    RevokedPass,
    StaffInvitation,
    User,
    YouthProfile,
    new_pass_token,
)
from ..activities.models import Activity, Session
from ..attendance.models import Attendance, ScanConflict
from ..audit.models import AuditEvent
from ..audit.services import FREE_TEXT_DETAILS, record_event
from ..database import rows_changed
from ..db_types import utcnow
from ..errors import DomainError
from ..extensions import db
from ..mail.models import OutboxMessage
from ..signups.models import Signup, is_active

#: what an anonymised profile is called; it has no name any more
ANONYMOUS_NAME = "Anonym"
#: sent outbox messages and failed ones are kept this long for support questions
DEFAULT_OUTBOX_RETENTION_DAYS = 30


class PrivacyError(DomainError):
    pass


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


# -- right of access ----------------------------------------------------------------

def export_my_data(user: User) -> dict:
    """Everything held about ``user`` (and their young person's profile), and nothing about anyone else."""
    data: dict = {
        "generated_at": _iso(utcnow()),
        "account": {
            "email": user.email,
            "name": user.name,
            "locale": user.locale,
            "created_at": _iso(user.created_at),
            "last_login_at": _iso(user.last_login_at),
            "roles": [
                {"role": str(m.role), "institution": m.institution.name if m.institution else None}
                for m in user.memberships
            ],
            "api_tokens": [
                {"name": t.name, "prefix": t.prefix, "created_at": _iso(t.created_at),
                 "last_used_at": _iso(t.last_used_at), "expires_at": _iso(t.expires_at),
                 "revoked_at": _iso(t.revoked_at)}
                for t in db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
            ],
        },
        "profile": None,
        "signups": [],
        "attendance": [],
        "scan_conflicts": [],
        "attendance_corrections": [],
        "consents": [],
        "messages": [],
        "activity_log": [],
    }
    youth = user.youth_profile
    message_filter = OutboxMessage.user_id == user.id
    audit_filter = AuditEvent.user_id == user.id
    if youth is not None:
        data["profile"] = {
            "first_name": youth.first_name,
            "last_name": youth.last_name,
            "birth_year": youth.birth_year,
            "birth_month": youth.birth_month,
            "gender": str(youth.gender),
            "home_district": youth.home_district.name if youth.home_district else None,
            "contact": youth.contact,
            "pass_token": youth.pass_token,
            "pass_issued_at": _iso(youth.pass_issued_at),
            "calendar_feed": youth.calendar_token is not None,
            "registered_by_institution": _institution_name(youth.registered_by_institution_id),
            "created_at": _iso(youth.created_at),
            "last_active_at": _iso(youth.last_active_at),
        }
        signups = db.session.scalars(
            select(Signup).where(Signup.youth_id == youth.id).order_by(Signup.created_at, Signup.id)
        )
        data["signups"] = [
            {"activity": s.activity.title, "institution": s.activity.institution.name, "status": str(s.status),
             "waitlist_position": s.position, "created_at": _iso(s.created_at),
             "confirmed_at": _iso(s.confirmed_at), "cancelled_at": _iso(s.cancelled_at),
             "cancel_reason": s.cancel_reason}
            for s in signups
        ]
        rows = db.session.execute(
            select(Attendance, Session, Activity)
            .join(Session, Attendance.session_id == Session.id)
            .join(Activity, Session.activity_id == Activity.id)
            .where(Attendance.youth_id == youth.id)
            .order_by(Session.starts_at, Attendance.id)
        )
        data["attendance"] = [
            {"activity": activity.title, "session_starts_at": _iso(session.starts_at), "method": str(a.method),
             "scanned_at": _iso(a.scanned_at), "drop_in": a.drop_in}
            for a, session, activity in rows
        ]
        data["consents"] = [
            {"kind": str(c.kind), "status": str(c.status), "given_by": c.given_by,
             "guardian_email": c.guardian_email, "notice_version": c.notice_version,
             "requested_at": _iso(c.requested_at), "granted_at": _iso(c.granted_at),
             "withdrawn_at": _iso(c.withdrawn_at)}
            for c in db.session.scalars(
                select(ConsentRecord).where(ConsentRecord.youth_id == youth.id).order_by(ConsentRecord.id)
            )
        ]
        conflicts = db.session.execute(
            select(ScanConflict, Session, Activity)
            .join(Session, ScanConflict.session_id == Session.id)
            .join(Activity, Session.activity_id == Activity.id)
            .where(ScanConflict.youth_id == youth.id)
            .order_by(ScanConflict.scanned_at, ScanConflict.id)
        )
        data["scan_conflicts"] = [
            {"activity": activity.title, "session_starts_at": _iso(session.starts_at), "code": c.code,
             "scanned_at": _iso(c.scanned_at), "resolved_at": _iso(c.resolved_at)}
            for c, session, activity in conflicts
        ]
        data["attendance_corrections"] = attendance_corrections(youth)
        message_filter = or_(message_filter, OutboxMessage.youth_id == youth.id)
        # what was done to the profile (views, corrections), without saying which staff member did it
        audit_filter = or_(
            audit_filter, (AuditEvent.object_type == YouthProfile.__tablename__) & (AuditEvent.object_id == youth.id)
        )
    data["messages"] = [
        {"to": m.to_address, "subject": m.subject, "body": m.body_text,
         "created_at": _iso(m.created_at), "sent_at": _iso(m.sent_at)}
        for m in db.session.scalars(select(OutboxMessage).where(message_filter).order_by(OutboxMessage.id))
    ]
    data["activity_log"] = [
        {"action": e.action, "by_you": e.user_id == user.id, "created_at": _iso(e.created_at)}
        for e in db.session.scalars(select(AuditEvent).where(audit_filter).order_by(AuditEvent.id))
    ]
    return data


def attendance_corrections(youth: YouthProfile) -> list[dict]:
    """Staff's corrections of the young person's attendance (a roll-call tick, a visit removed, a late
    or age-overridden check-in), with the reason they gave: kept about them, so theirs to read.
    The events belong to the session and name the young person in their details; who made the
    change is not told (as in the activity log)."""
    rows = db.session.execute(
        select(AuditEvent, Session, Activity)
        .join(Session, Session.id == AuditEvent.object_id)
        .join(Activity, Activity.id == Session.activity_id)
        .where(AuditEvent.object_type == Session.__tablename__,
               AuditEvent.details["youth_id"].as_integer() == youth.id)
        .order_by(AuditEvent.id)
    )
    return [
        {"action": e.action, "change": (e.details or {}).get("change"), "activity": activity.title,
         "session_starts_at": _iso(session.starts_at), "reason": (e.details or {}).get("reason"),
         "created_at": _iso(e.created_at)}
        for e, session, activity in rows
    ]


def _institution_name(institution_id: int | None) -> str | None:
    if institution_id is None:
        return None
    from ..programme.models import Institution

    institution = db.session.get(Institution, institution_id)
    return institution.name if institution else None


# -- closing and anonymising ---------------------------------------------------------

def _remove_free_text_about(youth: YouthProfile) -> None:
    """Staff's free-text reasons about this young person go (a reason can name them or someone else);
    the events stay, with their ids and codes."""
    signup_ids = set(db.session.scalars(select(Signup.id).where(Signup.youth_id == youth.id)))
    db.session.execute(update(Signup).where(Signup.youth_id == youth.id).values(cancel_reason=None))
    about = or_(
        (AuditEvent.object_type == YouthProfile.__tablename__) & (AuditEvent.object_id == youth.id),
        (AuditEvent.object_type == Signup.__tablename__) & AuditEvent.object_id.in_(signup_ids),
        # events on a session name the young person in their details (attendance corrections)
        AuditEvent.object_type == Session.__tablename__,
    )
    for event in db.session.scalars(select(AuditEvent).where(about)):
        details = event.details if isinstance(event.details, dict) else {}
        if event.object_type == Session.__tablename__ and details.get("youth_id") != youth.id:
            continue
        if FREE_TEXT_DETAILS & details.keys():
            event.details = {k: v for k, v in details.items() if k not in FREE_TEXT_DETAILS}


def anonymise_youth(youth: YouthProfile, *, reason: str, now: datetime | None = None) -> None:
    """Remove everything that points at the person; keep what the statistics count.

    Kept: birth year and month (the age band of every past visit), gender and home
    district, sign-ups and attendance (as counts). Removed: names, contact, the pass
    and calendar tokens, consents, mail, one-time links, and the login itself.
    """
    now = now or utcnow()
    if youth.anonymised_at is not None:
        return
    user = youth.user
    addresses = {a.strip().lower() for a in (getattr(user, "email", None), youth.contact) if a and "@" in a}
    _cancel_open_signups(youth, now)
    youth.first_name = ANONYMOUS_NAME
    youth.last_name = None
    youth.contact = None
    youth.pass_token = new_pass_token()  # the printed or saved QR code stops working
    youth.pass_issued_at = now
    youth.calendar_token = None
    youth.anonymised_at = now
    db.session.execute(delete(RevokedPass).where(RevokedPass.youth_id == youth.id))
    db.session.execute(delete(ConsentRecord).where(ConsentRecord.youth_id == youth.id))
    db.session.execute(delete(OneTimeToken).where(OneTimeToken.youth_id == youth.id))
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.youth_id == youth.id))
    if addresses:
        # mail to the person's address that was sent before a login or profile could be tied to it
        # (the registration link): the address and the words to them go too
        db.session.execute(delete(OutboxMessage).where(
            OutboxMessage.user_id.is_(None), OutboxMessage.youth_id.is_(None),
            func.lower(OutboxMessage.to_address).in_(addresses)))
    _remove_free_text_about(youth)
    # user=False: no actor is recorded (the person's own login is about to go)
    record_event("youth.anonymise", youth, user=False, reason=reason)
    if user is not None:
        youth.user = None
        db.session.flush()
        _delete_login(user)
    db.session.flush()


def _cancel_open_signups(youth: YouthProfile, now: datetime) -> None:
    """Free the person's places through the sign-up rules, so the waitlist moves up and is told."""
    from ..signups.services import cancel_signup

    open_signups = db.session.scalars(
        select(Signup).where(Signup.youth_id == youth.id, is_active(Signup.status))
    ).all()
    for signup in open_signups:
        cancel_signup(signup, by_user=None, reason=None)


def _delete_login(user: User) -> None:
    """Delete a login; references from kept rows (who recorded or cancelled what) become empty."""
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name != User.__tablename__ or fk.ondelete is not None:
                continue
            column = fk.parent
            if column.nullable and table.name != YouthProfile.__tablename__:
                db.session.execute(update(table).where(column == user.id).values({column.name: None}))
    db.session.delete(user)


def close_account(user: User, password: str) -> None:
    """A young person closes their own account: the login ends now and the profile is anonymised."""
    from ..accounts.passwords import verify_password

    youth = user.youth_profile
    if youth is None:
        raise PrivacyError(_("Kun unge kan lukke deres egen konto her."), "not_youth", status=403)
    if not verify_password(user.password_hash, password):
        raise PrivacyError(_("Adgangskoden er forkert."), "wrong_password", status=403)
    anonymise_youth(youth, reason="closed_by_user")


# -- retention -----------------------------------------------------------------------

def months_before(moment: datetime, months: int) -> datetime:
    """The same moment ``months`` calendar months earlier (the day clamped to the month's end)."""
    import calendar

    month_index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def last_activity():
    """A query of (youth id, the latest moment the person did anything)."""
    from sqlalchemy import union_all

    events = union_all(
        select(YouthProfile.id.label("youth_id"), YouthProfile.last_active_at.label("at")),
        select(YouthProfile.id, YouthProfile.created_at),
        select(YouthProfile.id, User.last_login_at).join(User, YouthProfile.user_id == User.id),
        select(Signup.youth_id, Signup.created_at),
        select(Attendance.youth_id, Attendance.scanned_at),
    ).subquery()
    return select(events.c.youth_id, func.max(events.c.at).label("last_at")).group_by(events.c.youth_id)


def inactive_youths(cutoff: datetime) -> list[YouthProfile]:
    """Profiles, not yet anonymised, with no sign-up, visit, log-in or other activity since ``cutoff``."""
    latest = last_activity().subquery()
    return list(
        db.session.scalars(
            select(YouthProfile)
            .join(latest, latest.c.youth_id == YouthProfile.id)
            .where(YouthProfile.anonymised_at.is_(None), latest.c.last_at < cutoff)
            .order_by(YouthProfile.id)
        )
    )


def delete_expired_tokens(*, now: datetime | None = None,
                          revoked_days: int = DEFAULT_OUTBOX_RETENTION_DAYS) -> dict[str, int]:
    """Delete expired one-time links (resets, claim codes, guardian links), staff invitations and expired or long-revoked API tokens."""
    now = now or utcnow()
    return {
        "tokens": rows_changed(delete(OneTimeToken).where(OneTimeToken.expires_at < now)),
        "invitations": rows_changed(delete(StaffInvitation).where(StaffInvitation.expires_at < now)),
        "api_tokens": rows_changed(
            delete(ApiToken).where(or_(ApiToken.expires_at < now, ApiToken.revoked_at < now - timedelta(days=revoked_days)))
        ),
    }


def purge(*, now: datetime | None = None, retention_months: int = 24,
          outbox_days: int = DEFAULT_OUTBOX_RETENTION_DAYS) -> dict[str, int]:
    """The retention schedule; safe to run every day (a second run finds nothing to do)."""
    now = now or utcnow()
    counts = {"anonymised": 0}
    for youth in inactive_youths(months_before(now, retention_months)):
        anonymise_youth(youth, reason="retention", now=now)
        counts["anonymised"] += 1
    counts.update(delete_expired_tokens(now=now, revoked_days=outbox_days))
    counts["outbox"] = rows_changed(
        delete(OutboxMessage).where(OutboxMessage.created_at < now - timedelta(days=outbox_days))
    )
    if any(counts.values()):
        record_event("privacy.purge", user=False, **counts)
    db.session.flush()
    return counts
