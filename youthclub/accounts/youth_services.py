"""Young people's accounts: self-registration, staff-made profiles with claim codes,
password reset, guardian consent for optional extras.

Secrets sent by mail or printed (reset links, claim codes, guardian links) are random,
stored only as a SHA-256 hash, expire, and work once.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from ..audit.services import record_event
from ..db_types import utcnow
from ..extensions import db
from ..i18n import local_today
from ..mail.services import send_template
from . import services
from .models import (
    ConsentKind,
    ConsentRecord,
    ConsentStatus,
    Gender,
    OneTimeToken,
    TokenPurpose,
    User,
    YouthProfile,
)
from .services import AccountError

#: the version of the consent notice young people and guardians agree to
CONSENT_NOTICE_VERSION = "2026-1"
MIN_AGE, MAX_AGE = 8, 30
RESET_TTL = timedelta(hours=1)
#: how long a new colleague's link to choose a password works
INVITATION_TTL = timedelta(days=7)
CLAIM_TTL = timedelta(days=180)
GUARDIAN_TTL = timedelta(days=14)
#: no 0/O, 1/I/L: a claim code is read off paper and typed on a phone
CLAIM_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def public_url(endpoint: str, **values) -> str:
    """An absolute link for mail, built on PUBLIC_BASE_URL and never on the request's Host header."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def _issue_token(purpose: TokenPurpose, secret: str, ttl: timedelta, **links) -> OneTimeToken:
    token = OneTimeToken(purpose=purpose, token_hash=hash_secret(secret), expires_at=utcnow() + ttl, **links)
    db.session.add(token)
    db.session.flush()
    return token


def find_token(purpose: TokenPurpose, secret: str) -> OneTimeToken | None:
    """A valid (unused, unexpired) token of ``purpose`` for ``secret``, or None."""
    if not secret or len(secret) > 200:
        return None
    token = db.session.scalar(
        select(OneTimeToken).where(OneTimeToken.token_hash == hash_secret(secret), OneTimeToken.purpose == purpose)
    )
    if token is None or token.used_at is not None or token.expires_at <= utcnow():
        return None
    return token


def _use_token(token: OneTimeToken) -> None:
    """Mark ``token`` used; a concurrent use of the same token loses (the UPDATE matches nothing)."""
    result = db.session.execute(
        update(OneTimeToken).where(OneTimeToken.id == token.id, OneTimeToken.used_at.is_(None)).values(used_at=utcnow())
    )
    if result.rowcount != 1:
        raise AccountError(_("Linket eller koden er allerede brugt."), "token_used", status=409)
    db.session.refresh(token)


def check_birth(birth_year: int, birth_month: int) -> None:
    if not 1 <= birth_month <= 12:
        raise AccountError(_("Vælg en måned."), "birth_month_invalid")
    age = YouthProfile(birth_year=birth_year, birth_month=birth_month).age_on(local_today())
    if not MIN_AGE <= age <= MAX_AGE:
        raise AccountError(_("Tjek dit fødselsår."), "birth_invalid")


def _profile(first_name, last_name, birth_year, birth_month, gender, home_district_id, **extra) -> YouthProfile:
    check_birth(birth_year, birth_month)
    first_name = (first_name or "").strip()
    if not first_name:
        raise AccountError(_("Skriv dit fornavn."), "first_name_required")
    youth = YouthProfile(
        first_name=first_name[:60],
        last_name=(last_name or "").strip()[:60] or None,
        birth_year=birth_year,
        birth_month=birth_month,
        gender=Gender(gender) if gender else Gender.UOPLYST,
        home_district_id=home_district_id or None,
        **extra,
    )
    db.session.add(youth)
    return youth


def register_youth(
    *, first_name, last_name, birth_year, birth_month, gender, home_district_id, email, password, locale="da"
) -> YouthProfile:
    """A young person registers themselves: a login and a profile (public task; no consent gate)."""
    user = services.create_user(email, first_name, password, locale=locale)
    youth = _profile(first_name, last_name, birth_year, birth_month, gender, home_district_id, user=user)
    db.session.flush()
    record_event("youth.register", youth, user=user)
    return youth


def new_claim_code() -> str:
    raw = "".join(secrets.choice(CLAIM_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalise_claim_code(code: str) -> str:
    raw = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}" if len(raw) == 12 else raw


def issue_claim_code(youth: YouthProfile) -> str:
    """A fresh one-time claim code for a profile without a login; earlier codes stop working."""
    if youth.user_id is not None:
        raise AccountError(_("Den unge har allerede et login."), "already_claimed", status=409)
    db.session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.youth_id == youth.id, OneTimeToken.purpose == TokenPurpose.CLAIM,
               OneTimeToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    code = new_claim_code()
    _issue_token(TokenPurpose.CLAIM, code, CLAIM_TTL, youth_id=youth.id)
    record_event("youth.claim_code", youth)
    return code


def register_youth_by_staff(
    institution, *, first_name, last_name, birth_year, birth_month, gender, home_district_id, contact=None, by_user=None
) -> tuple[YouthProfile, str]:
    """Staff create a profile for a young person without e-mail or phone; returns it and a claim code."""
    youth = _profile(
        first_name, last_name, birth_year, birth_month, gender, home_district_id,
        registered_by_institution_id=institution.id, contact=(contact or "").strip()[:254] or None,
    )
    db.session.flush()
    record_event("youth.register_by_staff", youth, user=by_user, institution_id=institution.id)
    return youth, issue_claim_code(youth)


def claim_profile(code: str, email: str, password: str, *, locale="da") -> YouthProfile:
    """Attach a new login to a staff-made profile with its one-time claim code."""
    token = find_token(TokenPurpose.CLAIM, normalise_claim_code(code))
    if token is None or token.youth_id is None:
        raise AccountError(_("Koden er forkert eller udløbet. Spørg personalet om en ny."), "invalid_code", status=404)
    youth = db.session.get(YouthProfile, token.youth_id)
    if youth is None or youth.user_id is not None or youth.anonymised_at is not None:
        raise AccountError(_("Koden er forkert eller udløbet. Spørg personalet om en ny."), "invalid_code", status=404)
    _use_token(token)
    user = services.create_user(email, youth.first_name, password, locale=locale)
    youth.user = user
    youth.last_active_at = utcnow()
    db.session.flush()
    record_event("youth.claim", youth, user=user)
    return youth


def request_password_reset(email: str) -> None:
    """Mail a reset link if the e-mail belongs to an active user. Says nothing either way."""
    user = services.find_user_by_email(email)
    if user is None or not user.active:
        return
    secret = secrets.token_urlsafe(32)
    _issue_token(TokenPurpose.PASSWORD_RESET, secret, RESET_TTL, user_id=user.id)
    send_template(
        user.email, "password_reset", user=user,
        name=user.name, link=public_url("accounts.password_reset", token=secret),
        minutes=int(RESET_TTL.total_seconds() // 60),
    )
    record_event("user.password_reset_requested", user, user=user)


def invite_user(user: User, *, institution=None) -> None:
    """Mail a new colleague a one-time link to choose their own password: whoever added them never knows it.

    The link is a password-reset link that works for ``INVITATION_TTL``; when it has expired, the
    colleague asks for a new one at "Glemt adgangskode".
    """
    secret = secrets.token_urlsafe(32)
    _issue_token(TokenPurpose.PASSWORD_RESET, secret, INVITATION_TTL, user_id=user.id)
    send_template(
        user.email, "staff_invitation", user=user, name=user.name,
        institution=getattr(institution, "name", None), link=public_url("accounts.password_reset", token=secret),
        days=INVITATION_TTL.days, login=public_url("accounts.login"),
    )
    record_event("user.invite", user, institution_id=getattr(institution, "id", None))


def reset_password(secret: str, password: str) -> User:
    """Set a new password with a reset link; the link and every other open reset link stop working."""
    token = find_token(TokenPurpose.PASSWORD_RESET, secret)
    user = db.session.get(User, token.user_id) if token is not None and token.user_id else None
    if user is None or not user.active:
        raise AccountError(_("Linket er udløbet eller allerede brugt. Bed om et nyt."), "invalid_token", status=404)
    services.check_password_policy(password)
    _use_token(token)
    db.session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.user_id == user.id, OneTimeToken.purpose == TokenPurpose.PASSWORD_RESET,
               OneTimeToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    services.set_password(user, password)
    record_event("user.password_reset", user, user=user)
    return user


# -- consent for optional extras -------------------------------------------------------------


def needs_guardian(youth: YouthProfile, today: date | None = None) -> bool:
    return youth.age_on(today or local_today()) < int(current_app.config.get("CONSENT_AGE", 15))


def current_consent(youth: YouthProfile, kind: ConsentKind) -> ConsentRecord | None:
    return db.session.scalar(
        select(ConsentRecord)
        .where(ConsentRecord.youth_id == youth.id, ConsentRecord.kind == kind)
        .order_by(ConsentRecord.requested_at.desc(), ConsentRecord.id.desc())
        .limit(1)
    )


def has_consent(youth: YouthProfile, kind: ConsentKind) -> bool:
    """Whether an optional extra is on: only with granted consent; everything is off by default."""
    record = current_consent(youth, ConsentKind(kind))
    return record is not None and record.status == ConsentStatus.GRANTED


def give_own_consent(youth: YouthProfile, kind: ConsentKind) -> ConsentRecord:
    """A young person at or over the consent age turns an extra on themselves."""
    if needs_guardian(youth):
        raise AccountError(_("Under %(age)d år skal en forælder give samtykke.", age=current_app.config["CONSENT_AGE"]),
                           "guardian_required", status=403)
    record = ConsentRecord(
        youth_id=youth.id, kind=ConsentKind(kind), status=ConsentStatus.GRANTED, given_by="self",
        notice_version=CONSENT_NOTICE_VERSION, granted_at=utcnow(),
    )
    db.session.add(record)
    db.session.flush()
    record_event("consent.grant", record, kind=str(kind), given_by="self")
    return record


def request_guardian_consent(youth: YouthProfile, kind: ConsentKind, guardian_email: str) -> ConsentRecord:
    """Ask a guardian by e-mail; the extra stays off until they confirm through the link."""
    guardian_email = services.normalise_email(guardian_email)
    if "@" not in guardian_email:
        raise AccountError(_("Skriv en gyldig e-mail."), "invalid_email")
    if youth.user is not None and guardian_email == youth.user.email:
        raise AccountError(_("Skriv din forælders e-mail, ikke din egen."), "own_email")
    record = ConsentRecord(
        youth_id=youth.id, kind=ConsentKind(kind), status=ConsentStatus.PENDING, guardian_email=guardian_email,
        notice_version=CONSENT_NOTICE_VERSION,
    )
    db.session.add(record)
    db.session.flush()
    secret = secrets.token_urlsafe(32)
    _issue_token(TokenPurpose.GUARDIAN_CONSENT, secret, GUARDIAN_TTL, youth_id=youth.id, consent_id=record.id)
    send_template(
        guardian_email, "guardian_consent", youth=youth, locale=getattr(youth.user, "locale", None),
        youth_profile=youth, kind=str(kind), link=public_url("accounts.guardian_consent", token=secret),
        days=GUARDIAN_TTL.days,
    )
    record_event("consent.request", record, kind=str(kind))
    return record


def consent_for_token(secret: str) -> ConsentRecord | None:
    token = find_token(TokenPurpose.GUARDIAN_CONSENT, secret)
    if token is None or token.consent_id is None:
        return None
    record = db.session.get(ConsentRecord, token.consent_id)
    return record if record is not None and record.status == ConsentStatus.PENDING else None


def confirm_guardian_consent(secret: str) -> ConsentRecord:
    """The guardian confirms through the e-mailed link: who (guardian), when and which notice are kept."""
    token = find_token(TokenPurpose.GUARDIAN_CONSENT, secret)
    record = consent_for_token(secret)
    if token is None or record is None:
        raise AccountError(_("Linket er udløbet eller allerede brugt."), "invalid_token", status=404)
    _use_token(token)
    record.status = ConsentStatus.GRANTED
    record.given_by = "guardian"
    record.granted_at = utcnow()
    record.notice_version = CONSENT_NOTICE_VERSION
    db.session.flush()
    record_event("consent.grant", record, user=None, kind=str(record.kind), given_by="guardian")
    return record


def withdraw_consent(youth: YouthProfile, kind: ConsentKind) -> ConsentRecord | None:
    """Turn an extra off again (anyone may withdraw; a pending request is withdrawn too)."""
    record = current_consent(youth, ConsentKind(kind))
    if record is None or record.status == ConsentStatus.WITHDRAWN:
        return record
    record.status = ConsentStatus.WITHDRAWN
    record.withdrawn_at = utcnow()
    db.session.execute(
        update(OneTimeToken).where(OneTimeToken.consent_id == record.id, OneTimeToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    db.session.flush()
    record_event("consent.withdraw", record, kind=str(kind))
    return record


def new_calendar_token(youth: YouthProfile) -> str:
    """A fresh secret for the personal iCal feed; an earlier feed URL stops working."""
    youth.calendar_token = secrets.token_urlsafe(24)
    record_event("youth.calendar_token", youth)
    return youth.calendar_token


def revoke_calendar_token(youth: YouthProfile) -> None:
    youth.calendar_token = None
    record_event("youth.calendar_revoke", youth)
