"""The account page's "API keys" section: create and revoke personal API tokens."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..accounts.models import ApiToken, TokenScope
from ..accounts.passwords import verify_password
from ..extensions import db
from ..formutil import saved_or_refused
from ..nav import slot
from ..ratelimits import rate_limited
from . import services

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")

slot("account", "tokens/_account_tokens.html")


@bp.app_context_processor
def _tokens():
    return {"api_tokens_of": services.active_tokens, "token_scopes": scope_labels()}


def scope_labels() -> dict:
    return {TokenScope.CHECKIN: _("Kun indtjekning (dørscanner)"), TokenScope.FULL: _("Alt, hvad du selv må")}


@bp.route("", methods=["POST"])
@login_required
@rate_limited("current_password")
def create():
    """Create a token (the current password again, so a stolen session cannot make one) and show its secret once."""
    if not verify_password(current_user.password_hash, request.form.get("password", "")):
        flash(_("Skriv din nuværende adgangskode for at oprette en nøgle."), "error")
        return redirect(url_for("accounts.account"))
    with saved_or_refused() as saved:
        token, secret = services.create_token(current_user, request.form.get("name", ""),
                                              scope=request.form.get("scope") or TokenScope.FULL)
    if not saved.ok:
        return redirect(url_for("accounts.account"))
    return render_template("tokens/created.html", token=token, secret=secret)


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    """Revoke one of your own tokens."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    services.revoke_token(token, current_user)
    db.session.commit()
    flash(_("Nøglen er tilbagekaldt."), "success")
    return redirect(url_for("accounts.account"))
