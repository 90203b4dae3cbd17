"""Views of the attendance domain: the young person's pass, and the staff's printed pass card.

The scanner, roll-call and head-count pages are in ``views_session.py``.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import qrcode
import qrcode.image.svg
from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..accounts.access import get_youth_or_404, is_youth, require, sees_names
from ..audit.services import audited_page
from ..extensions import db
from ..nav import nav_item, slot
from ..tokens.views import bp as tokens_bp
from . import services

bp = Blueprint("attendance", __name__)
# personal API tokens have their own package; nested here so no shared file needs editing
bp.register_blueprint(tokens_bp)

STATIC = Path(__file__).resolve().parent.parent / "static"

nav_item("attendance.my_pass", _l("Mit pas"), is_youth, order=40)
slot("youth", "attendance/_youth_pass_card_link.html")
slot("session_actions", "attendance/_session_actions.html")

def qr_svg(data: str) -> bytes:
    """The QR code for ``data`` as one SVG path (no raster library needed)."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4,
                       image_factory=qrcode.image.svg.SvgPathImage)
    qr.add_data(data)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image().save(buffer)
    return buffer.getvalue()


def _svg_response(token: str, filename: str | None = None) -> Response:
    response = Response(qr_svg(token), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, no-store"
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _own_youth():
    youth = current_user.youth_profile
    if youth is None or youth.anonymised_at is not None:
        abort(404)
    return youth


@bp.route("/me/pass")
@require(is_youth)
def my_pass():
    """My QR pass, large and high-contrast; it keeps working offline once opened."""
    youth = _own_youth()
    response = Response(render_template("attendance/my_pass.html", youth=youth, svg=qr_svg(youth.pass_token).decode()))
    # the service worker keeps its own copy; the browser's HTTP cache must not keep an old pass
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/me/pass.svg")
@require(is_youth)
def my_pass_svg():
    """Download my pass as an SVG file."""
    return _svg_response(_own_youth().pass_token, filename="pas.svg")


@bp.route("/me/pass/revoke", methods=["POST"])
@require(is_youth)
def my_pass_revoke():
    """Lost phone: block the old pass and get a new one."""
    services.revoke_pass(_own_youth(), current_user)
    db.session.commit()
    flash(_("Dit gamle pas er spærret. Her er dit nye pas."), "success")
    return redirect(url_for("attendance.my_pass"))


@bp.route("/me/pass.webmanifest")
def pass_manifest():
    """The web app manifest that lets the pass be added to the home screen."""
    manifest = {
        "name": _("Mit pas · Hotspot Nørrebro"),
        "short_name": _("Mit pas"),
        "start_url": url_for("attendance.my_pass"),
        "scope": "/me/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b4f6c",
        "icons": [{"src": url_for("static", filename="img/icon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    return Response(json.dumps(manifest, ensure_ascii=False), mimetype="application/manifest+json")


@bp.route("/me/pass-sw.js")
def pass_service_worker():
    """The pass page's service worker, served under /me/ so that its scope covers /me/pass."""
    response = Response((STATIC / "js" / "pass-sw.js").read_bytes(), mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/me/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/youth/<int:youth_id>/pass-card")
@require(sees_names)
def pass_card(youth_id: int):
    """A printable pass card for a young person the staff member may see."""
    youth = get_youth_or_404(youth_id)
    html = render_template("attendance/pass_card.html", youth=youth, svg=qr_svg(youth.pass_token).decode())
    return audited_page("youth.view", youth, html, page="pass_card")


@bp.route("/youth/<int:youth_id>/pass/revoke", methods=["POST"])
@require(sees_names)
def pass_card_revoke(youth_id: int):
    """Staff block a lost pass and issue a new one."""
    youth = get_youth_or_404(youth_id)
    services.revoke_pass(youth, current_user)
    db.session.commit()
    flash(_("Det gamle pas er spærret, og et nyt er lavet."), "success")
    return redirect(url_for("attendance.pass_card", youth_id=youth.id))


@bp.context_processor
def _attendance_helpers():
    return {"refusal": services.refusal_message}


@bp.app_context_processor
def _session_actions_helpers():
    # for the session_actions partial that other domains' pages include
    return {"open_scan_conflicts": lambda session: len(services.open_conflicts(session)),
            "scan_state": services.scan_state, "checkin_window": services.checkin_window}
