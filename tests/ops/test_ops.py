"""Health and readiness probes, the request log, ProxyFix, and `youthclub backup`."""
from __future__ import annotations

import json
import logging
import shutil
import sqlite3

import pytest
from flask import request
from sqlalchemy import func, select

from youthclub import create_app
from youthclub.extensions import db
from youthclub.models import User
from youthclub.ops.requestlog import logger as request_logger


def side_app(uri: str, **settings):
    """Another app of the same code with its own database and settings."""
    from tests.conftest import TestConfig

    return create_app(type("SideConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": uri, **settings}))


def migrated_sqlite_app(path, **settings):
    from flask_migrate import upgrade

    from tests.conftest import ROOT

    app = side_app(f"sqlite:///{path}", **settings)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    return app


# -- probes ---------------------------------------------------------------------------

def test_healthz_answers_without_a_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_ready_when_the_database_is_at_the_head_revision(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "ready", "database": "ok", "migrations": "current"}


def test_readyz_refuses_traffic_before_the_migrations_ran(tmp_path):
    app = side_app(f"sqlite:///{tmp_path / 'unmigrated.db'}")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["migrations"] == "behind" and body["current"] == [] and body["head"]


def test_readyz_refuses_traffic_when_the_database_does_not_answer():
    app = side_app("postgresql+psycopg://nobody@127.0.0.1:9/nothing?connect_timeout=2")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unavailable"}


def test_readyz_stays_ready_and_reports_redis_degraded(app, client, caplog):
    """Redis holds only rate-limit counts, which fall back to memory: a load balancer must not take
    every instance out because of it; the body and the log say it loudly."""
    app.config["REDIS_URL"] = "redis://127.0.0.1:9/0"
    app.extensions.pop("ops_redis", None)
    try:
        response = client.get("/readyz")
    finally:
        app.extensions.pop("ops_redis", None)
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready" and body["redis"] == "unavailable" and body["degraded"] == ["redis"]
    assert any(r.levelname == "ERROR" and "redis unavailable" in r.getMessage() for r in caplog.records)


# -- request log ----------------------------------------------------------------------

@pytest.fixture
def request_log():
    lines = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    handler = Collect()
    request_logger.addHandler(handler)
    try:
        yield lines
    finally:
        request_logger.removeHandler(handler)


def test_one_json_line_per_request_with_the_route_and_no_personal_data(app, client, world, request_log):
    client.login_as(world.staff_a)
    response = client.get(f"/institutions/{world.inst_a.id}?q=Aisha")
    assert response.status_code == 200
    assert len(request_log) == 1
    line = json.loads(request_log[0])
    assert line["method"] == "GET"
    assert line["route"] == "/institutions/<int:institution_id>"
    assert line["endpoint"] == "programme.institution"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["request_id"] == response.headers["X-Request-ID"] and len(line["request_id"]) == 32
    assert set(line) == {"time", "event", "method", "route", "endpoint", "status", "duration_ms", "request_id"}

    anonymous = app.test_client()
    token = anonymous.csrf_token()
    request_log.clear()
    response = anonymous.post("/login", data={"email": "aisha.hemmelig@example.org", "password": "forkert kodeord",
                                              "csrf_token": token})
    assert response.status_code == 401
    assert json.loads(request_log[-1])["status"] == 401
    for raw in request_log:
        assert "aisha" not in raw.lower() and "example.org" not in raw and "forkert" not in raw
        assert "127.0.0.1" not in raw


def test_request_id_from_the_proxy_is_kept_and_a_bad_one_replaced(client, request_log):
    response = client.get("/healthz", headers={"X-Request-ID": "lb-4f2a.17"})
    assert response.headers["X-Request-ID"] == "lb-4f2a.17"
    assert json.loads(request_log[-1])["request_id"] == "lb-4f2a.17"

    bad = 'x","status":200,"user":"ung@example.org'
    response = client.get("/healthz", headers={"X-Request-ID": bad})
    rid = response.headers["X-Request-ID"]
    assert rid != bad and len(rid) == 32 and "example.org" not in request_log[-1]
    assert json.loads(request_log[-1])["request_id"] == rid

    # the request log skips the redaction every other record gets: an id that looks like a secret
    # (a pass token, say) or holds an address is not written as it came
    for secretish in ("Xq7Rk2mPz9LwT4vNb8Hs3Jd", "ung@example.org"):
        response = client.get("/healthz", headers={"X-Request-ID": secretish})
        assert response.headers["X-Request-ID"] != secretish and secretish not in request_log[-1]


def test_unknown_paths_are_logged_without_the_path(client, request_log):
    response = client.get("/no/such/page/ung@example.org")
    assert response.status_code == 404
    line = json.loads(request_log[-1])
    assert line["route"] is None and line["status"] == 404
    assert "example.org" not in request_log[-1]


# -- proxies --------------------------------------------------------------------------

@pytest.mark.parametrize("proxies,expected", [(0, "http 127.0.0.1"), (1, "https 203.0.113.7")])
def test_forwarded_headers_are_trusted_only_from_configured_proxies(tmp_path, proxies, expected):
    app = side_app(f"sqlite:///{tmp_path / 'proxy.db'}", TRUSTED_PROXIES=proxies)
    app.add_url_rule("/_probe", "probe", lambda: f"{request.scheme} {request.remote_addr}")
    response = app.test_client().get(
        "/_probe", headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    assert response.get_data(as_text=True) == expected


# -- backups --------------------------------------------------------------------------

def test_backup_is_consistent_while_a_writer_is_busy_and_restores(tmp_path):
    from tests.factories import make_user

    source = tmp_path / "live.db"
    app = migrated_sqlite_app(source)
    with app.app_context():
        make_user(email="committed@example.org")
        db.session.commit()
        db.session.remove()

    # another process is in the middle of a write transaction while the backup runs
    writer = sqlite3.connect(source, isolation_level=None, timeout=1)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO user (email, name, active, locale, session_version, created_at) "
                   "VALUES ('uncommitted@example.org', 'x', 1, 'da', 1, '2026-01-01 00:00:00')")
    try:
        result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "backups" / "copy.db")])
        assert result.exit_code == 0, result.output
        assert "Backed up" in result.output
    finally:
        writer.execute("COMMIT")
        writer.close()

    # restore: the copy becomes the database of a fresh app
    restored = tmp_path / "restored.db"
    shutil.copy(tmp_path / "backups" / "copy.db", restored)
    again = side_app(f"sqlite:///{restored}")
    with again.app_context():
        emails = set(db.session.scalars(select(User.email)))
        assert "committed@example.org" in emails
        assert "uncommitted@example.org" not in emails  # a snapshot of what was committed
        assert again.test_client().get("/readyz").status_code == 200  # schema and revision came along
        db.session.remove()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 2
        db.session.remove()


def test_backup_refuses_to_overwrite_the_database(tmp_path):
    source = tmp_path / "live.db"
    app = migrated_sqlite_app(source)
    result = app.test_cli_runner().invoke(args=["backup", str(source)])
    assert result.exit_code != 0 and "must not overwrite" in result.output


def test_backup_on_postgresql_explains_pg_dump():
    app = side_app("postgresql+psycopg://nobody@127.0.0.1:9/nothing")
    result = app.test_cli_runner().invoke(args=["backup", "/tmp/never-written.db"])
    assert result.exit_code != 0
    assert "pg_dump" in result.output and "pg_restore" in result.output
