"""Structured request logs: one JSON line per request, without personal data.

Each line holds the method, the route pattern (``/activities/<int:activity_id>``, never the
raw path with its ids or query string), the endpoint, the status, the duration in ms and
a request id. The id comes from the ``X-Request-ID`` header a proxy sets (when it looks
like an id) or is made here, and is echoed in the response's ``X-Request-ID`` header so
a log line can be matched to a user's report. No addresses, user ids, e-mails or bodies.
The same moment counts the request for the metrics (``metrics.observe_request``).
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, g, request

from ..security import PREREDACTED_LOGGER, redact
from . import metrics

logger = logging.getLogger(PREREDACTED_LOGGER)

#: a request id from outside is accepted only when it cannot smuggle anything into the log
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now (gunicorn's error log, a test's capture)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def init_app(app: Flask) -> None:
    if not any(isinstance(h, StderrHandler) for h in logger.handlers):
        handler = StderrHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    # first of all before-request functions, so a request refused by an earlier one
    # (a rate limit, say) is timed and logged too
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)


def request_id() -> str:
    """The current request's id."""
    rid = g.get("request_id")
    if rid is None:
        incoming = request.headers.get("X-Request-ID", "")
        # the client's id is logged as it came, so it must not carry a secret or an address
        rid = incoming if REQUEST_ID_RE.match(incoming) and redact(incoming) == incoming else uuid.uuid4().hex
        g.request_id = rid
    return rid


def _start() -> None:
    g.request_started = time.perf_counter()
    request_id()


def _finish(response):
    started = g.get("request_started")
    rid = request_id()
    response.headers["X-Request-ID"] = rid
    rule = request.url_rule
    route = rule.rule if rule is not None else None
    seconds = time.perf_counter() - started if started is not None else None
    metrics.observe_request(route, request.method, response.status_code, seconds)
    line = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "event": "request",
        "method": request.method,
        "route": route,
        "endpoint": request.endpoint,
        "status": response.status_code,
        "duration_ms": round(seconds * 1000, 2) if seconds is not None else None,
        "request_id": rid,
    }
    logger.info(json.dumps(line, separators=(",", ":")))
    return response
