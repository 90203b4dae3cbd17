"""Named rate-limit policies against brute force and abuse (Flask-Limiter).

Views declare which policy guards them with ``@rate_limited("login")``; the numbers live
in ``RATELIMITS`` in the config. Counts are kept in Redis when ``REDIS_URL`` is set (so
every worker and instance shares them), in memory otherwise. A limit only ever delays:
no account is locked out for good.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time

from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits.storage import MemoryStorage, Storage, storage_from_string

from .extensions import limiter
from .mfa.login import pending_user_id

log = logging.getLogger(__name__)

#: policy -> {"ip": limits per client address, "account": limits per account (optional)}
DEFAULT_RATELIMITS = {
    "login": {"ip": "20 per minute;100 per hour", "account": "5 per minute;30 per hour"},
    #: asking for a reset mail: per account the e-mail typed
    "password_reset": {"ip": "5 per minute;20 per hour", "account": "3 per hour"},
    #: per account: the e-mail typed, so one address gets at most a few registration mails; per
    #: address room for a club's or a class's young people registering together on one network
    "registration": {"ip": "30 per minute;200 per hour", "account": "5 per hour"},
    #: following a mailed link (confirming a registration, choosing a new password): its secret
    #: cannot be guessed, so the limits only cap one link's and one address's use, never a
    #: club's young people confirming on the same network (per account: the link itself)
    "link": {"ip": "30 per minute;300 per hour", "account": "10 per hour"},
    "signup": {"ip": "30 per minute", "account": "20 per minute"},
    "checkin": {"ip": "600 per minute", "account": "600 per minute"},
    "export": {"ip": "20 per minute", "account": "30 per hour"},
    #: wherever the current password is asked again (password change, closing an account, a new API token)
    "current_password": {"ip": "20 per minute", "account": "5 per minute;20 per hour"},
    #: the statistics page and the action-plan report: enough to click through filters, not to harvest
    "dashboard": {"ip": "30 per minute", "account": "20 per minute;300 per day"},
    # the second step of log-in: a 6-digit code has a million values, three of them valid at once
    "mfa": {"ip": "20 per minute;100 per hour", "account": "5 per minute;20 per hour"},
}


class RedisWithMemoryFallback(Storage):
    """Redis, and this worker's memory while Redis is away: every named limit keeps counting.

    Flask-Limiter's own fallback swaps the named limits for one coarse limit per worker; this
    storage keeps them, counted in memory (per worker, so looser than shared counts, but never
    off). The outage is logged as an error once, and Redis is tried again every RETRY seconds.
    Used as ``fallback+redis://…`` (``security.init_app`` rewrites ``redis://`` to it).
    """

    STORAGE_SCHEME = ["fallback+redis", "fallback+rediss"]
    #: seconds between attempts to reach Redis again while it is away
    RETRY = 10.0

    def __init__(self, uri: str, **options):
        super().__init__(uri, **options)
        self.primary = storage_from_string(uri.split("fallback+", 1)[1], **options)
        self.memory = MemoryStorage()
        self._down_since: float | None = None
        self._lock = threading.Lock()

    @property
    def base_exceptions(self):
        return self.primary.base_exceptions

    @property
    def degraded(self) -> bool:
        return self._down_since is not None

    def _call(self, name: str, *args, **kwargs):
        if self._down_since is not None and time.monotonic() - self._down_since < self.RETRY:
            return getattr(self.memory, name)(*args, **kwargs)
        try:
            value = getattr(self.primary, name)(*args, **kwargs)
        except Exception as err:  # any Redis failure: connection, timeout, auth
            with self._lock:
                if self._down_since is None:
                    log.error("RATE-LIMIT STORAGE DOWN: Redis unreachable (%s); the named limits are counted "
                              "in this worker's memory until it answers again", type(err).__name__)
                self._down_since = time.monotonic()
            return getattr(self.memory, name)(*args, **kwargs)
        if self._down_since is not None:
            with self._lock:
                if self._down_since is not None:
                    log.warning("rate-limit storage: Redis answers again; counting there")
                    self._down_since = None
        return value

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self._call("incr", key, expiry, amount=amount)

    def get(self, key: str) -> int:
        return self._call("get", key)

    def get_expiry(self, key: str) -> float:
        return self._call("get_expiry", key)

    def check(self) -> bool:
        # Flask-Limiter asks before using its own coarse fallback: the memory always answers
        return True

    def reset(self) -> int | None:
        self.memory.reset()
        return self._call("reset")

    def clear(self, key: str) -> None:
        self.memory.clear(key)
        return self._call("clear", key)


def storage_degraded() -> bool:
    """Is the rate-limit store away (the limits counted in memory)?"""
    storage = getattr(limiter, "_storage", None)
    return bool(getattr(storage, "degraded", False))


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
    if not email:
        return f"ip:{get_remote_address()}"
    # the key sits in Redis for the limit's window: an HMAC, never the address typed
    digest = hmac.new(str(current_app.secret_key).encode(), email.encode(), hashlib.sha256).hexdigest()[:32]
    return f"email:{digest}"


def _link_key() -> str:
    """The mailed link an attempt follows (its secret from the URL, as an HMAC like the e-mails)."""
    secret = str((request.view_args or {}).get("token") or "")
    if not secret:
        return _account_key()
    digest = hmac.new(str(current_app.secret_key).encode(), secret.encode(), hashlib.sha256).hexdigest()[:32]
    return f"link:{digest}"


def _second_step_key() -> str:
    """Between password and code: the account whose password was given (else as ``_account_key``)."""
    pending = pending_user_id()
    return f"user:{pending}" if pending is not None else _account_key()


#: policies whose account is found another way than ``_account_key``
ACCOUNT_KEYS = {"mfa": _second_step_key, "link": _link_key}


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
