"""Two gunicorn instances of the app on one PostgreSQL database and one Redis.

``two_instances`` (function scope) hands a test both instances with an empty database and an
empty Redis; the servers themselves start once per run (``_gunicorn_pair``). A test:

* makes data in-process on the same database:
  ``with two_instances.app.app_context(): make_user(...); db.session.commit()``
  (``tests/factories.py`` builders work there),
* drives the instances over real HTTP: ``two_instances.urls`` holds both base URLs, and
  ``two_instances.browser()`` is a client with its own cookies that may talk to either
  instance (the production session cookie is ``Secure``; the client sends it over plain
  HTTP to localhost, as a TLS proxy would),
* for many clients at once, e.g. sign-ups split over both instances, use one browser per
  young person in a ``concurrent.futures.ThreadPoolExecutor`` and alternate the URLs.

Needs PostgreSQL and Redis. The database is ``TWO_INSTANCE_DATABASE_URL`` or, in the
PostgreSQL run, a sibling of the test database (its name + ``_instances``) that is made and
dropped here; in the SQLite run without ``TWO_INSTANCE_DATABASE_URL`` the tests are skipped
(the PostgreSQL run covers them). Redis is ``REDIS_TEST_URL`` (``.ci/run`` sets it; default
``redis://127.0.0.1:6379/15``); the tests own that Redis database and empty it. When the
server or Redis does not answer, the tests are skipped with a message, and fail under ``CI=true``.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import database_url
from tests.conftest import CSRF_RE

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "two-instances-test-secret-key"


def instance_database_url() -> tuple[str | None, bool]:
    """The PostgreSQL database for the instances, and whether the tests made it (and drop it after)."""
    url = os.environ.get("TWO_INSTANCE_DATABASE_URL")
    if url:
        return url, False
    test_url = os.environ.get("TEST_DATABASE_URL")
    if test_url and test_url.startswith("postgres"):
        u = make_url(test_url)
        worker = os.environ.get("PYTEST_XDIST_WORKER", "")
        return u.set(database=f"{u.database}_instances{worker}").render_as_string(hide_password=False), True
    return None, False


def redis_url() -> str:
    return os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")


def _unavailable(message: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (required under CI=true)")
    pytest.skip(f"{message}: the two-instance tests need PostgreSQL and Redis")


def _admin_engine(url: str):
    return create_engine(make_url(database_url(url)).set(database="postgres"), isolation_level="AUTOCOMMIT")


def _prepare_database(url: str) -> None:
    """Create the database when missing and give it an empty public schema."""
    u = make_url(database_url(url))
    try:
        admin = _admin_engine(url)
        with admin.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": u.database}):
                conn.exec_driver_sql(f'CREATE DATABASE "{u.database}"')
        admin.dispose()
    except Exception as err:
        _unavailable(f"PostgreSQL is not reachable at {u.render_as_string()} ({type(err).__name__})")
    engine = create_engine(u)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def _redis():
    import redis

    client = redis.Redis.from_url(redis_url())
    try:
        client.ping()
    except Exception as err:
        _unavailable(f"Redis is not reachable at {redis_url()} ({type(err).__name__})")
    return client


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Browser:
    """One person's browser: cookies kept here and sent to whichever instance is asked."""

    def __init__(self):
        self.cookies: dict[str, str] = {}

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = requests.request(method, url, headers=headers, allow_redirects=False, timeout=60, **kwargs)
        for cookie in response.cookies:
            if cookie.value and not cookie.is_expired():
                self.cookies[cookie.name] = cookie.value
            else:
                self.cookies.pop(cookie.name, None)
        return response

    def get(self, url: str, **kwargs) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs) -> requests.Response:
        return self.request("POST", url, **kwargs)

    def csrf_token(self, base: str) -> str:
        match = CSRF_RE.search(self.get(f"{base}/login").text)
        assert match, "no CSRF token on the log-in page"
        return match.group(1)

    def login(self, base: str, email: str, password: str, token: str | None = None) -> requests.Response:
        token = token or self.csrf_token(base)
        return self.post(f"{base}/login", data={"email": email, "password": password, "csrf_token": token})


@dataclass
class Instances:
    urls: list[str]
    database_url: str
    app: object
    redis: object
    processes: list = field(default_factory=list)

    def browser(self) -> Browser:
        return Browser()

    def reset(self) -> None:
        """Empty every table and the Redis database (rate-limit counters) between tests."""
        from tests.conftest import _empty_tables
        from youthclub.extensions import db

        with self.app.app_context():
            _empty_tables()
            db.session.remove()
        self.redis.flushdb()


def _start(port: int, env: dict, log_path: Path) -> subprocess.Popen:
    log = open(log_path, "wb")  # noqa: SIM115 — the server's stderr for its whole life
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    finally:
        log.close()


def _wait_ready(url: str, process: subprocess.Popen, log_path: Path, deadline_s: float = 90) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn at {url} exited:\n{log_path.read_text()[-3000:]}")
        try:
            if requests.get(f"{url}/readyz", timeout=15).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.2)
    raise AssertionError(f"gunicorn at {url} never became ready:\n{log_path.read_text()[-3000:]}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()  # SIGTERM: a graceful shutdown
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def _gunicorn_pair(tmp_path_factory):
    from tests.conftest import TestConfig
    from youthclub import create_app

    url, made_here = instance_database_url()
    if url is None:
        pytest.skip("the two-instance tests run in the PostgreSQL pass (TEST_DATABASE_URL) "
                    "or with TWO_INSTANCE_DATABASE_URL")
    redis_client = _redis()
    _prepare_database(url)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PYTEST_", "YOUTHCLUB_", "GUNICORN_"))}
    env.update(YOUTHCLUB_ENV="production", SECRET_KEY=SECRET_KEY, DATABASE_URL=url, REDIS_URL=redis_url(),
               GUNICORN_WORKERS="2", PYTHONPATH=str(ROOT),
               # every test client shares 127.0.0.1: let the crowd tests past the per-address limits
               # (the per-account limits stay as in production, and the log-in test relies on them)
               RATELIMITS='{"signup": {"ip": "2000 per minute"}, "checkin": {"ip": "2000 per minute"}}')
    env.pop("SERVER_NAME", None)
    upgrade = subprocess.run([sys.executable, "-c", "from youthclub.cli import main; main()", "db", "upgrade"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=300)
    assert upgrade.returncode == 0, upgrade.stderr[-3000:]

    logs = tmp_path_factory.mktemp("gunicorn")
    processes, urls = [], []
    try:
        for name in ("a", "b"):
            port = _free_port()
            processes.append(_start(port, env, logs / f"{name}.log"))
            urls.append(f"http://127.0.0.1:{port}")
        for url_, process, name in zip(urls, processes, ("a", "b"), strict=True):
            _wait_ready(url_, process, logs / f"{name}.log")
        app = create_app(type("InstancesConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": database_url(url)}))
        yield Instances(urls, url, app, redis_client, processes)
    finally:
        for process in processes:
            _stop(process)
        redis_client.flushdb()
        redis_client.close()
        if "app" in locals():
            from youthclub.extensions import db

            with app.app_context():
                db.engine.dispose()
        if made_here:
            admin = _admin_engine(url)
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
            admin.dispose()


@pytest.fixture
def two_instances(_gunicorn_pair):
    """Two running instances on one PostgreSQL database and one Redis, both emptied for this test."""
    _gunicorn_pair.reset()
    yield _gunicorn_pair
