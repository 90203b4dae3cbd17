"""Young people's accounts: self-registration, staff-made profiles with claim codes,
password reset, guardian consent for optional extras.

Secrets sent by mail or printed (reset links, claim codes, guardian links) are random,
stored only as a SHA-256 hash, expire, and work once.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update

from ..audit.services import record_event
from ..database import lock_key, lock_row, rows_changed
from ..db_types import utcnow
from ..extensions import db
from ..i18n import local_today
from ..jobs import after_response
from ..mail.services import recipient_locale, render_message, send_mail, send_template
from ..nav import public_url  # used here, and by callers as youth_services.public_url
from ..programme.models import Institution
from . import services
from .access import can_see_youth
from .models import (
    ConsentKind,
    ConsentRecord,
    ConsentStatus,
    Gender,
    OneTimeToken,
    TokenPurpose,
    User,
    YouthProfile,
    normalise_contact,
)
from .passwords import hash_password
from .services import AccountError

#: the version of the consent notice young people and guardians agree to
CONSENT_NOTICE_VERSION = "2026-1"
MIN_AGE, MAX_AGE = 8, 30
RESET_TTL = timedelta(hours=1)
#: how long a new colleague's link to choose a password works
INVITATION_TTL = timedelta(days=7)
CLAIM_TTL = timedelta(days=180)
GUARDIAN_TTL = timedelta(days=14)
#: guardians a child may be waiting for at once (a new address beyond this is refused)
MAX_PENDING_GUARDIANS = 2
#: consent mails one young person may send in GUARDIAN_MAIL_WINDOW
GUARDIAN_MAILS_PER_CHILD = 5
#: consent mails one address may receive in GUARDIAN_MAIL_WINDOW, from all children together
GUARDIAN_MAILS_PER_ADDRESS = 3
GUARDIAN_MAIL_WINDOW = timedelta(hours=24)
#: no 0/O, 1/I/L: a claim code is read off paper and typed on a phone
CLAIM_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


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
    used = rows_changed(
        update(OneTimeToken).where(OneTimeToken.id == token.id, OneTimeToken.used_at.is_(None)).values(used_at=utcnow())
    )
    if used != 1:
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


#: how long the link in the registration mail works
CONFIRM_TTL = timedelta(hours=24)


def _club_contact(email: str) -> bool:
    """Whether a club gave ``email`` as the contact of a profile that has no login yet."""
    return db.session.scalar(select(YouthProfile.id).where(
        YouthProfile.contact == normalise_contact(email), YouthProfile.user_id.is_(None),
        YouthProfile.anonymised_at.is_(None),
    ).limit(1)) is not None


def request_registration(profile: dict, *, email: str, password: str, locale: str = "da",
                         next_path: str | None = None) -> None:
    """Registration screen 2: mail the address typed, and tell the caller nothing about it.

    A new address gets a link that makes the account (``confirm_registration``). An address that
    already has a login, or that a club gave as the contact of a profile without one, gets a mail
    saying so instead (log in, reset the password, or use the club's code), so only the owner of
    the mailbox learns that it is taken. Both do the same work, as a password reset does: the
    password hashed, a secret made and hashed, a mail written; and all of it after the answer has
    gone out, so the database work (a link stored for a new address only) cannot be timed either.
    """
    services.check_password_policy(password)
    after_response(_send_registration, dict(profile), services.normalise_email(email), password, locale, next_path)


def _send_registration(profile: dict, email: str, password: str, locale: str, next_path: str | None) -> None:
    existing = services.find_user_by_email(email)
    taken = existing is not None or _club_contact(email)
    password_hash = hash_password(password)
    secret = secrets.token_urlsafe(32)
    token_hash = hash_secret(secret)
    if taken:
        subject, body = render_message(
            "registration_exists", recipient_locale(user=existing, locale=None if existing else locale),
            by_club=existing is None, login=public_url("accounts.login"),
            forgot=public_url("accounts.password_forgot"), claim=public_url("accounts.claim"),
        )
    else:
        subject, body = render_message(
            "registration_confirm", recipient_locale(locale=locale),
            link=public_url("accounts.register_confirm", token=secret), hours=int(CONFIRM_TTL.total_seconds() // 3600),
        )
        # the answers, the address and the password's hash wait here (never in the cookie) for the link
        db.session.add(OneTimeToken(
            purpose=TokenPurpose.REGISTRATION_CONFIRM, token_hash=token_hash, expires_at=utcnow() + CONFIRM_TTL,
            payload={**profile, "email": email, "password_hash": password_hash, "locale": locale, "next": next_path},
        ))
    send_mail(email, subject, body, user=existing, after_response=True)
    db.session.flush()


def registration_to_confirm(secret: str) -> dict | None:
    """What a registration link would make (its answers), or None when the link is unknown, used or expired."""
    token = find_token(TokenPurpose.REGISTRATION_CONFIRM, secret)
    return dict(token.payload) if token is not None and token.payload else None


def confirm_registration(secret: str) -> tuple[YouthProfile, str | None]:
    """The link in the registration mail was followed: the login and profile are made.

    Returns the young person and where registration was started from (a local path or None).
    The link is deleted with what it held; a second use, or an address taken meanwhile, is refused.
    """
    token = find_token(TokenPurpose.REGISTRATION_CONFIRM, secret)
    if token is None or not token.payload:
        raise AccountError(_("Linket er udløbet eller allerede brugt. Opret dig igen."), "invalid_token", status=404)
    data = dict(token.payload)
    if rows_changed(delete(OneTimeToken).where(OneTimeToken.id == token.id)) != 1:
        raise AccountError(_("Linket eller koden er allerede brugt."), "token_used", status=409)
    if _club_contact(data["email"]):
        raise services.email_taken()
    user = services.create_user(data["email"], data["first_name"], None, locale=data.get("locale") or "da")
    user.password_hash = data["password_hash"]
    youth = _profile(data["first_name"], data.get("last_name"), data["birth_year"], data["birth_month"],
                     data.get("gender"), data.get("home_district_id"), user=user)
    db.session.flush()
    record_event("youth.register", youth, user=user)
    return youth, data.get("next")


#: how long registration screen 1's answers wait for screen 2
DRAFT_TTL = timedelta(hours=2)


def save_registration_draft(values: dict, secret: str | None) -> str:
    """Keep registration screen 1's answers on the server; returns the secret the session holds instead."""
    token = find_token(TokenPurpose.REGISTRATION_DRAFT, secret) if secret else None
    if token is None or secret is None:
        secret = secrets.token_urlsafe(32)
        token = _issue_token(TokenPurpose.REGISTRATION_DRAFT, secret, DRAFT_TTL)
    token.payload = dict(values)
    token.expires_at = utcnow() + DRAFT_TTL
    db.session.flush()
    return secret


def registration_draft(secret: str | None) -> dict | None:
    """Screen 1's answers for this secret, or None (none, expired or used)."""
    token = find_token(TokenPurpose.REGISTRATION_DRAFT, secret) if secret else None
    return dict(token.payload) if token is not None and token.payload else None


def finish_registration_draft(secret: str | None) -> None:
    """The account is made: the draft is gone (not just used), so nothing of it stays."""
    if secret:
        db.session.execute(delete(OneTimeToken).where(OneTimeToken.purpose == TokenPurpose.REGISTRATION_DRAFT,
                                                      OneTimeToken.token_hash == hash_secret(secret)))


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


def open_claim_code(youth: YouthProfile, code: str | None) -> str | None:
    """``code`` (normalised) when it is an open claim code of ``youth``, else None: only a real code is printed."""
    code = normalise_claim_code(code or "")
    token = find_token(TokenPurpose.CLAIM, code) if code else None
    return code if token is not None and token.youth_id == youth.id and youth.user_id is None else None


def register_youth_by_staff(
    institution, *, first_name, last_name, birth_year, birth_month, gender, home_district_id, contact=None, by_user=None
) -> tuple[YouthProfile, str]:
    """Staff create a profile for a young person without e-mail or phone; returns it and a claim code."""
    youth = _profile(
        first_name, last_name, birth_year, birth_month, gender, home_district_id,
        registered_by_institution_id=institution.id, contact=contact,
    )
    db.session.flush()
    record_event("youth.register_by_staff", youth, user=by_user, institution_id=institution.id)
    return youth, issue_claim_code(youth)


# -- one young person, one profile ----------------------------------------------------------


@dataclass
class PossibleDuplicates:
    """Profiles that may be the young person staff are about to register."""

    #: profiles the staff member may see: same first name and birth month, or the same contact
    youths: list[YouthProfile] = field(default_factory=list)
    #: a profile the staff member may not see has the same contact (said, never shown)
    contact_elsewhere: bool = False

    def __bool__(self) -> bool:
        return bool(self.youths) or self.contact_elsewhere


def possible_duplicates(user, *, first_name, birth_year, birth_month, contact) -> PossibleDuplicates:
    """Who ``user`` should be asked about before registering a young person.

    A first name and birth month/year match counts among the profiles the user may see
    (``access.can_see_youth``: registered at or taking part in their institution); elsewhere it is too weak a sign to be worth naming anyone.
    A contact match counts everywhere, but a profile the user may not see is only said to
    exist: no name, no institution.
    """
    name = (first_name or "").strip().casefold()
    key = normalise_contact(contact)
    live = YouthProfile.anonymised_at.is_(None)
    # names are compared casefolded in Python: SQLite's lower() leaves Æ, Ø and Å alone
    same_birth = db.session.scalars(
        select(YouthProfile).where(live, YouthProfile.birth_year == birth_year, YouthProfile.birth_month == birth_month)
        .order_by(YouthProfile.id)
    )
    by_name = [y for y in same_birth if y.first_name.casefold() == name]
    by_contact = []
    if key:
        by_contact = list(db.session.scalars(
            select(YouthProfile).where(live, or_(
                YouthProfile.contact == key,
                YouthProfile.user_id.in_(select(User.id).where(func.lower(User.email) == key)),
            )).order_by(YouthProfile.id)
        ))
    found = PossibleDuplicates()
    for youth in dict.fromkeys(by_name + by_contact):
        if can_see_youth(user, youth):
            found.youths.append(youth)
        elif youth in by_contact:
            found.contact_elsewhere = True
    return found


@dataclass(frozen=True)
class YouthDetails:
    """What tells one young person from another with the same first name, as a viewer may see it."""

    name: str
    age: int
    born: str
    area: str
    registered_by: str

    def __str__(self) -> str:
        return " · ".join((self.name, _("%(age)s år", age=self.age), self.area, self.registered_by))


def youth_details(youth: YouthProfile, viewer, day: date | None = None) -> YouthDetails:
    """First name and last-name initial, age, home area and who registered the profile.

    Another institution is named only to admins: a staff member learns that
    a young person was registered elsewhere, never where (that would be a piece of that
    institution's roster).
    """
    name = youth.first_name + (f" {youth.last_name[0]}." if youth.last_name else "")
    area = youth.home_district.name if youth.home_district is not None else _("Bor uden for hotspottet")
    if youth.registered_by_institution_id is None:
        registered_by = _("Har registreret sig selv")
    elif viewer.is_admin or youth.registered_by_institution_id in viewer.institution_ids():
        institution = db.session.get_one(Institution, youth.registered_by_institution_id)
        registered_by = _("Registreret af %(name)s", name=institution.name)
    else:
        registered_by = _("Registreret af en anden institution")
    return YouthDetails(name=name, age=youth.age_on(day or local_today()),
                        born=f"{youth.birth_month:02d}.{youth.birth_year}", area=area, registered_by=registered_by)


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
    """Mail a reset link if the e-mail belongs to an active user. Says nothing either way.

    All of it (looking the address up, the link, the mail, the audit event and their commit) runs
    after the answer has gone out, so neither the answer nor its timing tells whether the e-mail
    has an account; and the same work is done either way (a secret made and hashed, the mail written).
    """
    after_response(_send_password_reset, email)


def _send_password_reset(email: str) -> None:
    found = services.find_user_by_email(email)
    user = found if found is not None and found.active else None
    secret = secrets.token_urlsafe(32)
    token_hash = hash_secret(secret)
    subject, body = render_message(
        "password_reset", recipient_locale(user=user),
        name=user.name if user is not None else email, link=public_url("accounts.password_reset", token=secret),
        minutes=int(RESET_TTL.total_seconds() // 60),
    )
    if user is None:
        return
    db.session.add(OneTimeToken(purpose=TokenPurpose.PASSWORD_RESET, token_hash=token_hash,
                                expires_at=utcnow() + RESET_TTL, user_id=user.id))
    send_mail(user.email, subject, body, user=user, after_response=True)
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
    if token is None or user is None or not user.active:
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
    _check_guardian_mail_allowed(youth, guardian_email)
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


def _check_guardian_mail_allowed(youth: YouthProfile, guardian_email: str) -> None:
    """At most MAX_PENDING_GUARDIANS addresses waiting per child, and a limit per child and per address,
    counted in the database (so the limit holds on every instance, with or without Redis).

    Requests that race are counted one after another: the child's row is locked, then the
    address (another child may be asking it at the same moment).
    """
    lock_row(YouthProfile, youth.id)
    lock_key(f"guardian-mail:{guardian_email}")
    since = utcnow() - GUARDIAN_MAIL_WINDOW
    waiting = set(db.session.scalars(
        select(ConsentRecord.guardian_email).where(ConsentRecord.youth_id == youth.id,
                                                   ConsentRecord.status == ConsentStatus.PENDING,
                                                   ConsentRecord.requested_at > utcnow() - GUARDIAN_TTL)
    ))
    if guardian_email not in waiting and len(waiting) >= MAX_PENDING_GUARDIANS:
        raise AccountError(_("Du kan højst vente på svar fra %(n)d forældre ad gangen.", n=MAX_PENDING_GUARDIANS),
                           "too_many_guardians", status=409)
    by_child = db.session.scalars(select(func.count(ConsentRecord.id)).where(
        ConsentRecord.youth_id == youth.id, ConsentRecord.guardian_email.is_not(None),
        ConsentRecord.requested_at > since)).one()
    to_address = db.session.scalars(select(func.count(ConsentRecord.id)).where(
        ConsentRecord.guardian_email == guardian_email, ConsentRecord.requested_at > since)).one()
    if by_child >= GUARDIAN_MAILS_PER_CHILD or to_address >= GUARDIAN_MAILS_PER_ADDRESS:
        raise AccountError(_("Der er sendt mange mails om samtykke. Prøv igen i morgen."), "rate_limited", status=429)


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
