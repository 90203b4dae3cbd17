"""Benchmark: N simultaneous sign-ups over HTTP for 10 places, with the capacity lock and without it.

The baseline is the same stampede with LOCKING_ENABLED=False (which is wrong: it oversells or
errs), so the ratio is what correctness under concurrency costs. Run by hand:

    .venv/bin/python bench/signups.py                       # SQLite (a temporary file)
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/SCRATCH_DB .venv/bin/python bench/signups.py  # its schema is dropped
    .venv/bin/python bench/signups.py --write               # also rewrite docs/benchmarks.md
"""
from __future__ import annotations

import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import write_section  # noqa: E402

N, CAPACITY, ROUNDS = 50, 10, 3
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def make_app(url: str):
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, text

    from config import TestingConfig, database_url
    from youthclub import create_app

    if url.startswith("postgresql"):
        from sqlalchemy.engine import make_url

        u = make_url(database_url(url))
        admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": u.database}):
                conn.exec_driver_sql(f'CREATE DATABASE "{u.database}"')
        admin.dispose()
        engine = create_engine(u)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()

    class BenchConfig(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database_url(url)

    os.environ["YOUTHCLUB_INSTANCE_PATH"] = tempfile.mkdtemp()
    app = create_app(BenchConfig)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    return app


def one_round(app, base: str, locking: bool, round_no: int) -> dict:
    from tests.factories import PASSWORD, make_activity, make_institution, make_youth
    from youthclub.extensions import db
    from youthclub.signups.models import Signup, SignupStatus

    app.config["LOCKING_ENABLED"] = locking
    with app.app_context():
        activity = make_activity(make_institution(), capacity=CAPACITY)
        emails = [make_youth(with_login=True, email=f"b{round_no}-{locking}-{i}@example.org").user.email for i in range(N)]
        db.session.commit()
        activity_id = activity.id

    sessions = []
    for email in emails:
        http = requests.Session()
        token = CSRF.search(http.get(f"{base}/login").text).group(1)
        http.post(f"{base}/login", data={"email": email, "password": PASSWORD, "csrf_token": token}, allow_redirects=False)
        sessions.append((http, CSRF.search(http.get(f"{base}/me/activities").text).group(1)))
    barrier = threading.Barrier(N + 1)
    latencies, statuses = [0.0] * N, [0] * N

    def fire(i, http, token):
        barrier.wait()
        t0 = time.perf_counter()
        statuses[i] = http.post(f"{base}/api/v1/activities/{activity_id}/signups", headers={"X-CSRFToken": token}).status_code
        latencies[i] = time.perf_counter() - t0

    threads = [threading.Thread(target=fire, args=(i, *s)) for i, s in enumerate(sessions)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    with app.app_context():
        confirmed = db.session.scalar(db.select(db.func.count(Signup.id)).where(
            Signup.activity_id == activity_id, Signup.status == SignupStatus.CONFIRMED))
    return {"wall": wall, "p50": statistics.median(latencies), "max": max(latencies),
            "errors": sum(s != 201 for s in statuses), "confirmed": confirmed}


def main() -> None:
    from werkzeug.serving import make_server

    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    app = make_app(url)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    results = {True: [], False: []}
    for r in range(ROUNDS):
        for locking in (True, False):
            results[locking].append(one_round(app, base, locking, r))
    server.shutdown()

    def best(rows, key):
        return min(row[key] for row in rows)

    db_name = "PostgreSQL" if url.startswith("postgresql") else "SQLite (WAL)"
    lines = [
        f"### {db_name}",
        "",
        "| | wall time (best of 3) | median request | slowest request | errors | confirmed of 10 |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for locking, label in ((True, "with the lock (the app)"), (False, "without the lock (baseline, wrong)")):
        rows = results[locking]
        lines.append(
            f"| {label} | {best(rows, 'wall') * 1000:.0f} ms | {statistics.median(r['p50'] for r in rows) * 1000:.0f} ms | "
            f"{max(r['max'] for r in rows) * 1000:.0f} ms | {sum(r['errors'] for r in rows)} | "
            f"{', '.join(str(r['confirmed']) for r in rows)} |"
        )
    ratio = best(results[True], "wall") / best(results[False], "wall")
    lines += ["", f"Ratio with/without the lock (wall time): **{ratio:.2f}**."]
    markdown = "\n".join(lines)
    print(markdown)
    if "--write" in sys.argv:
        section = "signups-sqlite" if db_name.startswith("SQLite") else "signups-postgresql"
        intro = ("## Sign-ups: 50 simultaneous requests for 10 places (`bench/signups.py`)\n\n"
                 "Each of 50 logged-in young people posts to the sign-up API at the same moment (threads "
                 "released by a barrier, threaded werkzeug server, 2 shared cores). The baseline turns the "
                 "capacity lock off, which is faster only because it is wrong.\n\n") if section == "signups-sqlite" else ""
        write_section(section, intro + markdown)


if __name__ == "__main__":
    main()
