"""The privacy page, a person's own data, closing an account, and the audit log."""
from __future__ import annotations

import json
from datetime import datetime, time, timedelta

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user
from sqlalchemy import select

from ..accounts.access import is_admin, is_coordinator, is_youth, require
from ..accounts.auth import fresh_session, signed_out
from ..accounts.models import Gender, User
from ..accounts.youth_forms import MONTHS
from ..audit.describe import Describer
from ..audit.labels import action_label, object_label
from ..audit.models import AuditEvent
from ..audit.services import audited_page, record_event
from ..database import parse_db_id
from ..extensions import db
from ..formutil import saved_or_refused
from ..i18n import LOCAL_TZ
from ..main import error_response
from ..nav import nav_item, slot
from ..ratelimits import rate_limited
from . import services
from .forms import AuditFilterForm, CloseAccountForm

bp = Blueprint("privacy", __name__)

nav_item("privacy.audit_log", _l("Hændelseslog"), is_coordinator, order=85)
slot("account", "privacy/_account_privacy.html")


@bp.route("/privacy")
def privacy():
    """What is stored about young people, why, for how long, and their rights (for children)."""
    return render_template("privacy/privacy.html", retention_months=current_app.config["RETENTION_MONTHS"])


@bp.route("/account/data")
@login_required
@rate_limited("export", methods=("GET",))
def my_data():
    """Download everything held about me as JSON."""
    data = services.export_my_data(current_user)
    record_event("privacy.data_download", current_user)
    db.session.commit()
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="mine-data.json"'},
    )


#: the export's codes in words, for the readable page
SIGNUP_STATUS_WORDS = {"confirmed": _l("Tilmeldt"), "waitlisted": _l("På venteliste"), "cancelled": _l("Afmeldt")}
CONSENT_WORDS = {"photos": _l("Billeder af mig"), "newsletter": _l("Nyhedsbrev på e-mail")}
CONSENT_STATUS_WORDS = {"pending": _l("Venter på din forælder"), "granted": _l("Givet"), "withdrawn": _l("Trukket tilbage")}


@bp.route("/account/data/view")
@login_required
def my_data_page():
    """Everything held about me, in words: what, where and since when (the JSON download beside it)."""
    data = services.export_my_data(current_user)
    profile = data["profile"]
    gender = Gender(profile["gender"]).label if profile else None
    return render_template(
        "privacy/my_data.html", data=data, gender=gender, months=MONTHS, signup_words=SIGNUP_STATUS_WORDS,
        consent_words=CONSENT_WORDS, consent_status_words=CONSENT_STATUS_WORDS, action_label=action_label,
    )


@bp.app_template_filter("isodate")
def isodate(value: str | None) -> datetime | None:
    """An ISO time from the export back as a datetime (for the ``date`` and ``datetime`` filters)."""
    return datetime.fromisoformat(value) if value else None


@bp.route("/account/close", methods=["GET", "POST"])
@require(is_youth)
@rate_limited("current_password")
def close_account():
    """A young person closes their own account; their profile is anonymised at once."""
    form = CloseAccountForm()
    if form.validate_on_submit():
        with saved_or_refused(form, default=form.password) as saved:
            services.close_account(current_user._get_current_object(), form.password.data)
        if saved.ok:
            logout_user()
            fresh_session()
            flash(_("Din konto er lukket, og dine oplysninger er slettet."), "success")
            return signed_out(redirect(url_for("main.home")))
    return render_template("privacy/close.html", form=form)


def _audit_choices(column, label) -> list[tuple[str, str]]:
    """The values in the log, in words (alphabetically), for a filter's choices."""
    values = db.session.scalars(select(column).where(column.is_not(None)).distinct()).all()
    return [("", _("Alle"))] + sorted(((v, label(v)) for v in values), key=lambda choice: choice[1].casefold())


@bp.route("/audit")
@require(is_coordinator)
def audit_log():
    """Who did what, and when: for coordinators and admins, with filters."""
    form = AuditFilterForm(request.args)
    form.action.choices = _audit_choices(AuditEvent.action, action_label)
    form.object_type.choices = _audit_choices(AuditEvent.object_type, object_label)
    stmt = select(AuditEvent).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    if form.validate():
        if form.action.data:
            stmt = stmt.where(AuditEvent.action == form.action.data)
        if form.object_type.data:
            stmt = stmt.where(AuditEvent.object_type == form.object_type.data)
        who = (form.user.data or "").strip()
        if who:
            if who.lstrip("-").isdigit():
                if parse_db_id(who) is None:
                    return error_response(400, "bad_filter", _("Ugyldig bruger: skriv en e-mail eller et bruger-id."))
                user_id = parse_db_id(who)
                if Describer(current_user).unlinked("user", user_id):
                    user_id = -1  # a young person's trail, by their number: for a coordinator it matches nothing
                stmt = stmt.where(AuditEvent.user_id == user_id)
            else:
                found = select(User).where(User.email == who.lower())
                if not is_admin(current_user):
                    # a young person's e-mail would tie an identified child to what they did: for a
                    # coordinator it matches nothing, as an address nobody has (they read "ung #id")
                    found = found.where(~User.youth_profile.has())
                user = db.session.scalar(found)
                stmt = stmt.where(AuditEvent.user_id == (user.id if user else -1))
        if form.date_from.data:
            stmt = stmt.where(AuditEvent.created_at >= datetime.combine(form.date_from.data, time(0), tzinfo=LOCAL_TZ))
        if form.date_to.data:
            end = datetime.combine(form.date_to.data, time(0), tzinfo=LOCAL_TZ) + timedelta(days=1)
            stmt = stmt.where(AuditEvent.created_at < end)
    page = request.args.get("page", 1, type=int)
    pagination = db.paginate(stmt, page=max(page, 1), per_page=50, error_out=False)
    html = render_template("privacy/audit.html", form=form, pagination=pagination,
                           action_label=action_label, describe=Describer(current_user))
    if is_admin(current_user):
        # admins read staff's free-text reasons, which may name a young person
        return audited_page("audit.view", None, html, page=page)
    return html
