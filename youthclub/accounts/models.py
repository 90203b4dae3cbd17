"""Users, role memberships, young people's profiles, tokens and consent records."""
from __future__ import annotations

import enum
import re
import secrets
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..db_types import Choice, UTCDateTime, utcnow
from ..extensions import Model

if TYPE_CHECKING:  # relationship targets in other domains (their modules import this one)
    from ..programme.models import District, Institution


class Role(enum.StrEnum):
    STAFF = "staff"
    INSTITUTION_ADMIN = "institution_admin"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


#: roles that belong to one institution
INSTITUTION_ROLES = (Role.STAFF, Role.INSTITUTION_ADMIN)


class RoleGrant(Protocol):
    """One role a login holds: a ``Membership`` row, or the bearer principal's ``TokenMembership``."""

    @property
    def role(self) -> Role: ...

    @property
    def institution_id(self) -> int | None: ...


class RolesMixin:
    """What a login may do, read from its ``memberships`` (each with ``role`` and ``institution_id``).

    Shared by ``User`` and the API's bearer principal (``api.core.TokenUser``), so a role means
    the same whichever way the request came in.
    """

    if TYPE_CHECKING:  # for the type checker only: the classes that mix this in provide it
        memberships: Sequence[RoleGrant]

    def has_role(self, role: Role, institution_id: int | None = None) -> bool:
        return any(m.role == role and (institution_id is None or m.institution_id == institution_id) for m in self.memberships)

    @property
    def is_admin(self) -> bool:
        return self.has_role(Role.ADMIN)

    @property
    def is_coordinator(self) -> bool:
        return self.has_role(Role.COORDINATOR)

    @property
    def is_programme_wide(self) -> bool:
        """Coordinators and admins see every institution."""
        return self.is_admin or self.is_coordinator

    @property
    def is_staff_member(self) -> bool:
        return any(m.role in INSTITUTION_ROLES for m in self.memberships)

    def institution_ids(self, *roles: Role) -> set[int]:
        """Institutions this user works at (in any of ``roles``; all institution roles by default)."""
        roles = roles or INSTITUTION_ROLES
        return {m.institution_id for m in self.memberships if m.role in roles and m.institution_id}


class User(RolesMixin, UserMixin, Model):
    """A login: staff, coordinator, admin, or a young person's own account."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: "da" or "en"; the language mail is written in
    locale: Mapped[str] = mapped_column(String(5), default="da")
    #: bumped on log-out everywhere, password change and deactivation; a session
    #: cookie carrying an older number is refused
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    youth_profile: Mapped[YouthProfile | None] = relationship(back_populates="user", uselist=False)

    # Flask-Login: the id in the cookie carries the session version so that bumping
    # the version ends every session that was opened before.
    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    @property
    def is_youth(self) -> bool:
        return self.youth_profile is not None


class Membership(Model):
    """A role a user holds, for one institution (staff, institution admin) or programme-wide."""

    __table_args__ = (UniqueConstraint("user_id", "role", "institution_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(Choice(Role))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    institution: Mapped[Institution | None] = relationship("Institution")


class Gender(enum.StrEnum):
    PIGE = "pige"
    DRENG = "dreng"
    ANDET = "andet"
    UOPLYST = "uoplyst"

    @property
    def label(self) -> str:
        """The one Danish (or English) word for this gender, on every page and in every figure."""
        return str(GENDER_LABELS[self])


#: the labels of ``Gender`` (read them through ``Gender.label``)
GENDER_LABELS = {
    Gender.PIGE: _l("Pige"),
    Gender.DRENG: _l("Dreng"),
    Gender.ANDET: _l("Andet"),
    Gender.UOPLYST: _l("Uoplyst"),
}


def normalise_contact(value: str | None) -> str | None:
    """A phone number or e-mail in one form, so the same contact written two ways compares equal.

    E-mail: trimmed and lower-case. Phone: digits only, without a Danish country code
    (``+45 12 34 56 78``, ``0045 12345678`` and ``12-34-56-78`` are all ``12345678``).
    """
    value = (value or "").strip()
    if not value:
        return None
    if "@" in value:
        return value.lower()[:254]
    digits = "".join(ch for ch in value if ch.isdigit())
    if not digits:
        return value.casefold()[:254]
    if digits.startswith("00"):
        digits = digits[2:]
    if len(digits) == 10 and digits.startswith("45"):
        digits = digits[2:]
    return digits


#: an e-mail as the contact field takes it: one @, no spaces, a dot in the domain
_CONTACT_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
#: what a phone number is written with: digits, spaces, ( ) . - and a + before the country code, nothing else
_CONTACT_PHONE = re.compile(r"\(?\+?[0-9 ().-]+")


def contact_problem(value: str | None) -> str | None:
    """Why ``value`` is not a phone number or an e-mail (None: it is one, or it is empty).

    The field holds a way to reach the young person and nothing else: no free text (a note
    about them is exactly what is never kept), no CPR number. A phone number is Danish (8
    digits, with or without +45/0045) or international (+ or 00, a country code that is not
    Denmark's, 8 to 15 digits in all); a 10-digit number without a + is what a CPR number is.
    """
    value = (value or "").strip()
    if not value:
        return None
    if "@" in value:
        return None if _CONTACT_EMAIL.fullmatch(value) else _("Skriv en e-mail som navn@eksempel.dk.")
    if not _CONTACT_PHONE.fullmatch(value):
        return _("Skriv kun et telefonnummer eller en e-mail: feltet er ikke til noter.")
    digits = normalise_contact(value) or ""
    compact = re.sub(r"[ ().-]", "", value)
    danish = not compact.startswith(("+", "00")) or compact.lstrip("+0").startswith("45")
    if len(digits) == 8 if danish else (not digits.startswith("0") and 8 <= len(digits) <= 15):
        return None
    return _("Skriv et telefonnummer med 8 cifre (eller +landekode og nummer) eller en e-mail.")


def name_problem(value: str | None) -> str | None:
    """Why ``value`` is not a name (None: it is one): a name has no digits, so a CPR number never goes in as one."""
    if any(ch.isdigit() for ch in value or ""):
        return _("Et navn må ikke indeholde tal.")
    if value and not any(ch.isalpha() for ch in value):
        # only punctuation or invisible characters (a zero-width space looks like a blank name)
        return _("Et navn skal have mindst ét bogstav.")
    return None


def new_pass_token() -> str:
    """An opaque pass token: 160 random bits, URL-safe, carrying nothing about the person."""
    return secrets.token_urlsafe(20)


#: record keys run from 0 to RECORD_KEYS - 1 (the cell key method, docs/metrics.md)
RECORD_KEYS = 256


def new_record_key() -> int:
    """A permanent random record key for the statistics' cell keys; it says nothing about the person."""
    return secrets.randbelow(RECORD_KEYS)


def age_on(birth_year: int, birth_month: int, day: date) -> int:
    """Age in whole years on ``day`` of someone born in that month (on the 1st, as the day is not kept)."""
    age = day.year - birth_year
    if day.month < birth_month:
        age -= 1
    return age


class YouthProfile(Model):
    """A young person. Only the fields listed here may ever hold personal data.

    No CPR number, no free-text notes, no labels: the focus area is measured
    through the offers' tags, never by marking people.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the young person's own login, if they have one
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), unique=True)
    first_name: Mapped[str] = mapped_column(String(60))
    last_name: Mapped[str | None] = mapped_column(String(60))
    birth_year: Mapped[int] = mapped_column(Integer)
    birth_month: Mapped[int] = mapped_column(Integer)
    gender: Mapped[Gender] = mapped_column(Choice(Gender), default=Gender.UOPLYST)
    #: the hotspot district the young person lives in; None means outside the hotspot
    home_district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"), index=True)
    #: optional phone number or e-mail for a young person without a login, kept normalised
    #: (``normalise_contact``) so that a second registration with the same contact is noticed
    contact: Mapped[str | None] = mapped_column(String(254), index=True)
    #: the opaque token in the QR pass
    pass_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_pass_token)
    pass_issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: secret for the personal iCal feed; None when revoked or never made
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: the institution whose staff registered this young person (for staff-made profiles)
    registered_by_institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_active_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: set when the account was closed or retention anonymised the profile
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: random 0..255, never changed (anonymising keeps it): the statistics add up the keys of the
    #: young people in a cell to decide its small random perturbation (docs/metrics.md)
    record_key: Mapped[int] = mapped_column(Integer, default=new_record_key, nullable=False)

    user: Mapped[User | None] = relationship(back_populates="youth_profile")
    home_district: Mapped[District | None] = relationship("District")

    @validates("contact")
    def _normalise_contact(self, _key, value):
        return normalise_contact(value)

    def age_on(self, day: date) -> int:
        """Age in whole years on ``day`` (born on the 1st of the birth month, as the day is not kept)."""
        return age_on(self.birth_year, self.birth_month, day)

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


class RevokedPass(Model):
    """A pass token that was replaced, kept (hashed) so a scan of it gets its own answer."""

    id: Mapped[int] = mapped_column(primary_key=True)
    youth_id: Mapped[int] = mapped_column(ForeignKey("youth_profile.id", ondelete="CASCADE"), index=True)
    #: sha256 of the old token
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TokenPurpose(enum.StrEnum):
    PASSWORD_RESET = "password_reset"
    CLAIM = "claim"
    GUARDIAN_CONSENT = "guardian_consent"
    #: registration screen 1's answers, kept on the server while screen 2 is filled in
    REGISTRATION_DRAFT = "registration_draft"
    #: a registration waiting for its e-mail to be confirmed (the answers and the password's hash in payload)
    REGISTRATION_CONFIRM = "registration_confirm"


class OneTimeToken(Model):
    """A single-use secret sent by e-mail or printed: reset links, claim codes, guardian links."""

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[TokenPurpose] = mapped_column(Choice(TokenPurpose))
    #: sha256 of the secret; the secret itself is never stored
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    youth_id: Mapped[int | None] = mapped_column(ForeignKey("youth_profile.id", ondelete="CASCADE"), index=True)
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consent_record.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: what a registration draft holds (never in the readable session cookie); deleted with the token
    payload: Mapped[dict | None] = mapped_column(JSON)


class TokenScope(enum.StrEnum):
    """What an API token may do."""

    #: everything its user may do in the API
    FULL = "full"
    #: check young people in (one scan, an offline batch, and today's door roster that decides scans
    #: offline) and nothing else: a door scanner's token
    CHECKIN = "checkin"


class ApiToken(Model):
    """A personal API token (``Authorization: Bearer …``), stored hashed."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: the first characters, shown so the owner can tell tokens apart
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: what the token may do (TokenScope)
    scope: Mapped[TokenScope] = mapped_column(Choice(TokenScope), default=TokenScope.FULL,
                                              server_default=TokenScope.FULL.value)

    user: Mapped[User] = relationship()


class PrincipalVersion(Model):
    """One row whose ``tag`` is replaced by a random number on every write that can change what a bearer token may do.

    Database triggers (migration ``a7c3e9d1f5b2``) replace it in the writing transaction: a
    token revoked, expired, re-scoped or deleted, a user renamed, deactivated or logged out
    everywhere, a role given or taken, a profile linked, a second factor set up or reset. A
    worker uses the principal it cached for a token only while the tag is the one it read the
    principal under (``api/principals.py``).
    """

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tag: Mapped[int] = mapped_column(BigInteger)


class ConsentKind(enum.StrEnum):
    PHOTOS = "photos"
    NEWSLETTER = "newsletter"


class ConsentStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for a guardian
    GRANTED = "granted"
    WITHDRAWN = "withdrawn"


class ConsentRecord(Model):
    """Consent for an optional extra; a guardian gives it for a young person under the consent age."""

    __table_args__ = (Index("ix_consent_record_youth_kind", "youth_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    youth_id: Mapped[int] = mapped_column(ForeignKey("youth_profile.id", ondelete="CASCADE"))
    kind: Mapped[ConsentKind] = mapped_column(Choice(ConsentKind))
    status: Mapped[ConsentStatus] = mapped_column(Choice(ConsentStatus), default=ConsentStatus.PENDING)
    #: who gave it: "self" or "guardian"
    given_by: Mapped[str | None] = mapped_column(String(20))
    guardian_email: Mapped[str | None] = mapped_column(String(254))
    #: the version of the notice the consent was given against
    notice_version: Mapped[str] = mapped_column(String(20))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    granted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffInvitation(Model):
    """An invitation to work at an institution, sent to an e-mail address; the role is given when it is accepted.

    Until then the institution knows only what it typed (the address, and a name for a new
    login): whether the address already has a login is told to its mailbox, never to the sender.
    Accepting or withdrawing it deletes the row (the audit log keeps that it happened).
    """

    __table_args__ = (UniqueConstraint("institution_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id", ondelete="CASCADE"), index=True)
    #: the address typed, normalised (``services.normalise_email``)
    email: Mapped[str] = mapped_column(String(254))
    #: the name typed; used only when accepting makes a new login
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(Choice(Role))
    #: sha256 of the secret in the mailed link
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    institution: Mapped[Institution] = relationship("Institution")

    @property
    def expired(self) -> bool:
        return self.expires_at <= utcnow()
