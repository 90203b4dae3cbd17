"""The state between the password and the code.

After the password, the session holds only ``PENDING`` (who, since when, where to go next):
Flask-Login does not see anyone, so nothing treats the visitor as logged in. The code
step calls ``complete_login``, which starts a fresh session, logs the user in and marks
it ``VERIFIED``; a logged-in session without that mark (a remember cookie, a role granted
meanwhile) is sent back through the second step by the gate in ``views.py``.
"""
from __future__ import annotations

import time

from flask import current_app, session
from flask_login import login_user

from ..accounts.auth import fresh_session
from ..accounts.models import User
from ..extensions import db

PENDING = "_mfa_pending"
VERIFIED = "_mfa_user"


def start_pending(user, next_url: str | None) -> None:
    """The password was right; the second step comes next (call after ``fresh_session``)."""
    session[PENDING] = {"id": user.get_id(), "at": time.time(), "next": next_url}


def _pending() -> dict | None:
    state = session.get(PENDING)
    return state if isinstance(state, dict) else None


def pending_user_id() -> int | None:
    """The account the second step is about (for the per-account rate limit), without a query."""
    state = _pending()
    try:
        return int(str(state["id"]).split(":", 1)[0]) if state else None
    except (KeyError, ValueError):
        return None


def pending_user():
    """The user who gave the right password a moment ago, or None (nothing pending, expired, logged out meanwhile)."""
    state = _pending()
    if state is None:
        return None
    ttl = current_app.config["MFA_PENDING_TTL"].total_seconds()
    started = state.get("at")
    if not isinstance(started, (int, float)) or time.time() - started > ttl:
        session.pop(PENDING, None)
        return None
    try:
        user_id, version = (int(part) for part in str(state.get("id")).split(":", 1))
    except ValueError:
        session.pop(PENDING, None)
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        session.pop(PENDING, None)
        return None
    return user


def pending_next() -> str | None:
    state = _pending()
    return state.get("next") if state else None


def complete_login(user) -> str | None:
    """Both factors are in: a fresh session, logged in and marked verified. Returns where to go next."""
    next_url = pending_next()
    fresh_session()
    login_user(user)
    mark_verified(user)
    return next_url


def mark_verified(user) -> None:
    session[VERIFIED] = user.id


def is_verified(user) -> bool:
    return session.get(VERIFIED) == user.id
