"""API authentication, JSON errors and the OpenAPI document."""
from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import current_app, g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user, login_user
from sqlalchemy import select

from ..accounts.models import ApiToken, TokenScope
from ..db_types import utcnow
from ..errors import DomainError
from ..extensions import csrf, db
from ..main import error_response
from . import bp
from .openapi import build_document

csrf.exempt(bp)


def allow_token_scope(*scopes: TokenScope):
    """Let tokens of ``scopes`` (besides ``full``) use this endpoint; every other endpoint is ``full`` only."""

    def decorator(view):
        view.token_scopes = frozenset({TokenScope.FULL, *scopes})
        return view

    return decorator


def _scope_allows(token) -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return token.scope in getattr(view, "token_scopes", {TokenScope.FULL})


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _bearer_user():
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    secret = header[7:].strip()
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    now = utcnow()
    if token is None or token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
        return False
    if not token.user.active:
        return False
    return token


@bp.before_request
def authenticate():
    """Bearer token, else the session cookie with a CSRF header on unsafe methods."""
    g.api_token = None
    token = _bearer_user()
    if token is False:
        return error_response(401, "invalid_token")
    if token is not None:
        if not _scope_allows(token):
            return error_response(403, "insufficient_scope", _("Denne API-nøgle må ikke bruges til dette."))
        login_user(token.user, remember=False, fresh=False)
        # at most one write a minute per token, so busy scanners do not queue on this row
        if token.last_used_at is None or utcnow() - token.last_used_at > timedelta(minutes=1):
            token.last_used_at = utcnow()
            g.api_token_touched = True
        g.api_token = token
        g.login_via_token = True
        return None
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()
    return None


@bp.after_request
def _no_session_for_token(response):
    # a bearer-authenticated request must not hand out a session cookie
    if getattr(g, "login_via_token", False):
        from flask import session

        session.clear()
        g.pop("_login_user", None)
        if g.pop("api_token_touched", False) and response.status_code < 400:
            db.session.commit()  # last_used_at, when the view itself wrote nothing
    return response


@bp.errorhandler(DomainError)
def domain_error(err: DomainError):
    db.session.rollback()
    return jsonify({"error": err.to_dict()}), err.status


def json_body() -> dict:
    """The request's JSON object, or a 400 with a clear code."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise DomainError("Forventede et JSON-objekt.", "malformed_json", status=400)
    return data


@bp.route("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document for this API."""
    return jsonify(build_document())


@bp.route("/me")
@allow_token_scope(TokenScope.CHECKIN)
def me():
    """Who the API sees you as."""
    if not current_user.is_authenticated:
        return error_response(401)
    return jsonify(
        {
            "id": current_user.id,
            "name": current_user.name,
            "roles": sorted({str(m.role) for m in current_user.memberships}),
            "institution_ids": sorted(current_user.institution_ids()),
            "is_youth": current_user.is_youth,
        }
    )
