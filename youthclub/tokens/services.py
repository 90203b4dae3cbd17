"""Creating, listing and revoking personal API tokens. The secret is shown once and stored hashed."""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from ..accounts.models import ApiToken, TokenScope  # TokenScope: callers choose one
from ..audit.services import record_event
from ..db_types import utcnow
from ..errors import DomainError
from ..extensions import db

#: the visible start of every token, so a leaked one is easy to recognise
SECRET_PREFIX = "yc_"
MAX_ACTIVE_TOKENS = 20
#: the longest a token may be made to last
MAX_TOKEN_DAYS = 366


class TokenError(DomainError):
    pass


def hash_secret(secret: str) -> str:
    from ..api.core import hash_token

    return hash_token(secret)


def create_token(user, name: str, *, scope: TokenScope | str = TokenScope.FULL,
                 days: int | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user`` that works for ``days`` (``API_TOKEN_DAYS`` by default); returns the row
    and the secret (shown to the user once)."""
    name = (name or "").strip()[:100]
    if not name:
        raise TokenError(_("Giv nøglen et navn."), "name_required")
    try:
        scope = TokenScope(scope)
    except ValueError:
        raise TokenError(_("Ukendt omfang for nøglen."), "invalid_scope") from None
    days = current_app.config["API_TOKEN_DAYS"] if days is None else days
    if not isinstance(days, int) or not 1 <= days <= MAX_TOKEN_DAYS:
        raise TokenError(_("En nøgle kan virke i 1–%(n)d dage.", n=MAX_TOKEN_DAYS), "invalid_days")
    from ..mfa import services as mfa

    if mfa.is_required(user) and mfa.confirmed_factor(user) is None:
        # it would not work (api/core.py): a password alone opens nothing for this role
        raise TokenError(_("Slå to-trins-login til, før du laver en nøgle."), "mfa_required")
    if len(active_tokens(user)) >= MAX_ACTIVE_TOKENS:
        raise TokenError(_("Du har for mange aktive nøgler. Tilbagekald en først."), "too_many_tokens")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_secret(secret), prefix=secret[:10],
                     expires_at=utcnow() + timedelta(days=days), scope=scope)
    db.session.add(token)
    db.session.flush()
    record_event("api_token.create", token, user=user, scope=str(scope), days=days)
    return token, secret


def active_tokens(user) -> list[ApiToken]:
    now = utcnow()
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).order_by(ApiToken.created_at)
    ).all()
    return [t for t in tokens if t.expires_at is None or t.expires_at > now]


def revoke_token(token: ApiToken, by_user) -> None:
    """Stop a token from working, at once."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record_event("api_token.revoke", token, user=by_user)
        db.session.flush()


def revoke_all_tokens(user, by_user=None) -> int:
    """Stop every token of ``user`` from working, at once (with their sessions: password change,
    deactivation, log-out everywhere, leaving an institution); returns how many."""
    tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))).all()
    for token in tokens:
        revoke_token(token, by_user or user)
    return len(tokens)
