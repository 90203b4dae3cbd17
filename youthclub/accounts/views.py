"""Log-in, log-out, language, own account, and user administration."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..extensions import db
from ..formutil import options, saved_or_refused
from ..mfa import services as mfa
from ..mfa.login import start_pending
from ..nav import nav_item, start_page
from ..programme.models import Institution
from ..ratelimits import rate_limited
from . import invitations, services, youth_services
from .access import can_see_roster, get_institution_or_403, is_admin, require, works_at
from .auth import fresh_session, signed_out
from .forms import (
    ROLE_LABELS,
    InvitationAcceptForm,
    LanguageForm,
    LoginForm,
    PasswordChangeForm,
    RoleForm,
    SimpleForm,
    StaffCreateForm,
    UserCreateForm,
)
from .models import INSTITUTION_ROLES, Membership, Role, StaffInvitation, User

bp = Blueprint("accounts", __name__)


@bp.app_context_processor
def _youth_policy():
    """Templates show a link to names only to those the policy lets see them."""
    return {
        "can_see_roster": lambda institution_id: can_see_roster(current_user, institution_id),
        "works_at": lambda institution_id: works_at(current_user, institution_id),
    }

nav_item("accounts.users", _l("Brugere"), is_admin, order=80)
nav_item("accounts.account", _l("Min konto"), lambda u: u.is_authenticated, order=90)
start_page("accounts.users", is_admin, priority=40)
start_page("accounts.account", lambda u: u.is_authenticated, priority=0)


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: never another host, scheme or protocol-relative URL."""
    if not target:
        return None
    target = target.strip().replace("\\", "/")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if any(ord(ch) < 32 for ch in target):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@rate_limited("login")
def login():
    """Log in with e-mail and password."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except services.AccountError as err:
            db.session.rollback()
            flash(err.message, "error")
            return render_template("accounts/login.html", form=form), 401
        fresh_session()
        if mfa.needs_second_factor(user):
            # not logged in yet: the code (or setting up the app) comes first
            start_pending(user, safe_next(form.next.data))
            db.session.commit()
            return redirect(url_for("mfa.challenge" if mfa.confirmed_factor(user) else "mfa.enroll"))
        login_user(user, remember=bool(form.remember.data) and user.is_youth)
        db.session.commit()
        return redirect(safe_next(form.next.data) or url_for("main.home"))
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out; the session is ended on the server too. ``everywhere`` also revokes every API token."""
    if current_user.is_authenticated:
        services.end_sessions(current_user, tokens=bool(request.form.get("everywhere")))
        db.session.commit()
    logout_user()
    fresh_session()
    flash(_("Du er logget ud."), "info")
    return signed_out(redirect(url_for("main.home")))


@bp.route("/language", methods=["POST"])
def set_language():
    """Switch between Danish and English."""
    form = LanguageForm()
    if form.validate_on_submit() and form.lang.data in ("da", "en"):
        session["lang"] = form.lang.data
        if current_user.is_authenticated:
            current_user.locale = form.lang.data
            db.session.commit()
    return redirect(safe_next(form.next.data) or url_for("main.home"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
@rate_limited("current_password")
def account():
    """The user's own account: name, e-mail and password."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        with saved_or_refused(form, default=form.new_password, fields={"wrong_password": form.current_password}) as saved:
            services.change_password(current_user, form.current_password.data, form.new_password.data)
        if saved.ok:
            login_user(current_user._get_current_object())  # keep this session, end the others
            flash(_("Din adgangskode er ændret."), "success")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/account.html", form=form)


def _institution_choices():
    institutions = db.session.scalars(select(Institution).order_by(Institution.name)).all()
    return options([(0, _("— ingen —"))] + [(i.id, i.name) for i in institutions])


def _role_choices(roles=tuple(Role)):
    return options((r.value, str(ROLE_LABELS[r])) for r in roles)


@bp.route("/admin/users")
@require(is_admin)
def users():
    """All users with their roles (admins only)."""
    page = request.args.get("page", 1, type=int)
    stmt = select(User).where(User.youth_profile == None).order_by(User.name)  # noqa: E711
    pagination = db.paginate(stmt, page=page, per_page=50, error_out=False)
    return render_template("accounts/users.html", pagination=pagination, role_labels=ROLE_LABELS)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@require(is_admin)
def user_new():
    """Create a staff, institution admin, coordinator or admin user."""
    form = UserCreateForm()
    form.role.choices = _role_choices()
    form.institution_id.choices = _institution_choices()
    if form.validate_on_submit():
        role = Role(form.role.data)
        institution_id = form.institution_id.data or None
        with saved_or_refused(form, default=form.password,
                              fields={"email_taken": form.email, "institution_required": form.institution_id}) as saved:
            user = services.create_user(
                form.email.data, form.name.data, form.password.data or None, role=role, institution_id=institution_id
            )
            if not form.password.data:
                youth_services.invite_user(user, institution=db.session.get(Institution, institution_id or 0))
        if saved.ok:
            flash(_("Brugeren %(name)s er oprettet.", name=user.name) if form.password.data else
                  _("Brugeren %(name)s er oprettet og har fået en mail med et link til at vælge sin adgangskode.",
                    name=user.name), "success")
            return redirect(url_for("accounts.user_edit", user_id=user.id))
    return render_template("accounts/user_new.html", form=form)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@require(is_admin)
def user_edit(user_id: int):
    """A user's roles and whether the account is active."""
    user = db.get_or_404(User, user_id)
    if user.is_youth:
        abort(404)
    form = RoleForm()
    form.role.choices = _role_choices()
    form.institution_id.choices = _institution_choices()
    if form.validate_on_submit():
        with saved_or_refused(form, default=form.institution_id) as saved:
            services.grant_role(user, Role(form.role.data), form.institution_id.data or None)
        if saved.ok:
            flash(_("Rollen er tilføjet."), "success")
            return redirect(url_for("accounts.user_edit", user_id=user.id))
    return render_template(
        "accounts/user_edit.html", user=user, form=form, simple=SimpleForm(), role_labels=ROLE_LABELS
    )


@bp.route("/admin/users/<int:user_id>/roles/<int:membership_id>/delete", methods=["POST"])
@require(is_admin)
def role_delete(user_id: int, membership_id: int):
    user = db.get_or_404(User, user_id)
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.user_id != user.id:
        abort(404)
    if SimpleForm().validate_on_submit():
        if user.id == current_user.id and membership.role == Role.ADMIN:
            flash(_("Du kan ikke fjerne din egen administratorrolle."), "error")
        else:
            services.revoke_role(user, membership, by_user=current_user)
            db.session.commit()
            flash(_("Rollen er fjernet."), "success")
    return redirect(url_for("accounts.user_edit", user_id=user.id))


@bp.route("/admin/users/<int:user_id>/active", methods=["POST"])
@require(is_admin)
def user_toggle_active(user_id: int):
    user = db.get_or_404(User, user_id)
    if SimpleForm().validate_on_submit():
        if user.id == current_user.id:
            flash(_("Du kan ikke deaktivere dig selv."), "error")
        else:
            services.set_active(user, not user.active)
            db.session.commit()
            flash(_("Brugeren er aktiveret.") if user.active else _("Brugeren er deaktiveret."), "success")
    return redirect(url_for("accounts.user_edit", user_id=user.id))


@bp.route("/institutions/<int:institution_id>/staff", methods=["GET", "POST"])
@login_required
def institution_staff(institution_id: int):
    """An institution's staff; its institution admins (and admins) invite colleagues by e-mail here.

    The answer to an invitation is the same for every address, and until it is accepted the
    list shows only the address typed: nobody learns here who has a login.
    """
    institution = get_institution_or_403(institution_id, admin=True)
    form = StaffCreateForm()
    form.role.choices = _role_choices(INSTITUTION_ROLES)
    if form.validate_on_submit():
        with saved_or_refused(form, default=form.email) as saved:
            invitations.invite_staff(institution, email=form.email.data, name=form.name.data,
                                     role=Role(form.role.data), by_user=current_user)
        if saved.ok:
            flash(_("Vi har sendt en invitation til %(email)s. Personen kommer på listen, når invitationen er taget imod.",
                    email=services.normalise_email(form.email.data)), "success")
            return redirect(url_for("accounts.institution_staff", institution_id=institution.id))
    members = db.session.scalars(
        select(Membership)
        .join(User)
        .where(Membership.institution_id == institution.id)
        .order_by(User.name)
    ).all()
    return render_template(
        "accounts/institution_staff.html", institution=institution, members=members, form=form, role_labels=ROLE_LABELS,
        simple=SimpleForm(), invited=invitations.open_invitations(institution),
    )


@bp.route("/institutions/<int:institution_id>/invitations/<int:invitation_id>/withdraw", methods=["POST"])
@login_required
def institution_invitation_withdraw(institution_id: int, invitation_id: int):
    """Take an invitation back before it is accepted; its link stops working."""
    institution = get_institution_or_403(institution_id, admin=True)
    invitation = db.session.get(StaffInvitation, invitation_id)
    if invitation is None or invitation.institution_id != institution.id:
        abort(404)
    if SimpleForm().validate_on_submit():
        with saved_or_refused(success=_("Invitationen til %(email)s er trukket tilbage.", email=invitation.email)):
            invitations.withdraw_invitation(invitation)
    return redirect(url_for("accounts.institution_staff", institution_id=institution.id))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@rate_limited("link")
def staff_invitation(token: str):
    """The link in an invitation mail: a new colleague chooses a password; one with a login logs in and accepts."""
    invitation = invitations.find_invitation(token)
    if invitation is None:
        return render_template("accounts/token_invalid.html", purpose="invitation"), 404
    owner = invitations.invitee(invitation)

    def page(**context):
        return render_template("accounts/staff_invitation.html", invitation=invitation, role_labels=ROLE_LABELS, **context)

    if owner is None:
        form = InvitationAcceptForm(data={"name": invitation.name} if request.method == "GET" else None)
        if form.validate_on_submit():
            with saved_or_refused(form, default=form.password) as saved:
                invitations.accept_invitation_as_new(token, name=form.name.data, password=form.password.data,
                                                     locale=session.get("lang", "da"))
            if saved.ok:
                flash(_("Dit login er klar. Log ind med din e-mail og den adgangskode, du valgte."), "success")
                return redirect(url_for("accounts.login"))
        return page(form=form, new=True)
    if owner.is_youth:
        return page(youth=True), 409
    if not current_user.is_authenticated:
        flash(_("Log ind for at tage imod invitationen."), "info")
        return redirect(url_for("accounts.login", next=url_for("accounts.staff_invitation", token=token)))
    form = SimpleForm()
    if current_user.id != owner.id:
        return page(other_login=True), 403
    if form.validate_on_submit():
        with saved_or_refused(success=_("Du er nu med på %(institution)s.", institution=invitation.institution.name)) as saved:
            invitations.accept_invitation(token, current_user)
        if saved.ok:
            return redirect(url_for("main.home"))
    return page(form=form)


@bp.route("/institutions/<int:institution_id>/staff/<int:user_id>/remove", methods=["POST"])
@login_required
def institution_staff_remove(institution_id: int, user_id: int):
    """Someone leaves: their roles at the institution go, and their sessions and API tokens end at once."""
    institution = get_institution_or_403(institution_id, admin=True)
    user = db.get_or_404(User, user_id)
    if SimpleForm().validate_on_submit():
        try:
            services.remove_from_institution(user, institution, by_user=current_user)
        except services.AccountError as err:
            db.session.rollback()
            if err.code == "not_member":
                abort(404)
            flash(err.message, "error")
        else:
            db.session.commit()
            flash(_("%(name)s er fjernet fra %(institution)s og er logget ud overalt.", name=user.name,
                    institution=institution.name), "success")
    return redirect(url_for("accounts.institution_staff", institution_id=institution.id))
