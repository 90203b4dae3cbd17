"""Shared set-up for the HTTP benchmarks: a throwaway database, gunicorn processes, wrk."""
from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN_ARGS = ["--workers", "4", "--worker-class", "gthread", "--threads", "4", "--log-level", "warning"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def database(kind: str):
    """A fresh, migrated database URL of ``kind`` ("sqlite" or "postgresql"), removed afterwards."""
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="yc-bench-")
        try:
            yield f"sqlite:///{folder}/bench.db"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    from sqlalchemy import create_engine

    name = f"yc_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def bench_app(database_url: str):
    os.environ["DATABASE_URL"] = database_url
    from bench.app import make_app

    return make_app()


def migrate(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))


#: the process group of each server ``gunicorn`` serves (its master and workers), by base URL
SERVER_GROUPS: dict[str, int] = {}


def _cpu_seconds(group_of) -> dict:
    """User and system CPU seconds spent so far by live processes, summed per ``group_of(pgrp, name)``
    (None: not counted), in one pass over /proc."""
    totals: dict = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # ended meanwhile
        name, fields = stat[stat.index("(") + 1: stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        # after the name: state, ppid, pgrp, …, utime, stime, cutime, cstime (12th to 15th), in clock
        # ticks; the last two are its ended children's, so a worker gunicorn replaced (max_requests) still counts
        key = group_of(int(fields[2]), name)
        if key is not None:
            totals[key] = totals.get(key, 0) + sum(int(v) for v in fields[11:15])
    tick = os.sysconf("SC_CLK_TCK")
    return {key: ticks / tick for key, ticks in totals.items()}


def cpu_snapshot(url: str) -> dict[str, float]:
    """CPU seconds so far of the server at ``url``, of PostgreSQL's processes and of this process's ended children."""
    group = SERVER_GROUPS.get(url)
    spent = _cpu_seconds(lambda pgrp, name: "server" if group and pgrp == group else "database" if name == "postgres" else None)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"server": spent.get("server", 0.0), "database": spent.get("database", 0.0),
            "load": children.ru_utime + children.ru_stime}


@contextmanager
def gunicorn(app_spec: str, env: dict | None = None):
    """Serve ``app_spec`` under gunicorn on a free port; yields the base URL."""
    port = free_port()
    full_env = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}
    # the app logs a line per request: to a file, since an unread pipe fills up and stalls the workers
    log = tempfile.NamedTemporaryFile(prefix="yc-bench-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115 — open for the server's life
    proc = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", *GUNICORN_ARGS, "--bind", f"127.0.0.1:{port}", app_spec],
        cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(url + "/", timeout=1)
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(Path(log.name).read_text()[-2000:]) from None
                time.sleep(0.2)
        SERVER_GROUPS[url] = proc.pid  # start_new_session: the master leads its workers' group
        yield url
    finally:
        SERVER_GROUPS.pop(url, None)
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        os.unlink(log.name)


def wrk(url: str, script: Path, connections: int, seconds: int = 10, threads: int = 2) -> dict:
    """Run wrk with a Lua script; requests per second, latency percentiles (ms), error counts, and the
    CPU milliseconds per request of the server, of PostgreSQL and of wrk itself (``cpu``)."""
    before = cpu_snapshot(url)
    out = subprocess.run(
        ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout
    after = cpu_snapshot(url)

    def ms(label):
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return None
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    status = re.search(r"STATUS (.*)", out)
    return {
        "rps": rps, "p50": ms("50"), "p90": ms("90"), "p99": ms("99"),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(0) if errors else "",
        "statuses": status.group(1) if status else "",
        "requests": requests,
        "cpu": {k: (after[k] - before[k]) * 1000 / requests if requests else 0.0 for k in after},
        "raw": out,
    }


def make_offer(db, *, title: str, category, capacity, **activity_fields):
    """A programme, a district, an institution and one published offer there (call in an app context)."""
    from datetime import date

    from youthclub.models import Activity, ActivityStatus, District, Institution, InstitutionKind, Programme

    programme = Programme(name="Bench", starts_on=date(2011, 3, 1), ends_on=date(2099, 1, 1))
    district = District(programme=programme, code="8", name="Indre Nørrebro")
    institution = Institution(name="Bench-klubben", kind=InstitutionKind.UNGDOMSKLUB, district=district)
    activity = Activity(institution=institution, district=district, title=title, description="", category=category,
                        min_age=10, max_age=24, capacity=capacity, requires_signup=True,
                        status=ActivityStatus.PUBLISHED, **activity_fields)
    activity.refresh_search_text()
    db.session.add_all([programme, district, institution, activity])
    db.session.flush()
    return institution, activity


def api_token(db, user) -> str:
    """A personal API token for ``user``; returns the secret."""
    import secrets

    from youthclub.api.core import hash_token
    from youthclub.models import ApiToken

    secret = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, name="bench", token_hash=hash_token(secret), prefix=secret[:8]))
    return secret
