"""Catalogue speed with 2,000 published offers and 50,000 sessions, against a baseline page.

Run by hand: ``.venv/bin/python -m bench.catalogue [--database-url URL] [--requests N]``.
Builds the data in a fresh database (a temporary SQLite file by default), then times
``GET /activities`` unfiltered and filtered, and the log-in page (the app's lightest
page with the same base template) as the baseline, in the same process and run.
Writes the section "catalogue-speed-sqlite" or "-postgresql" of docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench.report import write_section


def build(url: str):
    os.environ.setdefault("YOUTHCLUB_INSTANCE_PATH", tempfile.mkdtemp())
    from flask_migrate import upgrade

    from config import TestingConfig
    from youthclub import create_app

    class BenchConfig(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url

    app = create_app(BenchConfig)
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
        from sqlalchemy import func, select

        from youthclub.activities.models import Activity
        from youthclub.extensions import db

        if db.session.scalar(select(func.count(Activity.id))):
            raise SystemExit("bench.catalogue needs an empty database (it adds 2,000 offers)")
        from tests.activities.test_catalogue_queries import fill_catalogue

        fill_catalogue()
    return app


def timed(client, path: str, n: int) -> list[float]:
    client.get(path)  # warm-up
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(path)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, (path, response.status_code)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    app = build(url)
    client = app.test_client()
    paths = {
        "baseline: log-in page": "/login",
        "catalogue, first page": "/activities",
        "catalogue, page 50": "/activities?page=50",
        "catalogue, every filter": "/activities?age=14&weekday=2&district=1&q=fodbold&free=y&drop_in=y&category=sport",
    }
    load = os.getloadavg()[0]
    results = {name: statistics.median(timed(client, path, args.requests)) for name, path in paths.items()}
    base = results["baseline: log-in page"]
    rows = "\n".join(f"| {name} | {ms * 1000:.1f} ms | {ms / base:.1f}× |" for name, ms in results.items())
    engine = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    write_section(
        f"catalogue-speed-{engine.lower()}",
        f"## Catalogue speed ({engine})\n\n"
        f"`python -m bench.catalogue` on {engine}: 2,000 published offers, 50,000 sessions, median of "
        f"{args.requests} requests through the WSGI test client (no network), against the log-in page as baseline "
        f"(load average {load:.1f} on the shared machine "
        "when it started: ratios are the figure to read).\n\n"
        f"| page | median | × baseline |\n| --- | --- | --- |\n{rows}",
    )
    print(rows)


if __name__ == "__main__":
    main()
