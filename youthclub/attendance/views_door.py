"""The installable door scanner: its start page, service worker and web app manifest under /scan/.

The service worker (``static/js/scanner-sw.js``) is scoped to /scan/, so it serves the
scanner's pages, scripts, styles and QR decoder with no signal and nothing else; the pages
it keeps are deleted at log-out (``Clear-Site-Data``) and by the scanner when access ends.
"""
from __future__ import annotations

import json

from flask import Response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.access import get_door_session_or_403, is_staff, require
from ..i18n import local_today
from . import services
from .roster import todays_sessions
from .views import STATIC, bp

SCOPE = "/scan/"


@bp.route("/scan/")
@require(is_staff)
def door():
    """The scanner's start page: today's sessions at my institutions, a Scan button on those happening."""
    sessions = todays_sessions(current_user.institution_ids())
    return render_template("attendance/door.html", sessions=sessions, state=services.scan_state,
                           window=services.checkin_window, day=services.session_day, today=local_today())


@bp.route("/sessions/<int:session_id>/scan")
@require(is_staff)
def scanner_old_url(session_id: int):
    """The scanner's old address (bookmarks): the scanner now lives under /scan/."""
    session = get_door_session_or_403(session_id)
    return redirect(url_for("attendance.scanner", session_id=session.id), code=301)


@bp.route("/scan/sw.js")
def scanner_service_worker():
    """The scanner's service worker, served under /scan/ so that its scope is the scanner alone."""
    response = Response((STATIC / "js" / "scanner-sw.js").read_bytes(), mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = SCOPE
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/scan/manifest.webmanifest")
def scanner_manifest():
    """The web app manifest that lets staff add the scanner to the home screen."""
    manifest = {
        "name": _("Dørscanner · Hotspot Nørrebro"),
        "short_name": _("Scanner"),
        "start_url": url_for("attendance.door"),
        "scope": SCOPE,
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b4f6c",
        "icons": [{"src": url_for("static", filename="img/icon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    return Response(json.dumps(manifest, ensure_ascii=False), mimetype="application/manifest+json")
