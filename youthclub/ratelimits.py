"""Named rate-limit policies against brute force and abuse (Flask-Limiter).

Views declare which policy guards them with ``@rate_limited("login")``; the numbers live
in ``RATELIMITS`` in the config. Counts are kept in Redis when ``REDIS_URL`` is set (so
every worker and instance shares them), in memory otherwise. A limit only ever delays:
no account is locked out for good.
"""
from __future__ import annotations

from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

from .extensions import limiter
from .mfa.login import pending_user_id

#: policy -> {"ip": limits per client address, "account": limits per account (optional)}
DEFAULT_RATELIMITS = {
    "login": {"ip": "20 per minute;100 per hour", "account": "5 per minute;30 per hour"},
    "password_reset": {"ip": "5 per minute;20 per hour", "account": "3 per hour"},
    "registration": {"ip": "10 per hour"},
    "signup": {"ip": "30 per minute", "account": "20 per minute"},
    "checkin": {"ip": "600 per minute", "account": "600 per minute"},
    "export": {"ip": "20 per minute", "account": "30 per hour"},
    #: the statistics page and the action-plan report: enough to click through filters, not to harvest
    "dashboard": {"ip": "30 per minute", "account": "20 per minute;300 per day"},
    # the second step of log-in: a 6-digit code has a million values, three of them valid at once
    "mfa": {"ip": "20 per minute;100 per hour", "account": "5 per minute;20 per hour"},
}


def _limits(policy: str, kind: str) -> str:
    table = current_app.config.get("RATELIMITS") or DEFAULT_RATELIMITS
    return (table.get(policy) or DEFAULT_RATELIMITS[policy]).get(kind) or DEFAULT_RATELIMITS[policy].get(kind, "")


def _account_key() -> str:
    """The account an attempt is about: the logged-in user, or the e-mail typed into the form."""
    if getattr(current_user, "is_authenticated", False):
        return f"user:{current_user.id}"
    email = (request.form.get("email") or "").strip().lower()
    if not email and request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            email = str(body.get("email") or "").strip().lower()
    return f"email:{email}" if email else f"ip:{get_remote_address()}"


def _second_step_key() -> str:
    """Between password and code: the account whose password was given (else as ``_account_key``)."""
    pending = pending_user_id()
    return f"user:{pending}" if pending is not None else _account_key()


#: policies whose account is found another way than ``_account_key``
ACCOUNT_KEYS = {"mfa": _second_step_key}


def rate_limited(policy: str, methods=("POST", "PUT", "PATCH", "DELETE")):
    """Guard a view with the named policy, per client address and per account."""
    if policy not in DEFAULT_RATELIMITS:
        raise KeyError(f"unknown rate-limit policy {policy!r}")
    methods = list(methods)

    def decorator(view):
        view = limiter.shared_limit(
            lambda: _limits(policy, "ip"), scope=f"{policy}:ip", key_func=get_remote_address, methods=methods
        )(view)
        if DEFAULT_RATELIMITS[policy].get("account"):
            view = limiter.shared_limit(
                lambda: _limits(policy, "account"), scope=f"{policy}:account",
                key_func=ACCOUNT_KEYS.get(policy, _account_key), methods=methods
            )(view)
        return view

    return decorator
