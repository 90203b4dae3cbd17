"""Check-in API: one scan, and a batch from a scanner's offline queue.

``POST /sessions/<id>/checkins`` answers 201 for a new attendance, 200 with the original
time for a repeat (same nonce, or the young person is already in), 422 with a machine
code for a refused scan, 400 for malformed input, 403 for staff of another institution.
``POST /checkins/batch`` takes the same items (each with its session) and answers one
result per item; sending the same batch again changes nothing.
"""
from __future__ import annotations

from datetime import UTC, datetime

from flask import jsonify, request
from flask_login import current_user

from ..accounts.access import can_see_youth, works_at
from ..accounts.models import TokenScope, YouthProfile
from ..activities.models import Session
from ..attendance import services
from ..database import is_db_id, reads_first
from ..errors import DomainError
from ..extensions import db
from ..main import error_response
from ..ratelimits import rate_limited
from . import bp
from .core import allow_token_scope

MAX_BATCH = services.MAX_BATCH
#: a device time outside these years is a broken clock, not a scan (near year 1 or 9999 there is not even
#: a UTC or local time for it, and a refusal kept with it could not be shown on the session's pages)
EARLIEST_SCAN, LATEST_SCAN = 2000, 2100


class BadInput(DomainError):
    status = 400


def _require_staff():
    if not current_user.is_authenticated:
        return error_response(401)
    if not current_user.is_staff_member:
        return error_response(403)
    return None


def _parse_item(item) -> dict:
    """Validate one scan: token (or youth_id for a manual check-in), nonce, optional scanned_at."""
    if not isinstance(item, dict):
        raise BadInput("Hvert element skal være et JSON-objekt.", "malformed_json")
    token, youth_id = item.get("token"), item.get("youth_id")
    if token is None and youth_id is None:
        raise BadInput("token mangler.", "missing_token")
    if token is not None and (not isinstance(token, str) or not token.strip() or len(token) > 200):
        raise BadInput("token skal være en tekst.", "invalid_token")
    if youth_id is not None and not is_db_id(youth_id):
        raise BadInput("youth_id skal være et tal.", "invalid_youth_id")
    nonce = item.get("nonce")
    if not isinstance(nonce, str) or not (8 <= len(nonce) <= 64):
        raise BadInput("nonce skal være en tekst på 8–64 tegn (et UUID).", "invalid_nonce")
    scanned_at = item.get("scanned_at")
    if scanned_at is not None:
        if not isinstance(scanned_at, str):
            raise BadInput("scanned_at skal være ISO 8601.", "invalid_scanned_at")
        try:
            scanned_at = datetime.fromisoformat(scanned_at.replace("Z", "+00:00"))
        except ValueError:
            raise BadInput("scanned_at skal være ISO 8601.", "invalid_scanned_at") from None
        if scanned_at.tzinfo is None:
            raise BadInput("scanned_at skal have en tidszone.", "invalid_scanned_at")
        try:
            scanned_at = scanned_at.astimezone(UTC)  # a time near year 1 or 9999 has no UTC
        except OverflowError:
            scanned_at = None
        if scanned_at is None or not EARLIEST_SCAN <= scanned_at.year <= LATEST_SCAN:
            raise BadInput(f"scanned_at skal ligge mellem år {EARLIEST_SCAN} og {LATEST_SCAN}.", "invalid_scanned_at")
    override = item.get("override_age", False)
    if not isinstance(override, bool):
        raise BadInput("override_age skal være true eller false.", "invalid_override")
    reason = item.get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 500):
        raise BadInput("reason skal være en tekst på højst 500 tegn.", "invalid_reason")
    return {"token": token.strip() if token else None, "youth_id": youth_id, "nonce": nonce,
            "scanned_at": scanned_at, "override_age": override, "reason": reason}


#: a scan of nothing: what ``_scan_for`` reads to answer 404/403 before a malformed scan's 400
NO_SCAN = {"token": None, "youth_id": None, "nonce": None}


def _scan_for(session_id, item: dict) -> services.Scan:
    """The scan's facts in one statement (``services.read_scan``); 404 for no session, 403 for another institution."""
    scan = services.read_scan(session_id, token=item["token"], youth_id=item["youth_id"], nonce=item["nonce"]) \
        if is_db_id(session_id) else None
    if scan is None:
        raise DomainError("Gangen findes ikke.", "not_found", status=404)
    if not works_at(current_user, scan.session.activity.institution_id):
        raise DomainError("Du har ikke adgang til denne gang.", "forbidden", status=403)
    if item["youth_id"] is not None and not can_see_youth(current_user, db.session.get(YouthProfile, item["youth_id"])):
        raise DomainError("Den unge findes ikke.", "not_found", status=404)
    return scan


def _perform(session_id, item: dict, *, offline: bool) -> tuple[dict, int]:
    scan = _scan_for(session_id, item)
    result = services.record_scan(
        scan, item["token"], nonce=item["nonce"], scanned_at=item["scanned_at"], by_user=current_user,
        offline=offline, override_age=item["override_age"], manual=item["youth_id"] is not None,
        reason=item["reason"],
    )
    a = result.attendance
    body = {
        "result": "checked_in" if result.created else "already_checked_in",
        "attendance": {
            "id": a.id,
            "session_id": a.session_id,
            "scanned_at": a.scanned_at.isoformat(),
            "method": str(a.method),
            "drop_in": a.drop_in,
            "age_override": a.age_override,
        },
        "youth": {"id": a.youth.id, "first_name": a.youth.first_name,
                  "age": a.youth.age_on(services.session_day(scan.session))},
    }
    return body, 201 if result.created else 200


@bp.route("/sessions/<int:session_id>/checkins", methods=["POST"])
@reads_first
@allow_token_scope(TokenScope.CHECKIN)
@rate_limited("checkin")
def session_checkin(session_id: int):
    """Check one scanned pass in. No live count in the answer: the scanner counts its own check-ins."""
    denied = _require_staff()
    if denied:
        return denied
    data = request.get_json(silent=True)
    try:
        if not isinstance(data, dict):
            raise BadInput("Forventede et JSON-objekt.", "malformed_json")
        item = _parse_item(data)
    except BadInput:
        _scan_for(session_id, NO_SCAN)  # no such session, or another institution's, comes first
        raise
    try:
        body, status = _perform(session_id, item, offline=False)
    except services.CheckinError:
        # a refusal the service kept (a scan held on the device, as from a queue) stays, and its nonce with it
        db.session.commit()
        raise
    db.session.commit()
    return jsonify(body), status


@bp.route("/checkins/batch", methods=["POST"])
@allow_token_scope(TokenScope.CHECKIN)
@rate_limited("checkin")
def checkin_batch():
    """Check in the scans an offline scanner queued; one result per item, safe to send again."""
    denied = _require_staff()
    if denied:
        return denied
    data = request.get_json(silent=True)
    items = data.get("items") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise BadInput("Forventede en liste af scanninger (items).", "malformed_json")
    if len(items) > MAX_BATCH:
        raise BadInput(f"Højst {MAX_BATCH} scanninger ad gangen.", "batch_too_large")
    results: list[dict | None] = [None] * len(items)
    # sessions in a fixed order, so two batches never wait on each other's locks in a circle
    order = sorted(range(len(items)), key=lambda i: (str(_get(items[i], "session_id")), i))
    sessions: dict[int, int] = {}
    for i in order:
        raw = items[i]
        nonce = _get(raw, "nonce")
        try:
            item = _parse_item(raw)
            session_id = _get(raw, "session_id")
            if not is_db_id(session_id):
                raise BadInput("session_id skal være et tal." if session_id is not None else "session_id mangler.",
                               "invalid_session_id")
            savepoint = db.session.begin_nested()
            try:
                body, status = _perform(session_id, item, offline=True)
            except DomainError:
                # keep the ScanConflict the service recorded, drop anything half-done
                savepoint.commit()
                raise
            savepoint.commit()
            sessions[session_id] = session_id
            results[i] = {"nonce": nonce, "status": status, **body}
        except DomainError as err:
            results[i] = {"nonce": nonce, "status": err.status, "error": err.to_dict()}
    counts = {str(sid): services.checked_in_count(db.session.get_one(Session, sid)) for sid in sessions}
    db.session.commit()
    return jsonify({"results": results, "checked_in_counts": counts}), 200


def _get(raw, key):
    return raw.get(key) if isinstance(raw, dict) else None


_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_RESULT = {"application/json": {"schema": {"$ref": "#/components/schemas/CheckinResult"}}}

OPENAPI_SCHEMAS = {
    "CheckinRequest": {
        "type": "object",
        "required": ["nonce"],
        "properties": {
            "token": {"type": "string", "description": "The opaque token in the young person's QR pass"},
            "youth_id": {"type": "integer", "description": "Instead of token: a young person found by name"},
            "nonce": {"type": "string", "minLength": 8, "maxLength": 64,
                      "description": "A UUID the scanner makes per scan; a retry with the same nonce changes nothing"},
            "scanned_at": {"type": "string", "format": "date-time", "description": "When it was scanned (ISO 8601)"},
            "override_age": {"type": "boolean", "default": False,
                             "description": "Staff let someone outside the age range in"},
            "reason": {"type": "string", "maxLength": 500,
                       "description": "Why a scan older than the 24-hour correction window is recorded now"},
        },
    },
    "CheckinResult": {
        "type": "object",
        "properties": {
            "result": {"type": "string", "enum": ["checked_in", "already_checked_in"]},
            "attendance": {"type": "object", "properties": {
                "id": {"type": "integer"}, "session_id": {"type": "integer"},
                "scanned_at": {"type": "string", "format": "date-time"},
                "method": {"type": "string", "enum": ["qr", "manual", "offline"]},
                "drop_in": {"type": "boolean"}, "age_override": {"type": "boolean"}}},
            "youth": {"type": "object", "properties": {
                "id": {"type": "integer"}, "first_name": {"type": "string"}, "age": {"type": "integer"}}},
        },
    },
}

OPENAPI_PATHS = {
    "/sessions/{session_id}/checkins": {
        "post": {
            "summary": "Check a scanned pass in to a session",
            "parameters": [{"name": "session_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/CheckinRequest"}}}},
            "responses": {
                "201": {"description": "Checked in: a new attendance", "content": _RESULT},
                "200": {"description": "A repeat (same nonce, or already checked in): the original attendance",
                        "content": _RESULT},
                "400": {"description": "Malformed input", "content": _ERROR},
                "401": {"description": "Not authenticated", "content": _ERROR},
                "403": {"description": "Not staff of the session's institution", "content": _ERROR},
                "404": {"description": "No such session", "content": _ERROR},
                "409": {"description": "The nonce was used for another scan (nonce_conflict: another session or another "
                        "young person), or the session "
                        "changed while the scan was decided (session_changed: send it again)", "content": _ERROR},
                "422": {"description": "Refused: unknown_token, revoked_token, not_signed_up, waitlisted, "
                                       "outside_age, session_cancelled, session_not_now (outside the session's "
                                       "check-in window), reason_required (scanned more than 24 hours ago, "
                                       "no reason) or scanned_in_future", "content": _ERROR},
            },
        }
    },
    "/checkins/batch": {
        "post": {
            "summary": "Check in the scans of an offline queue",
            "description": "Each item is accepted as having happened at scanned_at and flagged offline; "
                           "refusals are kept for staff as scan conflicts. Safe to send again.",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["items"],
                "properties": {"items": {"type": "array", "maxItems": MAX_BATCH, "items": {
                    "allOf": [{"$ref": "#/components/schemas/CheckinRequest"},
                              {"type": "object", "required": ["session_id"],
                               "properties": {"session_id": {"type": "integer"}}}]}}}}}}},
            "responses": {
                "200": {"description": "One result per item, in order: {nonce, status, ...result or error}",
                        "content": {"application/json": {"schema": {"type": "object", "properties": {
                            "results": {"type": "array", "items": {"type": "object"}},
                            "checked_in_counts": {"type": "object"}}}}}},
                "400": {"description": "Malformed input", "content": _ERROR},
                "401": {"description": "Not authenticated", "content": _ERROR},
                "403": {"description": "Not staff", "content": _ERROR},
            },
        }
    },
}
