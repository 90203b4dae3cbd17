"""Two-step log-in: the code step, setting up the authenticator app, and an admin's reset.

The gate (``enforce_second_factor``) runs before every request: between password and
code, and for a logged-in user whose role requires a second factor but who has none yet,
every page but these (and log-out, language, static files) sends them to the second step
or the set-up; under ``/api/`` the answer is a JSON 401/403. Bearer tokens are checked
in ``api/core.py`` and do not pass here.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from ..accounts.access import is_admin, require
from ..accounts.auth import fresh_session
from ..accounts.forms import SimpleForm
from ..accounts.models import User
from ..accounts.views import safe_next
from ..attendance.views import qr_svg
from ..extensions import db, login_manager
from ..main import error_response
from ..nav import slot
from ..ratelimits import rate_limited
from . import services
from .forms import CodeForm
from .login import PENDING, complete_login, is_verified, mark_verified, pending_user, start_pending

bp = Blueprint("mfa", __name__)

slot("account", "mfa/_account.html", order=10)
slot("user_admin", "mfa/_user_admin.html")

#: the session's mark of the key its set-up page showed (``services.key_mark``)
ENROLL_KEY = "_mfa_enroll_key"

#: what a visitor between password and code (or without the factor their role requires) may still reach
OPEN_ENDPOINTS = {"static", "mfa.challenge", "mfa.enroll", "accounts.logout", "accounts.set_language",
                  "ops.healthz", "ops.readyz"}


@bp.app_context_processor
def _mfa_context():
    return {"mfa_status": _status}


def _status(user) -> dict:
    factor = services.confirmed_factor(user)
    return {
        "on": factor is not None,
        "required": services.is_required(user),
        "allowed": services.may_use_second_factor(user),
        "recovery_codes": services.remaining_recovery_codes(user) if factor else 0,
    }


def _send_to(step: str):
    if request.path.startswith("/api/"):
        if step == "mfa.enroll":
            return error_response(403, "mfa_enrollment_required", _("Slå to-trins-login til, før du fortsætter."))
        return error_response(401, "mfa_required", _("Indtast koden fra din app, før du fortsætter."))
    return redirect(url_for(step))


@bp.before_app_request
def enforce_second_factor():
    """Password alone opens nothing for a user who needs a second factor."""
    if request.endpoint is None or request.endpoint in OPEN_ENDPOINTS:
        return None
    if request.path.startswith("/api/") and request.headers.get("Authorization", "").lower().startswith("bearer "):
        return None
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        if not services.needs_second_factor(user):
            return None
        if services.confirmed_factor(user) is None:
            return _send_to("mfa.enroll")
        if is_verified(user):
            return None
        # logged in without the code (a remember cookie, a session from before): the code now
        target = request.full_path if request.query_string else request.path
        logout_user()
        fresh_session()
        start_pending(user, safe_next(target) if request.method == "GET" else None)
        return _send_to("mfa.challenge")
    if PENDING in session:
        user = pending_user()
        if user is not None:
            return _send_to("mfa.challenge" if services.confirmed_factor(user) else "mfa.enroll")
    return None


def _login_again():
    flash(_("Log ind igen for at fortsætte."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/login/code", methods=["GET", "POST"])
@rate_limited("mfa")
def challenge():
    """The second step of log-in: a code from the app, or a recovery code."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    user = pending_user()
    if user is None:
        return _login_again()
    if services.confirmed_factor(user) is None:
        return redirect(url_for("mfa.enroll"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            how = services.verify_second_factor(user, form.code.data)
        except services.MfaError as err:
            db.session.commit()  # the failed attempt stays in the audit log
            form.code.errors.append(err.message)
            return render_template("mfa/challenge.html", form=form), 401
        next_url = complete_login(user)
        db.session.commit()
        if how == "recovery":
            flash(_("Du har brugt en gendannelseskode. Du har %(n)d tilbage.",
                    n=services.remaining_recovery_codes(user)), "info")
        return redirect(safe_next(next_url) or url_for("main.home"))
    return render_template("mfa/challenge.html", form=form)


@bp.route("/account/two-factor", methods=["GET", "POST"])
@rate_limited("mfa")
def enroll():
    """Set up an authenticator app: scan the QR code (or type the key), then type a code to prove it works."""
    logged_in = current_user.is_authenticated
    user = current_user._get_current_object() if logged_in else pending_user()
    if user is None:
        return login_manager.unauthorized()
    if not services.may_use_second_factor(user):
        abort(403)
    if services.confirmed_factor(user) is not None:
        flash(_("To-trins-login er allerede slået til."), "info")
        return redirect(url_for("accounts.account" if logged_in else "mfa.challenge"))
    form = CodeForm()
    if request.method == "POST":
        factor = services.factor_of(user)
        if factor is None or session.get(ENROLL_KEY) != services.key_mark(factor):
            # the key was never shown in this browser (or was reset or shown elsewhere meanwhile): show one first
            return redirect(url_for("mfa.enroll"))
    else:
        # the same key on every reload in this browser; a key another browser was shown (someone
        # with the password, before the owner) is replaced, so it never becomes the owner's app
        shown = services.factor_of(user)
        factor = services.begin_enrollment(
            user, new_key=shown is not None and session.get(ENROLL_KEY) != services.key_mark(shown))
        session[ENROLL_KEY] = services.key_mark(factor)
        db.session.commit()
    if form.validate_on_submit():
        try:
            codes = services.confirm_enrollment(user, form.code.data)
        except services.MfaError as err:
            db.session.rollback()
            form.code.errors.append(err.message)
        else:
            if logged_in:
                mark_verified(user)
                next_url = None
            else:
                next_url = complete_login(user)
            db.session.commit()
            return render_template("mfa/recovery_codes.html", codes=codes,
                                   next_url=safe_next(next_url) or url_for("main.home"))
    return render_template(
        "mfa/enroll.html", form=form, required=services.is_required(user), logged_in=logged_in,
        svg=qr_svg(services.provisioning_uri(user, factor)).decode(),
        secret=" ".join(factor.secret[i:i + 4] for i in range(0, len(factor.secret), 4)),
    ), (422 if form.errors else 200)


@bp.route("/admin/users/<int:user_id>/two-factor/reset", methods=["POST"])
@require(is_admin)
def reset(user_id: int):
    """Remove a user's app and recovery codes (a lost phone); they set it up again at their next log-in."""
    user = db.get_or_404(User, user_id)
    if user.is_youth and not user.memberships:
        abort(404)
    if SimpleForm().validate_on_submit():
        services.reset_factor(user, current_user)
        db.session.commit()
        flash(_("To-trins-login for %(name)s er nulstillet. Brugeren sætter det op igen ved næste login.",
                name=user.name), "success")
    return redirect(url_for("accounts.user_edit", user_id=user.id))
