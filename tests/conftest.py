"""Shared fixtures: a fresh database per test on SQLite or PostgreSQL, clients, a live server, SMTP.

The test database is ``TEST_DATABASE_URL`` (PostgreSQL in CI's second run) or a SQLite
file in a temporary folder. The schema is built once per run by the migrations
(so every run also proves they work) and every table is emptied after each test.
"""
from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import TestingConfig, database_url
from tests import second_factor
from youthclub import create_app
from youthclub.extensions import db
from youthclub.mfa import login as mfa_login
from youthclub.mfa import services as mfa_services

ROOT = Path(__file__).resolve().parent.parent


def _own_redis_database_per_worker() -> None:
    """Under pytest-xdist each worker empties its own Redis database: gw0 the one given, gw1 the one below."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    base = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
    head, _, number = base.rpartition("/")
    os.environ["REDIS_TEST_URL"] = f"{head}/{int(number) - int(worker.removeprefix('gw'))}"


_own_redis_database_per_worker()  # before the conftests below read it at import
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _ensure_postgres_database(url: str) -> None:
    u = make_url(url)
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": u.database})
        if not exists:
            conn.exec_driver_sql(f'CREATE DATABASE "{u.database}"')
    admin.dispose()


def _test_database_url(tmp_root: Path) -> str:
    url = database_url(os.environ.get("TEST_DATABASE_URL"))
    if url:
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        if worker:
            u = make_url(url)
            url = u.set(database=f"{u.database}_{worker}").render_as_string(hide_password=False)
        return url
    return f"sqlite:///{tmp_root / 'test.db'}"


@pytest.fixture(scope="session")
def database_uri(tmp_path_factory) -> str:
    url = _test_database_url(tmp_path_factory.mktemp("db"))
    if url.startswith("postgresql"):
        _ensure_postgres_database(url)
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
            # a throwaway database: commits need not wait for the disk
            conn.exec_driver_sql(f'ALTER DATABASE "{make_url(url).database}" SET synchronous_commit TO off')
        engine.dispose()
    return url


class TestConfig(TestingConfig):
    pass


@pytest.fixture(scope="session")
def _app(database_uri, tmp_path_factory):
    from flask_migrate import upgrade

    TestConfig.SQLALCHEMY_DATABASE_URI = database_uri
    os.environ["YOUTHCLUB_INSTANCE_PATH"] = str(tmp_path_factory.mktemp("instance"))
    app = create_app(TestConfig)
    app.test_client_class = Client
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    return app


def _empty_tables() -> None:
    engine = db.engine
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    # DELETE, not TRUNCATE: on tables this small it is many times faster on PostgreSQL
    # (TRUNCATE replaces every table's files); ids simply keep counting up
    with engine.begin() as conn:
        for t in tables:
            conn.exec_driver_sql(f'DELETE FROM "{t}"')


@pytest.fixture
def app(_app):
    """The app with an empty database; config changes are undone after the test."""
    saved = dict(_app.config)
    ctx = _app.app_context()
    ctx.push()
    try:
        yield _app
    finally:
        db.session.remove()
        _empty_tables()
        ctx.pop()
        _app.config.clear()
        _app.config.update(saved)


class Client(FlaskClient):
    """A test client that knows how to get a CSRF token and log in.

    Each request runs in its own app context (so ``g`` and the database session are
    the request's own, as in production); the test's pending changes are committed
    first so the request sees them, and the test reads fresh rows afterwards.
    """

    def open(self, *args, **kwargs):
        from flask import has_app_context

        if has_app_context():
            db.session.commit()
        # read the whole answer and close it, as a server does (work queued for after the response runs)
        kwargs.setdefault("buffered", True)
        with self.application.app_context():
            return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        response = self.get("/__csrf__")  # any page renders the base template's forms
        match = CSRF_RE.search(response.get_data(as_text=True))
        assert match, "no CSRF token on the page"
        return match.group(1)

    def post_form(self, url: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.post(url, data=data, **kwargs)

    def api(self, method: str, url: str, json=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if method.upper() not in ("GET", "HEAD", "OPTIONS") and "Authorization" not in headers:
            headers.setdefault("X-CSRFToken", self.csrf_token())
        return self.open(url, method=method.upper(), json=json, headers=headers, **kwargs)

    def login(self, email: str, password: str = "correct horse battery", **extra):
        """Log in with the form; when a second step follows, complete it as a person would."""
        response = self.post_form("/login", {"email": email, "password": password, **extra})
        if response.status_code == 302 and urlsplit(response.location).path in (second_factor.CHALLENGE, second_factor.ENROLL):
            return self.second_factor(email)
        return response

    def second_factor(self, email: str):
        """The code step (or setting up the app from the key on the page), with a code from pyotp."""
        factor = second_factor.factor_of(email)
        if factor is None or factor.confirmed_at is None:
            html = self.get(second_factor.ENROLL).get_data(as_text=True)
            secret = second_factor.secret_on_page(html)
            code = second_factor.usable_code(secret, None)
            return self.post(second_factor.ENROLL, data={"code": code, "csrf_token": CSRF_RE.search(html).group(1)})
        return self.post_form(second_factor.CHALLENGE, {"code": second_factor.code_for(email)})

    def login_as(self, user, *, second_factor_done: bool = True) -> None:
        """Log in without the form (fast); the real form is tested in test_accounts.

        A user whose role needs a second factor gets an app set up through the services
        (confirmed with a pyotp code) and a session marked as having passed the code step,
        unless ``second_factor_done=False`` (a session that skipped it).
        """
        if (second_factor_done and mfa_services.needs_second_factor(user)
                and mfa_services.confirmed_factor(user) is None):
            second_factor.enroll(user)
        with self.session_transaction() as sess:
            sess["_user_id"] = user.get_id()
            sess["_fresh"] = True
            if second_factor_done:
                sess[mfa_login.VERIFIED] = user.id


@pytest.fixture
def client(app) -> Client:
    return app.test_client()


@pytest.fixture
def world(app):
    """Two institutions in two districts with users of every role, offers, sessions and a young person."""
    from tests.factories import build_world

    return build_world()


@pytest.fixture
def live_server(app):
    """The app served over real HTTP by a threaded server, for concurrency tests and browsers."""
    from werkzeug.serving import make_server

    db.session.commit()
    db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield server
    finally:
        server.shutdown()
        thread.join(timeout=10)
        db.session.remove()


@pytest.fixture
def smtp_server(app):
    """A real SMTP server on localhost (aiosmtpd); the app is configured to send through it."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = []

    class Collect(Message):
        def handle_message(self, message):
            received.append(message)

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_TLS=False, MAIL_USE_SSL=False)
    controller.messages = received
    try:
        yield controller
    finally:
        controller.stop()


def pytest_collection_modifyitems(config, items):
    """Browser journeys need Chromium: skip with a reason locally, fail under CI=true."""
    if Path("/usr/bin/chromium").exists():
        return
    if os.environ.get("CI", "").lower() == "true":
        return  # the browser fixture fails loudly
    skip = pytest.mark.skip(reason="Chromium is not installed (apt-get install chromium); browser journeys skipped")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)
