"""The door scanner's offline data: today's roster, and a fresh CSRF token after a re-login.

``GET /door/roster`` gives staff what their scanner needs to decide scans with no signal
(see ``attendance/roster.py``). ``GET /csrf-token`` answers the session's current CSRF
token, so a scanner page opened before a re-login can still send its queue.
"""
from __future__ import annotations

from flask import jsonify
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from ..accounts.models import TokenScope
from ..attendance.roster import door_roster
from ..audit.services import record_event
from ..extensions import db
from ..main import error_response
from . import bp
from .core import allow_token_scope


@bp.route("/door/roster")
@allow_token_scope(TokenScope.CHECKIN)  # a door scanner's token: its offline mode needs the roster
def door_roster_view():
    """Today's door roster for the institutions where the staff member works."""
    if not current_user.is_authenticated:
        return error_response(401)
    if not current_user.is_staff_member:
        # coordinators and admins work with numbers: no names on their devices
        return error_response(403)
    roster = door_roster(current_user)
    record_event("roster.view", None, page="door-roster", sessions=sorted(int(s) for s in roster["sessions"]))
    db.session.commit()
    response = jsonify(roster)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/csrf-token")
def csrf_token_view():
    """The CSRF token of the current log-in (for a scanner page that outlived a re-login)."""
    if not current_user.is_authenticated:
        return error_response(401)
    return jsonify({"csrf_token": generate_csrf()})


_PASS = {"type": "object", "properties": {"first_name": {"type": "string"}, "age": {"type": "integer"}}}

OPENAPI_PATHS = {
    "/door/roster": {
        "get": {
            "summary": "Today's door roster: what a scanner needs to decide scans offline",
            "description": "Passes appear only as sha256(salt + sha256(token)), with a salt made per roster. "
                           "For staff only; the scanner deletes it at log-out and at the end of the day.",
            "responses": {
                "200": {"description": "The roster", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {
                        "day": {"type": "string", "format": "date"},
                        "generated_at": {"type": "string", "format": "date-time"},
                        "expires_at": {"type": "string", "format": "date-time"},
                        "salt": {"type": "string"},
                        "sessions": {"type": "object"},
                        "activities": {"type": "object"},
                        "passes": {"type": "object", "additionalProperties": _PASS},
                        "revoked": {"type": "array", "items": {"type": "string"}},
                    }}}}},
                "401": {"description": "Not authenticated",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "403": {"description": "Not staff of an institution",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        }
    },
    "/csrf-token": {
        "get": {
            "summary": "The CSRF token of the current log-in",
            "responses": {
                "200": {"description": "The token", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"csrf_token": {"type": "string"}}}}}},
                "401": {"description": "Not authenticated",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        }
    },
}
