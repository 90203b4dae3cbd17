"""Sign-ups over JSON: sign the logged-in young person up, and cancel a sign-up."""
from __future__ import annotations

from flask import abort, jsonify, request
from flask_login import current_user, login_required

from ..accounts.access import can_see_roster
from ..activities.models import Activity
from ..extensions import db
from ..ratelimits import rate_limited
from ..signups import services
from ..signups.models import Signup, SignupStatus
from . import bp


def signup_json(signup: Signup) -> dict:
    return {
        "id": signup.id,
        "activity_id": signup.activity_id,
        "status": str(signup.status),
        "position": signup.position,
        "created_at": signup.created_at.isoformat(),
        "confirmed_at": signup.confirmed_at.isoformat() if signup.confirmed_at else None,
        "cancelled_at": signup.cancelled_at.isoformat() if signup.cancelled_at else None,
    }


@bp.route("/activities/<int:activity_id>/signups", methods=["POST"])
@login_required
@rate_limited("signup")
def api_sign_up(activity_id: int):
    """Sign the logged-in young person up: 201 confirmed or waitlisted with the position."""
    activity = db.session.get(Activity, activity_id)
    if activity is None:
        abort(404)
    youth = current_user.youth_profile
    if youth is None or youth.anonymised_at is not None:
        raise services.refusal_error("not_a_youth")
    signup = services.sign_up(youth, activity, by_user=current_user)
    db.session.commit()
    return jsonify(signup_json(signup)), 201


@bp.route("/signups/<int:signup_id>", methods=["DELETE"])
@login_required
def api_cancel_signup(signup_id: int):
    """Cancel a sign-up or leave the waitlist: the young person themselves, or staff of the activity."""
    signup = db.session.get(Signup, signup_id)
    if signup is None:
        abort(404)
    youth = current_user.youth_profile
    own = youth is not None and signup.youth_id == youth.id
    if not own and not can_see_roster(current_user, signup.activity.institution_id):
        abort(404)
    body = request.get_json(silent=True) if request.data else None
    reason = body.get("reason") if isinstance(body, dict) and not own else None
    services.cancel_signup(signup, by_user=current_user, reason=reason if isinstance(reason, str) else None)
    db.session.commit()
    return jsonify(signup_json(signup))


_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_SIGNUP = {"application/json": {"schema": {"$ref": "#/components/schemas/Signup"}}}

OPENAPI_SCHEMAS = {
    "Signup": {
        "type": "object",
        "required": ["id", "activity_id", "status", "position"],
        "properties": {
            "id": {"type": "integer"},
            "activity_id": {"type": "integer"},
            "status": {"type": "string", "enum": [s.value for s in SignupStatus]},
            "position": {"type": ["integer", "null"], "description": "Place on the waitlist (1 is next); null unless waitlisted"},
            "created_at": {"type": "string", "format": "date-time"},
            "confirmed_at": {"type": ["string", "null"], "format": "date-time"},
            "cancelled_at": {"type": ["string", "null"], "format": "date-time"},
        },
    }
}

OPENAPI_PATHS = {
    "/activities/{activity_id}/signups": {
        "post": {
            "summary": "Sign the logged-in young person up for an activity",
            "description": "A confirmed place while there is one, else the end of the waitlist. "
            "Session cookie plus X-CSRFToken header, or a personal API token.",
            "parameters": [{"name": "activity_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {
                "201": {"description": "Confirmed, or waitlisted with its position", "content": _SIGNUP},
                "401": {"description": "Not logged in", "content": _ERROR},
                "403": {"description": "Not a young person (code not_a_youth)", "content": _ERROR},
                "404": {"description": "No such activity", "content": _ERROR},
                "409": {"description": "already_signed_up or full_waitlist_closed", "content": _ERROR},
                "422": {"description": "outside_age, window_closed, not_open or signup_not_required", "content": _ERROR},
                "429": {"description": "Too many attempts", "content": _ERROR},
            },
        }
    },
    "/signups/{signup_id}": {
        "delete": {
            "summary": "Cancel a sign-up or leave the waitlist",
            "description": "The young person themselves, or staff of the activity's institution (optional JSON "
            "body {\"reason\": \"...\"}). The next on the waitlist is promoted. Cancelling twice changes nothing.",
            "parameters": [{"name": "signup_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {
                "200": {"description": "The cancelled sign-up", "content": _SIGNUP},
                "401": {"description": "Not logged in", "content": _ERROR},
                "404": {"description": "No such sign-up, or not yours", "content": _ERROR},
            },
        }
    },
}
