"""The job queue's own tests: real Redis, real worker and scheduler processes, real SMTP servers.

Redis is ``REDIS_TEST_URL`` (``.ci/run`` sets it; this database is emptied). Without Redis
these tests skip with a message locally and fail under ``CI=true``. Workers are
``youthclub worker`` processes on the test database; web instances are the app made anew in
queue mode (``JOBS_IN_PROCESS`` off) and served over HTTP.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
import requests
from werkzeug.serving import make_server

from tests.conftest import CSRF_RE, TestConfig
from youthclub import create_app
from youthclub.extensions import db

ROOT = Path(__file__).resolve().parents[2]
REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")


def wait_for(condition, timeout: float = 15, step: float = 0.05, what: str = "condition"):
    """Poll ``condition`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_url():
    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except (redis.RedisError, OSError) as err:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"no Redis at {REDIS_TEST_URL}: {err}")
        pytest.skip(f"no Redis at {REDIS_TEST_URL}")
    client.flushdb()
    yield REDIS_TEST_URL
    client.flushdb()


class SmtpServer:
    """A real SMTP server (aiosmtpd) on a fixed port that can also play a server that never answers.

    ``hang()`` accepts connections and says nothing (not even the greeting); ``recover()``
    drops them and answers SMTP on the same port. ``hold(address)`` keeps the DATA of the
    first message to ``address`` waiting until ``release()`` and then refuses it (451),
    so a worker can be killed mid-delivery.
    """

    def __init__(self):
        self.port = free_port()
        self.messages = []
        self.held_address = None
        self.holding = threading.Event()
        self._release = threading.Event()
        self._controller = None
        self._listener = None
        self._hung = []

    def start(self):
        from aiosmtpd.controller import Controller

        server = self

        class Handler:
            async def handle_DATA(self, _server, _session, envelope):
                if server.held_address in envelope.rcpt_tos:
                    server.held_address = None
                    server.holding.set()
                    await asyncio.get_running_loop().run_in_executor(None, server._release.wait, 30)
                    return "451 4.3.0 try again later"
                from email import message_from_bytes

                server.messages.append(message_from_bytes(envelope.content))
                return "250 OK"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self):
        self._release.set()
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread; close alone would not
            self._listener.close()
            for conn in self._hung:
                conn.close()
            self._listener = None

    def hang(self):
        self.stop()
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(50)
        self._listener = listener

        def accept():
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                # closed with a reset, so the port is free for the recovered server at once (no TIME_WAIT)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self._hung.append(conn)

        threading.Thread(target=accept, daemon=True).start()
        return self

    def recover(self):
        self.stop()
        return self.start()

    def hold(self, address: str):
        self.held_address = address
        self._release.clear()

    def release(self):
        self._release.set()

    def ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages]


@pytest.fixture
def smtp():
    server = SmtpServer()
    yield server
    server.stop()


def _signal_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to a process group; False when nobody is left in it."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    return True


class Processes:
    """``youthclub worker`` / ``youthclub scheduler`` processes on the test database and Redis."""

    def __init__(self, tmp_path: Path, database_uri: str, redis_url: str, smtp: SmtpServer):
        self.tmp = tmp_path
        self.env = dict(
            os.environ,
            YOUTHCLUB_ENV="development",
            DATABASE_URL=database_uri,
            JOBS_BROKER_URL=redis_url,
            REDIS_URL="",
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=str(smtp.port),
            MAIL_TIMEOUT="1",
            MAIL_RETRY_SECONDS="1",
            OUTBOX_LEASE_SECONDS="4",
            PUBLIC_BASE_URL="http://localhost",
            YOUTHCLUB_INSTANCE_PATH=str(tmp_path / "instance"),
            PYTHONUNBUFFERED="1",
        )
        self.running: dict[str, tuple[subprocess.Popen, Path]] = {}
        self.started: list[Path] = []

    def start(self, name: str, kind: str = "worker", *, faketime: str | None = None, **env) -> subprocess.Popen:
        log = self.tmp / f"{name}.log"
        command = [sys.executable, "-m", "youthclub.cli"]
        if kind == "worker":
            command += ["worker", "--pool", "threads", "--concurrency", "4", "--name", f"{name}@%h"]
        else:
            command += ["scheduler", "--schedule-file", str(self.tmp / f"{name}-schedule")]
        if faketime:
            command = [shutil.which("faketime"), "-f", faketime, *command]
        process = subprocess.Popen(command, cwd=ROOT, env={**self.env, "TZ": "UTC", **env},
                                   stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        self.running[name] = (process, log)
        self.started.append(log)
        return process

    def logs(self) -> list[str]:
        """The output of every process started in this test, stopped ones too."""
        return [log.read_text() for log in self.started]

    def log(self, name: str) -> str:
        return self.running[name][1].read_text()

    def wait_ready(self, *names: str, timeout: float = 30):
        for name in names:
            process, _ = self.running[name]
            marker = "ready." if "--pool" in process.args else "beat: Starting"
            wait_for(lambda marker=marker, name=name, process=process: marker in self.log(name) or process.poll() is not None,
                     timeout, what=f"{name} to start")
            assert process.poll() is None, f"{name} stopped:\n{self.log(name)}"

    def kill(self, name: str):
        process, _ = self.running.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self, name: str):
        """SIGTERM to the process group, SIGKILL after 10 s.

        Under faketime the app is a child of faketime, and Celery's warm shutdown does not end
        on a faked clock: those get SIGKILL at once (what they ran has finished; nothing is lost).
        """
        process, _ = self.running.pop(name)
        _signal_group(process.pid, signal.SIGKILL if "faketime" in str(process.args[0]) else signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _signal_group(process.pid, 0) and time.monotonic() < deadline:
            process.poll()
            time.sleep(0.05)
        _signal_group(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self):
        for name in list(self.running):
            self.stop(name)

    def pid_of(self, name: str) -> int:
        return self.running[name][0].pid


@pytest.fixture
def processes(app, database_uri, redis_url, smtp, tmp_path):
    procs = Processes(tmp_path, database_uri, redis_url, smtp)
    yield procs
    procs.stop_all()


class WebInstance:
    """The app made anew in queue mode (mail goes to Redis, not to SMTP) and served over real HTTP."""

    def __init__(self, redis_url: str, **config):
        class QueueConfig(TestConfig):
            JOBS_IN_PROCESS = False
            JOBS_BROKER_URL = redis_url

        for key, value in config.items():
            setattr(QueueConfig, key, value)
        self.app = create_app(QueueConfig)
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def session(self) -> Browser:
        return Browser(self.url)

    def close(self):
        self.server.shutdown()
        self.thread.join(timeout=10)
        with self.app.app_context():
            db.engine.dispose()


class Browser(requests.Session):
    def __init__(self, base: str):
        super().__init__()
        self.base = base

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", 10)
        kwargs.setdefault("allow_redirects", False)
        return super().request(method, self.base + url if url.startswith("/") else url, *args, **kwargs)

    def post_form(self, url: str, data: dict, page: str | None = None):
        html = self.get(page or url).text
        match = CSRF_RE.search(html)
        assert match, f"no CSRF token on {page or url}"
        return self.post(url, data={"csrf_token": match.group(1), **data})

    def login(self, email: str, password: str = "correct horse battery"):
        response = self.post_form("/login", {"email": email, "password": password})
        assert response.status_code == 302, response.text[:500]
        return response


@pytest.fixture
def web(app, redis_url):
    """A factory of web instances in queue mode on the test database (closed after the test)."""
    made = []

    def make(**config) -> WebInstance:
        made.append(WebInstance(redis_url, **config))
        return made[-1]

    yield make
    for instance in made:
        instance.close()
