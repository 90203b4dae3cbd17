"""Health and readiness probes, Prometheus metrics, and the app-wide parts of running in production.

Registering this blueprint also installs, once per app, the structured request log
(``requestlog.py``, which also counts each request for the metrics), the database pool
gauges and, when ``TRUSTED_PROXIES`` is set, werkzeug's ProxyFix, so the
app sees the client's address and scheme from the TLS reverse proxy in front of it.
"""
from __future__ import annotations

import hmac
import os

from flask import Blueprint, Response, abort, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from ..extensions import db
from . import metrics as instruments
from . import requestlog, scrape
from .clients import redis_client

bp = Blueprint("ops", __name__)


@bp.record_once
def _install(state) -> None:
    app = state.app
    requestlog.init_app(app)
    with app.app_context():
        instruments.watch_pool(db.engine)
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies)
    if os.environ.get("YOUTHCLUB_ENV") == "production" and not app.config.get("REDIS_URL"):
        app.logger.warning("REDIS_URL is not set: rate limits are counted by each worker on its own")


@bp.route("/healthz")
def healthz():
    """The process is up and answers (for a load balancer's liveness check)."""
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz():
    """Ready for traffic: the database answers, its migrations are at the head revision, Redis answers."""
    try:
        db.session.execute(text("SELECT 1"))
        current = _current_revisions()
    except Exception as err:  # any failure to reach the database means "not ready"
        db.session.rollback()
        current_app.logger.warning("readyz: database unavailable (%s)", type(err).__name__)
        return jsonify(status="unavailable", database="unavailable"), 503
    heads = _head_revisions()
    if current != heads:
        return jsonify(status="unavailable", database="ok", migrations="behind",
                       current=sorted(current), head=sorted(heads)), 503
    if current_app.config.get("REDIS_URL"):
        try:
            redis_client(current_app.config["REDIS_URL"], timeout=2).ping()
        except Exception as err:  # the rate limits live there, and fall back to memory: still ready
            current_app.logger.error("readyz: redis unavailable (%s); rate limits counted per worker",
                                     type(err).__name__)
            return jsonify(status="ready", database="ok", migrations="current", redis="unavailable",
                           degraded=["redis"])
        return jsonify(status="ready", database="ok", migrations="current", redis="ok")
    return jsonify(status="ready", database="ok", migrations="current")


@bp.route("/metrics")
def metrics():
    """Prometheus metrics, for a scraper that sends ``Authorization: Bearer <METRICS_TOKEN>``.

    Without METRICS_TOKEN configured the endpoint does not exist (404); a missing or wrong
    token is refused with 401. docs/monitoring.md says how to scrape it.
    """
    tokens = current_app.config.get("METRICS_TOKENS") or []
    if not tokens:
        abort(404)
    scheme, _, header_token = request.headers.get("Authorization", "").partition(" ")
    given = header_token.strip().encode()
    # compare_digest against every token (no early exit), so timing tells nothing about which
    matches = [hmac.compare_digest(given, token.encode()) for token in tokens]
    if scheme.lower() != "bearer" or not given or not any(matches):
        return Response("A bearer token is required.\n", 401, {"WWW-Authenticate": 'Bearer realm="metrics"'},
                        mimetype="text/plain")
    response = Response(scrape.exposition(), mimetype=None, content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


def _current_revisions() -> set[str]:
    from alembic.migration import MigrationContext

    return set(MigrationContext.configure(db.session.connection()).get_current_heads())


def _head_revisions() -> set[str]:
    """The migrations' head revisions, read once per process (the code cannot change under it)."""
    heads = current_app.extensions.get("ops_migration_heads")
    if heads is None:
        from alembic.script import ScriptDirectory

        migrate = current_app.extensions["migrate"]
        config = migrate.migrate.get_config(migrate.directory)
        heads = set(ScriptDirectory.from_config(config).get_heads())
        current_app.extensions["ops_migration_heads"] = heads
    return heads
