"""Prometheus instruments: what the app counts while it serves, for the people who run it.

The instruments live here, at module level, so a service counts with one call and no
import of the web layer. Under gunicorn each worker writes its values to files in
``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode, set up by
gunicorn.conf.py before any worker starts) and a scrape of any worker adds them all up;
without that variable (``make run``, the tests) the values live in this process.

Labels are bounded by construction: a route is the URL rule (``/activities/<int:activity_id>``),
never the raw path; an outcome is a service's machine code. What is read from the database
or Redis at scrape time (outbox, queue) is in ``scrape.py``; the endpoint is ``ops.metrics``.
"""
from __future__ import annotations

import functools
import os

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics
from sqlalchemy import event
from sqlalchemy.engine import Engine

from ..errors import DomainError

#: whether prometheus-client writes to files (decided by the library when it is first imported)
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
if MULTIPROCESS:
    # the instruments below open their files there at once; a missing directory must not stop the app
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

# no *_created series beside every counter: multiprocess mode has none, so neither has `make run`
disable_created_metrics()

#: a request the URL map did not match (404, 405): one label value, whatever the path was
UNMATCHED = "(unmatched)"
#: the methods that get a label value of their own; any other a client sends (BREW, XYZ…) is "other"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter(
    "youthclub_http_requests", "HTTP requests answered, by route (the URL rule), method and status.",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "youthclub_http_request_duration_seconds", "Time from the first before-request hook to the response, by route.",
    ["route", "method"],
    # up to gunicorn's 30-second timeout; the check-in path is judged at 25-100 ms
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
CHECKINS = Counter(
    "youthclub_checkins", "Check-in attempts (scans, name look-ups, roll-call ticks) by outcome: checked_in, "
    "already_checked_in, or the refusal code.",
    ["outcome"],
)
SIGNUPS = Counter(
    "youthclub_signups", "Sign-up attempts by outcome: confirmed, waitlisted, or the refusal code.",
    ["outcome"],
)
SQLITE_WRITE_LOCK_WAIT = Histogram(
    "youthclub_sqlite_write_lock_wait_seconds", "SQLite: how long a writing transaction waited for the "
    "database's one write lock (BEGIN IMMEDIATE, or a lone check-in insert); the counterpart of "
    "PostgreSQL's lock waits.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0, 15.0),
)
#: live* gauges: a dead worker's values are dropped (gunicorn.conf.py's child_exit), the living are added up
DB_POOL_CHECKED_OUT = Gauge(
    "youthclub_db_pool_checked_out", "Database connections in use (checked out of the pools of all live workers).",
    multiprocess_mode="livesum",
)
DB_POOL_SIZE = Gauge(
    "youthclub_db_pool_size", "Connections the pools of all live workers keep (pool_size, without overflow).",
    multiprocess_mode="livesum",
)
DB_POOL_MAX_OVERFLOW = Gauge(
    "youthclub_db_pool_max_overflow", "Connections the pools of all live workers may open beyond their size.",
    multiprocess_mode="livesum",
)


def observe_request(route: str | None, method: str, status: int, seconds: float | None) -> None:
    """Count one answered request (called by the request log, which already has all of it)."""
    key = (route or UNMATCHED, method, status)
    children = _request_children.get(key)
    if children is None:
        if method not in METHODS:
            method = "other"  # the client chooses the method: it must not choose new series
            key = (key[0], method, status)
        children = _request_children.setdefault(key, (REQUESTS.labels(key[0], method, str(status)),
                                                      REQUEST_SECONDS.labels(key[0], method)))
    children[0].inc()
    if seconds is not None:
        children[1].observe(seconds)


#: the labelled children by (route, method, status): ``labels()`` validates and locks on every call,
#: a dict look-up does not (the keys are bounded: routes × methods × statuses)
_request_children: dict[tuple, tuple] = {}


def counted(counter: Counter, outcome):
    """Decorate a service so each call counts once in ``counter``: ``outcome(result)``, or the refusal's code.

    One increment per call, nothing else: the check-in path is hot. An exception that is
    not a domain refusal counts as ``error`` and is raised on unchanged.
    """
    children: dict[str, Counter] = {}

    def count(label: str) -> None:
        child = children.get(label)
        if child is None:
            child = children[label] = counter.labels(label)
        child.inc()

    def decorate(service):
        @functools.wraps(service)
        def counted_service(*args, **kwargs):
            try:
                result = service(*args, **kwargs)
            except DomainError as err:
                count(err.code)
                raise
            except Exception:
                count("error")
                raise
            count(outcome(result))
            return result

        return counted_service

    return decorate


def watch_pool(engine: Engine) -> None:
    """Keep the pool gauges of this process: its size now, and checked-out connections as they come and go."""
    pool = engine.pool
    size = getattr(pool, "size", None)
    if callable(size):  # QueuePool; SQLite's in-memory pools have no fixed size
        DB_POOL_SIZE.inc(size())
        DB_POOL_MAX_OVERFLOW.inc(max(getattr(pool, "_max_overflow", 0), 0))

    @event.listens_for(engine, "checkout")
    def _checkout(_dbapi_connection, _record, _proxy):
        DB_POOL_CHECKED_OUT.inc()

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection, _record):
        DB_POOL_CHECKED_OUT.dec()
