"""The public catalogue as JSON: published offers with their coming sessions and free places."""
from __future__ import annotations

from flask import abort, jsonify, request, url_for

from ..activities import services
from ..activities.models import Activity, Session
from ..errors import DomainError
from ..signups.places import free_places
from . import bp

MAX_PER_PAGE = 50


def _session_json(session: Session) -> dict:
    return {
        "id": session.id,
        "starts_at": session.starts_at.isoformat(),
        "ends_at": session.ends_at.isoformat(),
        "cancelled": session.is_cancelled,
        "moved_from": session.moved_from.isoformat() if session.moved_from else None,
        "reason": session.cancel_reason,
    }


def _activity_json(activity: Activity, free: int | None, next_start=None) -> dict:
    return {
        "id": activity.id,
        "title": activity.title,
        "description": activity.description,
        "category": activity.category.value,
        "min_age": activity.min_age,
        "max_age": activity.max_age,
        "institution": {"id": activity.institution_id, "name": activity.institution.name},
        "district_id": activity.district_id,
        "address": activity.address,
        "room": activity.room,
        "requires_signup": activity.requires_signup,
        "allows_drop_in": activity.allows_drop_in,
        "capacity": activity.capacity,
        "free_places": free,
        "status": activity.status.value,
        "next_start": next_start.isoformat() if next_start else None,
        "url": url_for("activities.detail", activity_id=activity.id, _external=True),
        "calendar_url": url_for("activities.calendar", activity_id=activity.id, _external=True),
    }


def _int_arg(name: str, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise DomainError(f"'{name}' skal være et heltal fra {low} til {high}.", "bad_parameter", status=400, parameter=name)
    return value


def _flag(name: str) -> bool:
    return request.args.get(name, "").lower() in ("1", "true", "y", "yes")


@bp.route("/activities")
def activities():
    """The public catalogue, with the web page's filters."""
    from ..activities.models import Category

    category = request.args.get("category") or None
    if category is not None and category not in {c.value for c in Category}:
        raise DomainError("Ukendt kategori.", "bad_parameter", status=400, parameter="category")
    filters = services.CatalogueFilters(
        q=(request.args.get("q") or "").strip()[:100], age=_int_arg("age", 0, 99), weekday=_int_arg("weekday", 0, 6),
        district_id=_int_arg("district", 1, 2**31), category=category, free_places=_flag("free"),
        drop_in=_flag("drop_in"),
    )
    page = _int_arg("page", 1, 10**6) or 1
    per_page = _int_arg("per_page", 1, MAX_PER_PAGE) or 20
    pagination, items = services.catalogue_page(filters, page, per_page)
    return jsonify({
        "items": [_activity_json(a, free, next_start) for a, next_start, free in items],
        "page": pagination.page, "pages": pagination.pages, "total": pagination.total,
    })


@bp.route("/activities/<int:activity_id>")
def activity(activity_id: int):
    """One published offer with its coming sessions."""
    activity = services.public_activity(activity_id)
    if activity is None:
        abort(404)
    data = _activity_json(activity, free_places(activity))
    data["cancel_reason"] = activity.cancel_reason
    data["sessions"] = [_session_json(s) for s in services.upcoming_sessions(activity, limit=20)]
    return jsonify(data)


_ACTIVITY_SCHEMA = {"$ref": "#/components/schemas/Activity"}
_ERROR = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}

OPENAPI_SCHEMAS = {
    "Activity": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"}, "title": {"type": "string"}, "description": {"type": "string"},
            "category": {"type": "string"}, "min_age": {"type": "integer"}, "max_age": {"type": "integer"},
            "institution": {"type": "object"}, "district_id": {"type": "integer"},
            "requires_signup": {"type": "boolean"}, "allows_drop_in": {"type": "boolean"},
            "capacity": {"type": ["integer", "null"]}, "free_places": {"type": ["integer", "null"]},
            "next_start": {"type": ["string", "null"], "format": "date-time"},
            "url": {"type": "string"}, "calendar_url": {"type": "string"},
        },
    },
}

OPENAPI_PATHS = {
    "/activities": {
        "get": {
            "summary": "The public catalogue of offers with a coming session",
            "security": [],
            "parameters": [
                {"name": n, "in": "query", "schema": {"type": t}} for n, t in (
                    ("q", "string"), ("age", "integer"), ("weekday", "integer"), ("district", "integer"),
                    ("category", "string"), ("free", "boolean"), ("drop_in", "boolean"), ("page", "integer"),
                    ("per_page", "integer"),
                )
            ],
            "responses": {
                "200": {"description": "A page of offers", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"items": {"type": "array", "items": _ACTIVITY_SCHEMA},
                                                     "page": {"type": "integer"}, "pages": {"type": "integer"},
                                                     "total": {"type": "integer"}}}}}},
                "400": {"description": "A bad filter", **_ERROR},
            },
        }
    },
    "/activities/{activity_id}": {
        "get": {
            "summary": "One published offer with its coming sessions",
            "security": [],
            "parameters": [{"name": "activity_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {
                "200": {"description": "The offer", "content": {"application/json": {"schema": _ACTIVITY_SCHEMA}}},
                "404": {"description": "No such published offer", **_ERROR},
            },
        }
    },
}
