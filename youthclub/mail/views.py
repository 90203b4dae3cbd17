"""The mail domain's one page: the outbox, for admins."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..accounts.access import is_admin, require
from ..audit.services import audited_page
from ..extensions import db
from ..nav import nav_item
from .models import OutboxMessage
from .services import outbox_counts

bp = Blueprint("mail", __name__)

nav_item("mail.outbox", _l("Udbakke"), is_admin, order=85)


@bp.route("/admin/outbox")
@require(is_admin)
def outbox():
    """Admins: the latest outgoing mail, sent or waiting (in development nothing is sent)."""
    page = request.args.get("page", 1, type=int)
    pagination = db.paginate(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()), page=page, per_page=50, error_out=False
    )
    html = render_template("mail/outbox.html", pagination=pagination, counts=outbox_counts(),
                           mail_server=current_app.config.get("MAIL_SERVER"))
    return audited_page("outbox.view", None, html, page=page)
