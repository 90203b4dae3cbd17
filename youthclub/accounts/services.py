"""Account rules: authentication, creating users, roles, passwords."""
from __future__ import annotations

from datetime import datetime, time

from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update

from ..audit.services import record_event
from ..db_types import utcnow
from ..errors import DomainError
from ..extensions import db
from ..i18n import local_today, to_utc
from ..tokens.services import revoke_all_tokens
from .models import INSTITUTION_ROLES, Membership, Role, User, YouthProfile
from .passwords import hash_password, needs_rehash, verify_password

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128


class AccountError(DomainError):
    pass


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def authenticate(email: str, password: str) -> User:
    """The active user with this e-mail and password, or AccountError("invalid_credentials")."""
    user = find_user_by_email(email)
    # the password is always verified (against a dummy hash when no user matches), so the time
    # an answer takes does not tell which e-mails have an account
    matches = verify_password(user.password_hash if user is not None else None, password)
    if user is None or not matches or not user.active:
        raise AccountError(_("Forkert e-mail eller adgangskode."), "invalid_credentials", status=401)
    if user.password_hash is not None and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def check_password_policy(password: str) -> None:
    """Raise AccountError when ``password`` is too short, too long or too common."""
    from .common_passwords import is_common

    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _("Adgangskoden skal være mindst %(n)d tegn.", n=MIN_PASSWORD_LENGTH), "password_too_short"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(
            _("Adgangskoden må højst være %(n)d tegn.", n=MAX_PASSWORD_LENGTH), "password_too_long"
        )
    if is_common(password):
        raise AccountError(_("Adgangskoden er for almindelig. Vælg en anden."), "password_common")


def email_taken() -> AccountError:
    """The refusal for an e-mail that already belongs to someone: the same words for every way it can."""
    return AccountError(_("Der findes allerede en bruger med den e-mail."), "email_taken", status=409)


def create_user(
    email: str,
    name: str,
    password: str | None,
    *,
    role: Role | None = None,
    institution_id: int | None = None,
    locale: str = "da",
    check_policy: bool = True,
) -> User:
    """Create a login, optionally with one role. Raises AccountError("email_taken")."""
    email = normalise_email(email)
    if find_user_by_email(email) is not None:
        raise email_taken()
    if password is not None and check_policy:
        check_password_policy(password)
    user = User(
        email=email,
        name=name.strip(),
        password_hash=hash_password(password) if password else None,
        locale=locale,
    )
    db.session.add(user)
    if role is not None:
        grant_role(user, role, institution_id)
    db.session.flush()
    record_event("user.create", user, role=str(role) if role else None, institution_id=institution_id)
    return user


def grant_role(user: User, role: Role, institution_id: int | None = None) -> Membership:
    """Give ``user`` a role; institution roles need an institution, programme roles must not have one."""
    role = Role(role)
    if role in INSTITUTION_ROLES and institution_id is None:
        raise AccountError(_("Vælg en institution til rollen."), "institution_required")
    if role not in INSTITUTION_ROLES:
        institution_id = None
    for m in user.memberships:
        if m.role == role and m.institution_id == institution_id:
            return m
    membership = Membership(role=role, institution_id=institution_id)
    user.memberships.append(membership)
    db.session.flush()
    record_event("role.grant", user, role=str(role), institution_id=institution_id)
    return membership


def revoke_role(user: User, membership: Membership, *, by_user: User | None = None) -> None:
    """Take a role away; every session and API token of the user ends with it (on every path: an
    admin's user page, an institution admin removing a colleague), so none outlives the role
    or comes back when a role is granted again."""
    user.memberships.remove(membership)
    record_event("role.revoke", user, role=str(membership.role), institution_id=membership.institution_id)
    end_sessions(user, tokens=True, by_user=by_user)


def set_password(user: User, password: str) -> None:
    """Change a password; every other session and every API token of the user ends."""
    check_password_policy(password)
    user.password_hash = hash_password(password)
    end_sessions(user, tokens=True)


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not verify_password(user.password_hash, current_password):
        raise AccountError(_("Den nuværende adgangskode er forkert."), "wrong_password")
    set_password(user, new_password)
    record_event("user.password_change", user)


def set_active(user: User, active: bool) -> None:
    user.active = active
    if not active:
        end_sessions(user, tokens=True)
    record_event("user.activate" if active else "user.deactivate", user)


def end_sessions(user: User, *, tokens: bool = False, by_user: User | None = None) -> None:
    """Every cookie issued to ``user`` so far stops working; with ``tokens``, every API token too
    (password change, deactivation, "log out everywhere", a role taken away)."""
    user.session_version = (user.session_version or 1) + 1
    if tokens:
        revoke_all_tokens(user, by_user)


def remove_from_institution(user: User, institution, *, by_user: User) -> None:
    """Someone leaves an institution: their roles there go, and their sessions and API tokens end at once.

    A user with no role left anywhere is deactivated, so the login stops working too.
    """
    memberships = [m for m in user.memberships if m.institution_id == institution.id]
    if not memberships:
        raise AccountError(_("Personen arbejder ikke på institutionen."), "not_member", status=404)
    if user.id == by_user.id:
        raise AccountError(_("Du kan ikke fjerne dig selv. Bed en anden institutionsleder om det."), "remove_self")
    for membership in memberships:
        revoke_role(user, membership, by_user=by_user)
    if not user.memberships:
        set_active(user, False)
    db.session.flush()
    record_event("staff.remove", user, institution_id=institution.id)


def mark_active(youth_id: int, last_active_at: datetime | None) -> None:
    """The young person was active today (a check-in, a sign-up): written at most once a day per person.

    Retention counts months of inactivity, so a day is precise enough, and a door's scans or a
    burst of sign-ups do not each write the profile row. ``last_active_at`` is the value read
    with the young person; the UPDATE checks it again, so scans at two doors write once.
    """
    today = to_utc(local_today(), time(0))
    if last_active_at is not None and last_active_at >= today:
        return
    table = YouthProfile.__table__
    db.session.connection().execute(
        update(table).where(table.c.id == youth_id, or_(table.c.last_active_at.is_(None), table.c.last_active_at < today))
        .values(last_active_at=utcnow()))
