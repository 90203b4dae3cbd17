"""Protection that applies to every route, including routes added later.

- Security headers on every response: a Content-Security-Policy without inline script,
  ``nosniff``, a Referrer-Policy, framing refused, HSTS in production, and
  ``Cache-Control: no-store`` on everything that is not a static file (pages hold
  personal data, CSRF tokens, or both).
- Session limits: staff, coordinator and admin sessions end after ``STAFF_SESSION_IDLE``
  without a request and ``STAFF_SESSION_MAX`` after log-in; young people keep theirs up to
  ``YOUTH_SESSION_MAX`` (their own phone). Each log-in gets a new session identifier.
  Log-out, password change and deactivation end every session on the server through
  ``User.session_version`` (accounts/auth.py refuses older cookies).
- Log redaction: no log record carries an e-mail address, a bearer or pass token, a
  secret in a query string, or SQL parameters (where names would show).
"""
from __future__ import annotations

import logging
import os
import re
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from flask_login import current_user, logout_user, user_logged_in

from .ratelimits import RedisWithMemoryFallback

CSP = (
    "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'; img-src 'self' data: blob:; "
    # the scanner: qr-scanner's decoder runs in a Web Worker made from a Blob, the camera is a MediaStream
    "worker-src 'self' blob:; media-src 'self' blob: mediastream:"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # reset and claim links carry secrets in their URL: never send it to another site
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    # the scanner needs the camera on our own pages, nothing else needs any of these
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=(), payment=(), usb=()",
}
HSTS = "max-age=31536000; includeSubDomains"

#: session keys: when this log-in happened, when the session was last used, its identifier
AUTH_AT, SEEN_AT, SESSION_ID = "_auth_at", "_seen_at", "_sid"
#: the last-seen time is rewritten at most this often (seconds), to spare a cookie per request
SEEN_RESOLUTION = 60


#: JSON nested deeper than this is refused before it is parsed (nothing the API takes nests past 5)
MAX_JSON_DEPTH = 32


def _nesting_depth(text: str) -> int:
    """The deepest bracket nesting in a JSON text, not counting brackets inside strings."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _has_lone_surrogate(value) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


class SafeJSONProvider(DefaultJSONProvider):
    """Request JSON that cannot be stored or would exhaust the stack is invalid JSON (a 400), not a 500:
    nesting deeper than MAX_JSON_DEPTH, and lone surrogates (``"\\ud800"``), which are no text."""

    def loads(self, s, **kwargs):
        text = s.decode("utf-8", "replace") if isinstance(s, bytes | bytearray) else s
        if _nesting_depth(text) > MAX_JSON_DEPTH:
            raise ValueError("JSON nested too deeply")
        value = super().loads(s, **kwargs)
        if _has_lone_surrogate(value):
            raise ValueError("JSON holds a lone surrogate")
        return value


def init_app(app: Flask) -> None:
    """Wire every protection into ``app``; call before the database is set up."""
    app.json = SafeJSONProvider(app)
    # SQL parameters (names, e-mails) never appear in error messages or logs
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"hide_parameters": True, **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {})}
    app.config.setdefault("REMEMBER_COOKIE_DURATION", app.config.get("YOUTH_SESSION_MAX", timedelta(days=90)))
    if app.config.get("SESSION_COOKIE_SECURE"):
        # __Host-: only over HTTPS, only for this host, path /
        app.config.setdefault("REMEMBER_COOKIE_NAME", "__Host-remember")
        app.config.setdefault("HSTS_ENABLED", True)
        if not app.config.get("TRUSTED_HOSTS"):
            # a forged Host header is refused (400) instead of reaching url_for(_external=True)
            hosts = os.environ.get("TRUSTED_HOSTS") or urlsplit(app.config.get("PUBLIC_BASE_URL") or "").hostname
            app.config["TRUSTED_HOSTS"] = [h.strip() for h in (hosts or "").split(",") if h.strip()] or None
    if app.config.get("TRUSTED_HOSTS"):
        app.wsgi_app = TrustedHosts(app.wsgi_app, app.config["TRUSTED_HOSTS"])  # type: ignore[method-assign]  # Flask's way to add WSGI middleware
    # if Redis is unreachable, every named limit keeps counting in this worker's memory
    # (ratelimits.RedisWithMemoryFallback), instead of a 500 or one coarse limit
    uri = app.config.get("RATELIMIT_STORAGE_URI") or ""
    if uri.startswith(tuple(scheme.removeprefix("fallback+") + "://" for scheme in RedisWithMemoryFallback.STORAGE_SCHEME)):
        app.config["RATELIMIT_STORAGE_URI"] = "fallback+" + uri
    # behind a reverse proxy the ops blueprint installs ProxyFix (TRUSTED_PROXIES) outside this
    # middleware, so rate limits and the host check see the client's address and host

    app.before_request(reject_nul_characters)
    app.before_request(enforce_session_limits)
    app.after_request(set_security_headers)
    user_logged_in.connect(_start_session, app, weak=False)
    install_log_redaction()


class TrustedHosts:
    """WSGI middleware: a request for another host gets a plain 400 before Flask builds any URL."""

    def __init__(self, wsgi_app, hosts):
        self.wsgi_app, self.hosts = wsgi_app, list(hosts)

    def __call__(self, environ, start_response):
        from werkzeug.exceptions import SecurityError
        from werkzeug.wrappers import Response
        from werkzeug.wsgi import get_host

        try:
            get_host(environ, self.hosts)
        except SecurityError:
            response = Response("400 Bad Request: unknown host\n", 400, mimetype="text/plain",
                                headers={**HEADERS, "Cache-Control": "no-store"})
            return response(environ, start_response)
        return self.wsgi_app(environ, start_response)


# -- headers -------------------------------------------------------------------------

def set_security_headers(response):
    """Add the security headers; no page but static files may be stored by a cache.

    A header the response sets itself stays. The names present are read once: every
    response passes here, and asking the headers for each name in turn costs a scan each.
    """
    headers = response.headers
    present = {name.lower() for name, _value in headers}
    extra = [(name, value) for name, value in HEADERS.items() if name.lower() not in present]
    if "strict-transport-security" not in present and current_app.config.get("HSTS_ENABLED"):
        extra.append(("Strict-Transport-Security", HSTS))
    if request.endpoint != "static":
        if "cache-control" in present or "pragma" in present:
            headers.remove("Cache-Control")
            headers.remove("Pragma")
        extra += [("Cache-Control", "no-store"), ("Pragma", "no-cache")]
        if "vary" in present:
            response.vary.add("Cookie")
        else:
            extra.append(("Vary", "Cookie"))
    headers.extend(extra)
    return response


# -- input -------------------------------------------------------------------------

def _has_nul(values) -> bool:
    return any("\x00" in value for value in values if isinstance(value, str))


def reject_nul_characters():
    """No text we keep may hold a NUL character (PostgreSQL refuses them): a 400, not a 500."""
    from .main import error_response

    if "\x00" in request.path or _has_nul(request.args.values()) or _has_nul(request.args.keys()):
        return error_response(400)
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.mimetype == "application/json":
            raw = request.get_data(cache=True)
            if b"\\u0000" in raw or b"\x00" in raw:
                return error_response(400)
        elif _has_nul(request.form.values()) or _has_nul(request.form.keys()):
            return error_response(400)
    return None


# -- sessions ------------------------------------------------------------------------

def session_limits(user) -> tuple[timedelta | None, timedelta]:
    """(idle limit or None, absolute limit) for ``user``'s sessions."""
    config = current_app.config
    if user.is_youth and not user.memberships:
        return config.get("YOUTH_SESSION_IDLE"), config.get("YOUTH_SESSION_MAX", timedelta(days=90))
    return config.get("STAFF_SESSION_IDLE", timedelta(minutes=30)), config.get("STAFF_SESSION_MAX", timedelta(hours=12))


def _start_session(sender, user, **extra):
    """A log-in: a new session identifier and a fresh clock."""
    now = time.time()
    session[SESSION_ID] = secrets.token_urlsafe(24)
    session[AUTH_AT] = now
    session[SEEN_AT] = now


def enforce_session_limits():
    """End a session that has been idle or open for too long."""
    if request.endpoint == "static" or "_user_id" not in session:
        return None
    if not current_user.is_authenticated:
        return None
    now = time.time()
    auth_at = session.get(AUTH_AT)
    seen_at = session.get(SEEN_AT, auth_at)
    if not isinstance(auth_at, (int, float)) or not isinstance(seen_at, (int, float)):
        # a session restored from a young person's remember cookie: a new session starts here
        _start_session(None, current_user)
        return None
    idle, absolute = session_limits(current_user)
    expired = now - auth_at > absolute.total_seconds() or (idle is not None and now - seen_at > idle.total_seconds())
    if expired:
        return _end_expired_session()
    if now - seen_at >= SEEN_RESOLUTION:
        session[SEEN_AT] = now
    return None


def _end_expired_session():
    from .accounts.auth import fresh_session
    from .main import error_response

    logout_user()
    fresh_session()
    message = _("Du er blevet logget ud, fordi du ikke har været aktiv et stykke tid. Log ind igen.")
    if request.path.startswith("/api/"):
        return error_response(401, "session_expired", message)
    flash(message, "info")
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("accounts.login", next=target if request.method == "GET" else None))


# -- logs ----------------------------------------------------------------------------

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[^\s\"',]+")
_QUERY_SECRET = re.compile(r"(?i)\b((?:token|code|secret|password|key|email|pass)=)[^&\s\"']+")
_SQL_PARAMS = re.compile(r"\[parameters:[^\n]*")
#: random secrets: 20+ URL-safe characters mixing upper case, lower case and digits
_SECRET = re.compile(r"(?<![\w-])(?=[\w-]*\d)(?=[\w-]*[A-Z])(?=[\w-]*[a-z])[A-Za-z0-9_-]{20,}(?![\w-])")

REDACTED = "[redacted]"
#: the request log writes only what it built from known fields (route pattern, endpoint, status,
#: a request id it redacted when the client sent it), so its lines skip the redaction of every record
PREREDACTED_LOGGER = "youthclub.requests"


def redact(text: str) -> str:
    """``text`` without e-mail addresses, tokens, secrets in URLs or SQL parameters."""
    if not text:
        return text
    text = _SQL_PARAMS.sub("[parameters: " + REDACTED + "]", text)
    text = _BEARER.sub(r"\1" + REDACTED, text)
    text = _QUERY_SECRET.sub(r"\1" + REDACTED, text)
    text = _EMAIL.sub(REDACTED, text)
    return _SECRET.sub(REDACTED, text)


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: leave it to logging's own error report
        return
    cleaned = redact(message)
    if cleaned != message or record.args:
        record.msg, record.args = cleaned, None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def install_log_redaction() -> None:
    """Redact every log record as it is made, whichever logger or handler it goes to."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "youthclub_redacts", False):
        return
    logging.setLogRecordFactory(_RedactingFactory(factory))


class _RedactingFactory:
    """A log record factory that redacts what the one it wraps makes."""

    youthclub_redacts = True  # installed once, however many apps a process creates

    def __init__(self, factory: Callable[..., logging.LogRecord]) -> None:
        self.factory = factory

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.factory(*args, **kwargs)
        if record.name != PREREDACTED_LOGGER:
            _redact_record(record)
        return record
