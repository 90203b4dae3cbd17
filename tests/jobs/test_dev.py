"""``youthclub dev`` (what ``make run`` runs): the web server with a worker and the scheduler, or jobs in-process."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import requests

from tests.jobs.conftest import ROOT, free_port, wait_for


def _start(tmp_path, database_uri, **env):
    port = free_port()
    log = tmp_path / "dev.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "youthclub.cli", "dev", "--port", str(port)], cwd=ROOT,
        env=dict(os.environ, YOUTHCLUB_ENV="development", DATABASE_URL=database_uri, PUBLIC_BASE_URL="",
                 YOUTHCLUB_INSTANCE_PATH=str(tmp_path / "instance"), PYTHONUNBUFFERED="1", **env),
        stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    return process, port, log


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _serves(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def test_without_redis_the_jobs_run_in_process_with_a_note(app, database_uri, tmp_path):
    process, port, log = _start(tmp_path, database_uri, REDIS_URL="redis://127.0.0.1:9/0")
    try:
        wait_for(lambda: _serves(port), timeout=30, what="the dev server")
        text = log.read_text()
        assert "no Redis at redis://127.0.0.1:9/0, so jobs run in this process" in text
        assert f"links in mail use http://127.0.0.1:{port}" in text
        assert _children(process.pid) == []
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)


def test_with_redis_a_worker_and_the_scheduler_start_and_stop_with_the_server(app, database_uri, redis_url, tmp_path):
    process, port, log = _start(tmp_path, database_uri, JOBS_BROKER_URL=redis_url)
    try:
        wait_for(lambda: _serves(port), timeout=30, what="the dev server")
        assert f"Jobs: a worker and the scheduler on {redis_url}" in log.read_text()
        children = _children(process.pid)
        assert len(children) == 2
    finally:
        process.send_signal(signal.SIGTERM)  # the server only: it stops its children itself
        process.wait(timeout=20)
    for child in children:
        wait_for(lambda child=child: not os.path.exists(f"/proc/{child}"), timeout=15, what=f"child {child} to stop")
