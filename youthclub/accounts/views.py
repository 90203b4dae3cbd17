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
from . import services, youth_services
from .access import can_see_roster, get_institution_or_403, is_admin, require, works_at
from .auth import fresh_session, signed_out
from .forms import (
    ROLE_LABELS,
    LanguageForm,
    LoginForm,
    PasswordChangeForm,
    RoleForm,
    SimpleForm,
    StaffCreateForm,
    UserCreateForm,
)
from .models import INSTITUTION_ROLES, Membership, Role, User

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
            services.revoke_role(user, membership)
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
    """An institution's staff; its institution admins (and admins) add staff here, who get an invitation by mail."""
    institution = get_institution_or_403(institution_id, admin=True)
    form = StaffCreateForm()
    form.role.choices = _role_choices(INSTITUTION_ROLES)
    if form.validate_on_submit():
        invited = False
        with saved_or_refused(form, default=form.email, fields={"email_taken": form.email}) as saved:
            user = services.find_user_by_email(form.email.data)
            if user is None:
                user = services.create_user(form.email.data, form.name.data, None,
                                            role=Role(form.role.data), institution_id=institution.id)
                youth_services.invite_user(user, institution=institution)
                invited = True
            elif user.is_youth:
                # never tell an institution admin that an address belongs to a young person
                raise services.AccountError(_("Den e-mail kan ikke bruges til personale. Brug en anden."), "email_taken")
            else:
                services.grant_role(user, Role(form.role.data), institution.id)
        if saved.ok:
            # a new colleague by the name typed; an existing account by the address typed, never its name
            flash(_("%(name)s er tilføjet og har fået en mail med et link til at vælge sin adgangskode.", name=user.name)
                  if invited else _("%(email)s er tilføjet.", email=form.email.data.strip()), "success")
            return redirect(url_for("accounts.institution_staff", institution_id=institution.id))
    members = db.session.scalars(
        select(Membership)
        .join(User)
        .where(Membership.institution_id == institution.id)
        .order_by(User.name)
    ).all()
    return render_template(
        "accounts/institution_staff.html", institution=institution, members=members, form=form, role_labels=ROLE_LABELS,
        simple=SimpleForm(),
    )


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
