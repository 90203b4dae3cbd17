"""Flask-Login wiring: the cookie names the user and their session version."""
from __future__ import annotations

from flask import request, session
from flask_babel import lazy_gettext as _l

from ..extensions import db


def init_login_manager(login_manager) -> None:
    from .models import User

    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Log ind for at se siden.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(ident: str):
        try:
            user_id, version = (int(part) for part in ident.split(":", 1))
        except (ValueError, AttributeError):
            return None
        user = db.session.get(User, user_id)
        if user is None or user.session_version != version or not user.active:
            return None
        return user

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask import abort, flash, redirect, url_for

        if request.path.startswith("/api/"):
            abort(401)
        flash(login_manager.login_message, "info")
        return redirect(url_for("accounts.login", next=request.full_path if request.query_string else request.path))


#: sent when a log-in ends: the browser drops its cache and the site's storage, which holds
#: the door scanner's roster, its kept pages and the young person's kept pass
CLEAR_SITE_DATA = '"cache", "storage"'


def signed_out(response):
    """``response`` with ``Clear-Site-Data``, for log-out and account closure."""
    response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response


def fresh_session() -> None:
    """Empty the session (at log-in, log-out and account closure), keeping only the chosen language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
