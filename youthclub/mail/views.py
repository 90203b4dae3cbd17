"""The mail domain's one page: the outbox, for admins."""
from __future__ import annotations

import re

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

#: what stands in the outbox in place of a one-time link's secret once mail is really sent
HIDDEN = "[skjult]"


def _link_secrets(app) -> re.Pattern:
    """Every route that takes a secret in its path (``<token>``: a registration, a password reset, an
    invitation, a guardian's consent), as one pattern whose group 1 is the path up to the secret."""
    kept = app.extensions.get("youthclub_link_secrets")
    if kept is None:
        prefixes = sorted({rule.rule.split("<", 1)[0] for rule in app.url_map.iter_rules()
                           if "token" in rule.arguments and rule.rule.split("<", 1)[0].count("/") > 1})
        kept = re.compile("(" + "|".join(re.escape(p) for p in prefixes) + r")[^\s/?#<>\"')]+")
        app.extensions["youthclub_link_secrets"] = kept
    return kept


@bp.app_template_filter("without_link_secrets")
def without_link_secrets(text: str) -> str:
    """``text`` with the secret of every one-time link in it replaced: with a mail server set up, the
    link is the recipient's alone, and an admin who could follow it could take over their account."""
    return _link_secrets(current_app).sub(lambda m: m.group(1) + HIDDEN, text or "")

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
