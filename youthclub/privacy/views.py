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
from ..accounts.models import User
from ..audit.describe import Describer
from ..audit.labels import action_label, object_label
from ..audit.models import AuditEvent
from ..audit.services import audited_page, record_event
from ..extensions import db
from ..i18n import LOCAL_TZ
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


@bp.route("/account/close", methods=["GET", "POST"])
@require(is_youth)
def close_account():
    """A young person closes their own account; their profile is anonymised at once."""
    form = CloseAccountForm()
    if form.validate_on_submit():
        try:
            services.close_account(current_user._get_current_object(), form.password.data)
        except services.PrivacyError as err:
            db.session.rollback()
            form.password.errors.append(_("Adgangskoden er forkert.") if err.code == "wrong_password" else err.message)
        else:
            db.session.commit()
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
            if who.isdigit() and len(who) < 12:
                stmt = stmt.where(AuditEvent.user_id == int(who))
            else:
                user = db.session.scalar(select(User).where(User.email == who.lower()))
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
