"""GET /api/v1/stats: participation figures by group, small cells hidden (null, with the hidden figures named)."""
from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from ..accounts.access import is_staff_or_coordinator
from ..extensions import db
from ..main import error_response
from ..ratelimits import rate_limited
from ..reports import services
from ..reports.disclosure import MAX_PERTURBATION
from ..reports.stats import DIMENSIONS, FIGURES
from . import bp


@bp.route("/stats")
@rate_limited("export", methods=("GET",))
def stats():
    """Figures for a period (``from``/``to``) grouped by ``group_by``, with the dashboard's filters."""
    if not current_user.is_authenticated:
        return error_response(401)
    if not is_staff_or_coordinator(current_user):
        return error_response(403)
    services.require_dates(request.args)
    f = services.parse_filter(request.args, current_user)
    dims = services.parse_group_by(request.args.get("group_by"))
    statistics = services.statistics_for(current_user, f, leaves_system=True)
    rows = services.json_rows(statistics, dims, services.Labels())
    services.record_export("json", f, group_by=list(dims))
    db.session.commit()
    return jsonify({
        "from": f.start.isoformat(), "to": f.end.isoformat(), "group_by": list(dims),
        "filters": f.as_dict(), "small_cell_threshold": statistics.threshold,
        "max_perturbation": MAX_PERTURBATION if statistics.perturbed else 0,
        "note": services.disclosure_note(statistics), "rows": rows,
    })


_FIGURE_SCHEMA = {f: {"type": ["integer", "null"]} for f in FIGURES}
_FIGURE_SCHEMA.update({f: {"type": ["number", "null"]} for f in ("avg_per_session", "avg_with_dropins", "attendance_rate", "capacity_use")})

OPENAPI_SCHEMAS = {
    "StatsRow": {
        "type": "object",
        "description": "One group. A figure hidden by small-cell suppression is null and named in `suppressed`.",
        "properties": {
            **{d: {"type": ["integer", "string", "null"]} for d in DIMENSIONS},
            **{f"{d}_name": {"type": "string"} for d in DIMENSIONS},
            **_FIGURE_SCHEMA,
            "suppressed": {"type": "array", "items": {"type": "string", "enum": list(FIGURES)},
                           "description": "Figures hidden (null): small ones and those hidden to protect them"},
            "small": {"type": "array", "items": {"type": "string", "enum": list(FIGURES)},
                      "description": "The hidden figures that are themselves between 1 and the threshold minus one"},
        },
        "required": list(FIGURES) + ["suppressed", "small"],
    },
    "Stats": {
        "type": "object",
        "properties": {
            "from": {"type": "string", "format": "date"},
            "to": {"type": "string", "format": "date"},
            "group_by": {"type": "array", "items": {"type": "string", "enum": list(DIMENSIONS)}},
            "filters": {"type": "object"},
            "small_cell_threshold": {"type": "integer"},
            "max_perturbation": {"type": "integer",
                                 "description": "The most a released count differs from the exact one (the cell key method)"},
            "note": {"type": "string", "description": "What the numbers are, in one sentence"},
            "rows": {"type": "array", "items": {"$ref": "#/components/schemas/StatsRow"}},
        },
        "required": ["from", "to", "group_by", "rows"],
    },
}


def _param(name, description, schema=None, required=False):
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema or {"type": "string"}}


OPENAPI_PATHS = {
    "/stats": {
        "get": {
            "summary": "Participation figures by group (docs/metrics.md defines each figure)",
            "description": "Counts are released by the cell key method (docs/metrics.md): each is changed by a small "
            "fixed amount (at most max_perturbation) that depends only on the cell, so the same cell has the same value "
            "in every answer. Counts from 0 to the small-cell threshold minus one are null and named in `small`; a row "
            "with fewer young people behind it than the threshold has every figure of theirs null. Rates are computed "
            "from the released counts and rounded. Staff see their own institution only. Every call is audited.",
            "parameters": [
                _param("from", "First day (Europe/Copenhagen), YYYY-MM-DD", {"type": "string", "format": "date"}, True),
                _param("to", "Last day, inclusive", {"type": "string", "format": "date"}, True),
                _param("group_by", "Comma-separated, up to three of: " + ", ".join(DIMENSIONS)),
                _param("district", "District id", {"type": "integer"}),
                _param("institution", "Institution id", {"type": "integer"}),
                _param("focus_area", "Focus area id", {"type": "integer"}),
                _param("initiative", "Initiative id", {"type": "integer"}),
                _param("category", "Activity category"),
                _param("age_band", "u13, 13-15, 16-17 or 18-24 (at the session's date)"),
                _param("gender", "pige, dreng, andet or uoplyst"),
            ],
            "responses": {
                "200": {"description": "One row per group", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Stats"}}}},
                "400": {"description": "Bad period, filter or group_by", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "401": {"description": "Not authenticated", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "403": {"description": "Not staff or coordinator, or another institution",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        }
    }
}
