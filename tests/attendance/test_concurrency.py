"""Two (or twenty) scanners at once, over real HTTP: one pass, one session, one attendance."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
import requests
from sqlalchemy import func, select

from youthclub.attendance.models import Attendance
from youthclub.extensions import db
from youthclub.tokens.services import create_token

THREADS = 20


def _storm(live_server, world, secret, nonces):
    url = f"{live_server.url}/api/v1/sessions/{world.session_a.id}/checkins"
    token = world.youth.pass_token
    barrier = Barrier(len(nonces))

    def scan(nonce):
        with requests.Session() as http:
            barrier.wait()
            r = http.post(url, json={"token": token, "nonce": nonce},
                          headers={"Authorization": f"Bearer {secret}"}, timeout=60)
            return r.status_code, r.json()

    with ThreadPoolExecutor(len(nonces)) as pool:
        return list(pool.map(scan, nonces))


@pytest.fixture
def secret(world):
    _token, secret = create_token(world.staff_a, "Scanner")
    db.session.commit()
    return secret


def _attendances() -> int:
    db.session.remove()
    return db.session.scalar(select(func.count(Attendance.id)))


def test_twenty_scanners_post_the_same_pass_and_one_attendance_is_written(live_server, world, secret):
    results = _storm(live_server, world, secret, [str(uuid.uuid4()) for _ in range(THREADS)])
    statuses = sorted(s for s, _ in results)
    assert statuses == [200] * (THREADS - 1) + [201], results
    assert len({body["attendance"]["id"] for _, body in results}) == 1
    assert _attendances() == 1


def test_twenty_retries_with_the_same_nonce_write_one_attendance(live_server, world, secret):
    nonce = str(uuid.uuid4())
    results = _storm(live_server, world, secret, [nonce] * THREADS)
    assert sorted(s for s, _ in results) == [200] * (THREADS - 1) + [201], results
    assert _attendances() == 1


def test_without_row_locks_the_unique_constraint_still_holds(app, live_server, world, secret):
    """Negative control: locks off, so scanners race to insert; the constraint turns the losers into repeats."""
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite without BEGIN IMMEDIATE fails racing writers with 'database is locked' instead")
    app.config["LOCKING_ENABLED"] = False
    results = _storm(live_server, world, secret, [str(uuid.uuid4()) for _ in range(THREADS)])
    assert sorted(s for s, _ in results) == [200] * (THREADS - 1) + [201], results
    assert _attendances() == 1
