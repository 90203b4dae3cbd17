"""A pass scanned at the door while staff merge that profile away (PostgreSQL: real row locks)."""
from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select, text

from tests import factories as fx
from youthclub.accounts.merge import merge_youths
from youthclub.accounts.models import User, YouthProfile
from youthclub.attendance.models import Attendance, ScanConflict
from youthclub.extensions import db
from youthclub.reports.visit_counts import find_differences
from youthclub.tokens.services import create_token


def _wait_for_a_blocked_query(timeout: float = 10.0) -> None:
    """Until another connection waits for a lock (the scan waiting for the merge), polled on a third connection."""
    deadline = time.monotonic() + timeout
    with db.engine.connect() as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"))
            if waiting:
                return
            watcher.rollback()
            time.sleep(0.02)
    raise AssertionError("the scan never waited for the merge")


@pytest.mark.parametrize("offline", [False, True], ids=["online", "offline-batch"])
def test_a_scan_of_the_removed_pass_during_a_merge_waits_and_is_refused_as_revoked(app, world, request, offline):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: the scan simply queues behind the merge")
    keep, remove = fx.make_youth(first_name="Zara"), fx.make_youth(first_name="Zara")
    keep.registered_by_institution_id = remove.registered_by_institution_id = world.inst_a.id
    fx.sign_up(remove, world.activity_a)
    _token, secret = create_token(world.staff_a, "Scanner")
    db.session.commit()
    keep_id, remove_id, old_pass, admin_id = keep.id, remove.id, remove.pass_token, world.admin.id
    session_id = world.session_a.id
    base = request.getfixturevalue("live_server").url
    url = f"{base}/api/v1/sessions/{session_id}/checkins"
    nonce = str(uuid.uuid4())
    scan_url, body = (f"{base}/api/v1/checkins/batch",
                      {"items": [{"session_id": session_id, "token": old_pass, "nonce": nonce}]}) if offline \
        else (url, {"token": old_pass, "nonce": nonce})

    with app.test_request_context("/"):
        merge_youths(db.session.get(YouthProfile, keep_id), db.session.get(YouthProfile, remove_id),
                     db.session.get(User, admin_id))
        with ThreadPoolExecutor(1) as pool:
            scan = pool.submit(requests.post, scan_url, json=body, headers={"Authorization": f"Bearer {secret}"}, timeout=60)
            _wait_for_a_blocked_query()
            db.session.commit()
            response = scan.result()

    assert response.status_code < 500, response.text
    answer = response.json()["results"][0] if offline else response.json()
    assert answer["error"]["code"] == "revoked_token" and answer["error"]["youth_id"] == keep_id
    db.session.remove()
    if offline:  # kept for staff to see, against the kept profile
        conflict = db.session.scalar(select(ScanConflict).where(ScanConflict.nonce == nonce))
        assert conflict.code == "revoked_token" and conflict.youth_id == keep_id
    assert db.session.scalar(select(func.count(Attendance.id)).where(Attendance.youth_id == remove_id)) == 0
    assert find_differences() == (0, [])
    # the kept profile's pass works at once
    again = requests.post(url, json={"token": db.session.get(YouthProfile, keep_id).pass_token,
                                     "nonce": str(uuid.uuid4())},
                          headers={"Authorization": f"Bearer {secret}"}, timeout=60)
    assert again.status_code == 201, again.text
