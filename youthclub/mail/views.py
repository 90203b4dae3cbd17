"""The mail domain's one page: the outbox, for admins."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..accounts.access import is_admin, require
from ..audit.services import audited_page, record_event
from ..extensions import db
from ..nav import nav_item
from .models import OutboxMessage
from .services import outbox_counts, retry_failed

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


@bp.route("/admin/outbox/<int:message_id>/retry", methods=["POST"])
@require(is_admin)
def retry(message_id: int):
    """Admins: send a message that was given up once more (the mail server was wrong, and is mended)."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    if retry_failed(message_id) is None:
        flash(_("Mailen er ikke fejlet (den er sendt eller bliver stadig prøvet), så den er ikke sendt igen."), "info")
    else:
        record_event("outbox.retry", message)
        flash(_("Mailen bliver prøvet sendt igen."), "success")
    db.session.commit()
    return redirect(url_for("mail.outbox", page=request.args.get("page", 1, type=int)))
