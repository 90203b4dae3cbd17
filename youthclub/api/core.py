"""API authentication, JSON errors and the OpenAPI document."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from flask import current_app, g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import ColumnElement, bindparam, or_, select, update

from ..accounts.models import ApiToken, Membership, Role, RolesMixin, TokenScope, User, YouthProfile
from ..database import locking_enabled, write_aside
from ..db_types import utcnow
from ..errors import DomainError
from ..extensions import csrf, db
from ..main import error_response
from ..mfa import services as mfa_services
from . import bp
from .openapi import build_document
from .principals import TokenRow, current_tag, principals

csrf.exempt(bp)


def allow_token_scope(*scopes: TokenScope):
    """Let tokens of ``scopes`` (besides ``full``) use this endpoint; every other endpoint is ``full`` only."""

    def decorator(view):
        view.token_scopes = frozenset({TokenScope.FULL, *scopes})
        return view

    return decorator


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenMembership(NamedTuple):
    role: Role
    institution_id: int | None


class TokenUser(RolesMixin):
    """The user behind a bearer token, as one statement read it for this request.

    Enough for the door (id, name, roles, institutions) without loading the user through the
    ORM; anything else (``youth_profile``, ``email``…) comes from the ``User`` row, loaded the
    first time it is asked for. Built afresh for every request, so a revoked token, a
    deactivated user or a removed role is refused from the next request on.
    """

    is_authenticated = True
    is_anonymous = False

    def __init__(self, user_id: int, name: str, session_version: int, youth_id: int | None,
                 memberships: tuple[TokenMembership, ...]):
        self.id = user_id
        self.name = name
        self.session_version = session_version
        self.youth_id = youth_id
        self.memberships = memberships
        self._user: User | None = None

    @property
    def is_active(self) -> bool:
        return True  # an inactive user's token is refused before this is made

    @property
    def is_youth(self) -> bool:
        return self.youth_id is not None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def youth_profile(self) -> YouthProfile | None:
        # a young person's own token (sign-ups): their profile alone, not the user with it
        return db.session.get(YouthProfile, self.youth_id) if self.youth_id is not None else None

    @property
    def user(self) -> User | None:
        """The ``User`` row, loaded the first time it is asked for (None if it is gone meanwhile)."""
        if self._user is None:
            self._user = db.session.get(User, self.id)
        return self._user

    def __getattr__(self, name):
        # only reached for what the principal does not hold itself
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.user, name)


@dataclass(frozen=True)
class BearerToken:
    id: int
    scope: TokenScope
    last_used_at: datetime | None
    user: TokenUser
    #: what it was resolved from (kept by this worker: its last use is brought up to date there)
    row: TokenRow


def _token_statement():
    """Token, user, roles and own profile of a token hash: one statement, one row per role."""
    from ..mfa.models import TotpFactor

    return (
        select(ApiToken.id, ApiToken.scope, ApiToken.expires_at, ApiToken.revoked_at, ApiToken.last_used_at,
               User.id, User.name, User.active, User.session_version, YouthProfile.id,
               ApiToken.created_at, TotpFactor.confirmed_at,
               Membership.role, Membership.institution_id)
        .join(User, User.id == ApiToken.user_id)
        .outerjoin(YouthProfile, YouthProfile.user_id == User.id)
        .outerjoin(TotpFactor, TotpFactor.user_id == User.id)
        .outerjoin(Membership, Membership.user_id == User.id)
        .where(ApiToken.token_hash == bindparam("token_hash"))
    )


_TOKEN = _token_statement()


def _read_token(token_hash: str) -> TokenRow | None:
    """The token statement's answer for ``token_hash``, its rows (one per role) folded into one."""
    rows = db.session.connection().execute(_TOKEN, {"token_hash": token_hash}).all()
    if not rows:
        return None
    (token_id, scope, expires_at, revoked_at, last_used_at, user_id, name, active, version, youth_id,
     created_at, factor_confirmed_at) = rows[0][:12]
    return TokenRow(token_id, scope, expires_at, revoked_at, last_used_at, user_id, name, active, version, youth_id,
                    created_at, factor_confirmed_at, tuple((r[12], r[13]) for r in rows if r[12] is not None))


def _bearer_user():
    """The request's bearer token (None without one, False for one that does not work now).

    What the token resolves to comes from this worker's ``principals`` while no write has
    changed any principal since it was read (``principals.current_tag``); the checks run on
    every request.
    """
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    token_hash = hash_token(header[7:].strip())
    kept = principals()
    tag = current_tag()
    row = kept.get(token_hash, tag)
    if row is None:
        row = _read_token(token_hash)
        if row is None:
            return False
        kept.put(token_hash, tag, row)
    if row.revoked_at is not None or (row.expires_at and row.expires_at <= utcnow()) or not row.active:
        return False
    memberships = tuple(TokenMembership(role, institution_id) for role, institution_id in row.memberships)
    user = TokenUser(row.user_id, row.name, row.session_version, row.youth_id, memberships)
    if not mfa_services.token_made_under_second_factor(user, row.created_at, row.factor_confirmed_at):
        return False
    return BearerToken(row.token_id, row.scope, row.last_used_at, user, row)


def _scope_allows(token) -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return token.scope in getattr(view, "token_scopes", {TokenScope.FULL})


#: a token's last use is written at most this often, so busy scanners do not queue on its row
LAST_USED_EVERY = timedelta(minutes=1)


def _touch_token(token_id: int, now: datetime) -> None:
    """Write the token's last use, unless another request of it is writing it right now.

    Conditional, so of the scanners that saw an old time only the first writes; on PostgreSQL
    the others skip the row it has locked instead of waiting for its commit.
    """
    stale: ColumnElement[bool] = (ApiToken.id == token_id) & or_(
        ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - LAST_USED_EVERY)
    if db.session.get_bind().dialect.name == "postgresql" and locking_enabled():
        stale = ApiToken.id.in_(select(ApiToken.id).where(stale).with_for_update(skip_locked=True))
    write_aside(update(ApiToken).where(stale).values(last_used_at=now).execution_options(synchronize_session=False))


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
        # the principal for this request only: no session is written (none is handed out), and
        # Flask-Login's current_user reads it from here
        g._login_user = token.user
        now = utcnow()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_EVERY:
            _touch_token(token.id, now)
            token.row.last_used_at = now  # this worker need not write it again within the minute
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

        if session:  # a cookie came along with the token: the token's answer ends that session
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
