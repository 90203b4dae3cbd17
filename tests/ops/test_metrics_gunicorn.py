"""/metrics under gunicorn: several worker processes write, one scrape at any of them sees all.

Real gunicorn (gunicorn.conf.py) with two workers on a SQLite file: requests spread over the
workers, then both workers are killed (as a crash would) and replaced, and more requests follow.
A scrape must count every request, those of the dead workers too, and the pool gauges
only of the workers alive.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.ops.conftest import _free_port, _stop, _wait_ready
from tests.ops.test_metrics import parse, value

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "gunicorn-metrics-token-0123456789abcdef"


def workers_of(master: int) -> set[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return {int(pid) for pid in children.read_text().split()} if children.exists() else set()


def wait_for(predicate, what: str, deadline_s: float = 60):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        result = predicate()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def gunicorn(tmp_path):
    yield from _serve(tmp_path, tmp_path / "metrics")


@pytest.fixture
def gunicorn_own_directory(tmp_path):
    """gunicorn with no PROMETHEUS_MULTIPROC_DIR given: the master makes one (``make serve`` as it comes)."""
    yield from _serve(tmp_path, None)


def _serve(tmp_path, metrics_dir):
    if not Path("/proc/self/task").exists():
        pytest.skip("needs /proc to find gunicorn's workers")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TEST_", "PYTEST_", "YOUTHCLUB_", "GUNICORN_", "REDIS_", "PROMETHEUS_"))}
    env.update(YOUTHCLUB_ENV="production", SECRET_KEY="metrics-gunicorn-test-secret",
               DATABASE_URL=f"sqlite:///{tmp_path / 'app.db'}", METRICS_TOKEN=TOKEN,
               GUNICORN_WORKERS="2", PYTHONPATH=str(ROOT),
               YOUTHCLUB_INSTANCE_PATH=str(tmp_path / "instance"))
    upgrade = subprocess.run([sys.executable, "-c", "from youthclub.cli import main; main()", "db", "upgrade"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert upgrade.returncode == 0, upgrade.stderr[-3000:]
    if metrics_dir is not None:
        metrics_dir.mkdir()
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)  # the web processes' directory, not the CLI's
        (metrics_dir / "counter_4242.db").write_bytes(b"left over from a previous run")
    port = _free_port()
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, log_path)
        wait_for(lambda: len(workers_of(process.pid)) == 2, "two workers")
        yield url, process, metrics_dir
    finally:
        _stop(process)


class Scraper:
    """Prometheus at one instance: each scrape answered is counted here (and, once answered, by the app)."""

    def __init__(self, url: str):
        self.url, self.answered = url, 0

    def __call__(self) -> dict:
        response = requests.get(f"{self.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
        assert response.status_code == 200, response.text
        self.answered += 1
        return parse(response.text)

    def pool_size(self) -> float:
        return value(self(), "youthclub_db_pool_size")


def healthz_count(samples: dict) -> float:
    return value(samples, "youthclub_http_requests_total", route="/healthz", method="GET", status="200")


@pytest.mark.slow
def test_one_scrape_sees_every_worker_and_the_dead_ones(gunicorn):
    url, master, metrics_dir = gunicorn
    scrape = Scraper(url)
    assert not (metrics_dir / "counter_4242.db").exists()  # the last run's files are gone
    assert requests.get(f"{url}/metrics", timeout=30).status_code == 401
    first = workers_of(master.pid)
    # the pools of two live workers once both have built the app (SQLAlchemy's default pool_size is 5)
    wait_for(lambda: scrape.pool_size() == 10, "both workers' pools")
    for _ in range(30):
        assert requests.get(f"{url}/healthz", timeout=30).status_code == 200
    assert healthz_count(scrape()) == 30

    for pid in first:
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: (w := workers_of(master.pid)) and len(w) == 2 and not (w & first), "two new workers")
    # gunicorn's child_exit folded the dead workers' counters into the archive and dropped their live gauges
    dead_files = [metrics_dir / f"{kind}_{pid}.db" for pid in first for kind in ("counter", "gauge_livesum")]
    wait_for(lambda: not any(f.exists() for f in dead_files), "the dead workers' files folded")
    assert (metrics_dir / "counter_archive.db").exists() and (metrics_dir / "histogram_archive.db").exists()
    # so the pools counted are the new workers' only (the dead ones' would make 20)
    wait_for(lambda: scrape.pool_size() == 10, "the new workers' pools")

    for _ in range(30):
        assert requests.get(f"{url}/healthz", timeout=30).status_code == 200
    before_last = scrape.answered
    samples = scrape()
    assert healthz_count(samples) == 60
    assert value(samples, "youthclub_http_request_duration_seconds_count", route="/healthz", method="GET") == 60
    assert value(samples, "youthclub_http_request_duration_seconds_bucket", route="/healthz", method="GET",
                 le="+Inf") == 60
    assert value(samples, "youthclub_db_pool_size") == 10
    assert value(samples, "youthclub_metrics_source_up", source="database") == 1
    # every scrape before this one is counted, whichever worker answered it and whether it has died
    # since (a scrape is counted once answered, so not in its own answer), and so is the refused one
    assert value(samples, "youthclub_http_requests_total", route="/metrics", method="GET", status="200") == before_last
    assert value(samples, "youthclub_http_requests_total", route="/metrics", method="GET", status="401") == 1
    # one counter file per live worker beside the archive, however many workers have come and gone
    assert len(list(metrics_dir.glob("counter_*.db"))) <= 3


def test_without_a_directory_the_master_makes_one_and_removes_it_on_exit():
    from youthclub.ops.multiproc import prepare_directory, remove_directory

    environ: dict[str, str] = {}
    path, made = prepare_directory(environ)
    assert made and environ["PROMETHEUS_MULTIPROC_DIR"] == path and os.path.isdir(path)
    Path(path, "counter_1.db").write_bytes(b"")
    Path(path, ".lock").write_bytes(b"")
    remove_directory(path)
    assert not os.path.exists(path)


@pytest.mark.slow
def test_without_a_directory_given_the_master_makes_one_before_prometheus_is_imported(gunicorn_own_directory):
    """prometheus-client decides on import whether it writes to files, and the workers inherit the
    master's imports: a directory made after that import left every worker counting in its own memory,
    and a scrape (which reads the files) showed no request at all."""
    url, _master, _dir = gunicorn_own_directory
    scrape = Scraper(url)
    for _ in range(12):
        assert requests.get(f"{url}/healthz", timeout=30).status_code == 200
    assert healthz_count(scrape()) == 12
