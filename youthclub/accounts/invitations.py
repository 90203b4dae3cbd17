"""Inviting a colleague to an institution by e-mail: the role is given only when its owner accepts.

Whoever invites learns nothing about the address: the answer, the list of invitations and the
work done are the same whether it has a login, belongs to a young person or is new. Only the
mail differs: a link to choose a password (new), to log in and accept (a colleague's login),
or a note that staff need an address of their own (a young person's).
"""
from __future__ import annotations

import secrets

from flask_babel import gettext as _
from sqlalchemy import delete, select

from ..audit.services import record_event
from ..database import rows_changed
from ..db_types import utcnow
from ..extensions import db
from ..mail.services import recipient_locale, render_message, send_mail
from ..nav import public_url
from . import services
from .models import INSTITUTION_ROLES, Role, StaffInvitation, User
from .services import AccountError
from .youth_services import INVITATION_TTL, hash_secret


def invite_staff(institution, *, email: str, name: str, role: Role, by_user: User) -> StaffInvitation:
    """Invite ``email`` to work at ``institution`` in ``role``; a new invitation to the same address replaces the old."""
    role = Role(role)
    if role not in INSTITUTION_ROLES:
        raise AccountError(_("Vælg en rolle på institutionen."), "role_invalid")
    email = services.normalise_email(email)
    if "@" not in email:
        raise AccountError(_("Skriv en gyldig e-mail."), "invalid_email")
    existing = services.find_user_by_email(email)
    secret = secrets.token_urlsafe(32)
    context = dict(institution=institution.name, days=INVITATION_TTL.days,
                   link=public_url("accounts.staff_invitation", token=secret))
    if existing is None:
        kind = "new"
    elif existing.is_youth:
        kind = "youth"
    else:
        kind = "colleague"
    subject, body = render_message("staff_invitation_to_institution", recipient_locale(user=existing), kind=kind, **context)
    db.session.execute(delete(StaffInvitation).where(StaffInvitation.institution_id == institution.id,
                                                     StaffInvitation.email == email))
    invitation = StaffInvitation(
        institution_id=institution.id, email=email, name=(name or "").strip()[:120] or email, role=role,
        token_hash=hash_secret(secret), invited_by_id=by_user.id, expires_at=utcnow() + INVITATION_TTL,
    )
    db.session.add(invitation)
    # after the answer, so the mail server's time cannot tell which mail it was
    send_mail(email, subject, body, user=existing, after_response=True)
    db.session.flush()
    record_event("staff.invite", invitation, institution_id=institution.id, role=str(role))
    return invitation


def open_invitations(institution) -> list[StaffInvitation]:
    """The institution's invitations not yet accepted (expired ones too, marked by ``expired``)."""
    return list(db.session.scalars(
        select(StaffInvitation).where(StaffInvitation.institution_id == institution.id)
        .order_by(StaffInvitation.email)
    ))


def find_invitation(secret: str) -> StaffInvitation | None:
    """The unexpired invitation whose link holds ``secret``, or None."""
    if not secret or len(secret) > 200:
        return None
    invitation = db.session.scalar(select(StaffInvitation).where(StaffInvitation.token_hash == hash_secret(secret)))
    return invitation if invitation is not None and not invitation.expired else None


def invitee(invitation: StaffInvitation) -> User | None:
    """The login the invitation's address has now, if any."""
    return services.find_user_by_email(invitation.email)


def _take(invitation: StaffInvitation) -> None:
    """Delete the invitation; a concurrent acceptance of the same link loses."""
    if rows_changed(delete(StaffInvitation).where(StaffInvitation.id == invitation.id)) != 1:
        raise AccountError(_("Linket eller koden er allerede brugt."), "token_used", status=409)


def accept_invitation(secret: str, user: User) -> StaffInvitation:
    """A logged-in colleague accepts an invitation sent to their own address: they get the role."""
    invitation = find_invitation(secret)
    if invitation is None:
        raise AccountError(_("Invitationen er udløbet eller allerede brugt."), "invalid_token", status=404)
    if user.is_youth or services.normalise_email(user.email) != invitation.email:
        raise AccountError(_("Invitationen er sendt til en anden e-mail. Log ind med den."), "other_email",
                           status=403)
    institution_id, role = invitation.institution_id, invitation.role
    _take(invitation)
    services.grant_role(user, role, institution_id)
    record_event("staff.invitation_accept", user, user=user, institution_id=institution_id, role=str(role))
    return invitation


def accept_invitation_as_new(secret: str, *, name: str, password: str, locale: str = "da") -> User:
    """Accept an invitation to an address without a login: the login is made with the password chosen."""
    invitation = find_invitation(secret)
    if invitation is None:
        raise AccountError(_("Invitationen er udløbet eller allerede brugt."), "invalid_token", status=404)
    if invitee(invitation) is not None:
        raise AccountError(_("Der er allerede et login med den e-mail. Log ind for at tage imod invitationen."),
                           "email_taken", status=409)
    institution_id, role = invitation.institution_id, invitation.role
    _take(invitation)
    user = services.create_user(invitation.email, (name or "").strip() or invitation.name, password,
                                role=role, institution_id=institution_id, locale=locale)
    record_event("staff.invitation_accept", user, user=user, institution_id=institution_id, role=str(role))
    return user


def withdraw_invitation(invitation: StaffInvitation) -> None:
    """The institution takes an invitation back; its link stops working."""
    record_event("staff.invitation_withdraw", invitation, institution_id=invitation.institution_id)
    db.session.delete(invitation)
    db.session.flush()
