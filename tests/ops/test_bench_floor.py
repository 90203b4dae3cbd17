"""The check-in benchmark's floor (``bench/floor_app.py``) runs the door's own statements.

The floor is a measuring device: it is only a floor while its statements are the app's. This
keeps it from drifting: built from the same statements, on the test database, it writes one
attendance for a valid scan and none for a repeat.
"""
from __future__ import annotations

import importlib
import uuid

import pytest

from youthclub.attendance.models import Attendance
from youthclub.extensions import db

from ..factories import make_activity, make_institution, make_session_now, make_youth, sign_up


@pytest.fixture
def floor(monkeypatch, database_uri):
    """The floor's app on the test database; its connection is closed afterwards."""
    monkeypatch.setenv("DATABASE_URL", database_uri)
    import bench.floor_app

    module = importlib.reload(bench.floor_app)
    yield module.app.test_client()
    conn = getattr(module._local, "conn", None)
    if conn is not None:
        conn.close()


def test_the_floor_writes_one_attendance_per_scan_with_the_apps_statements(app, floor):
    activity = make_activity(make_institution())
    session = make_session_now(activity)
    youth = make_youth()
    sign_up(youth, activity)
    session_id, youth_id, token = session.id, youth.id, youth.pass_token
    db.session.commit()

    first = floor.post(f"/api/v1/sessions/{session_id}/checkins", json={"token": token, "nonce": str(uuid.uuid4())})
    again = floor.post(f"/api/v1/sessions/{session_id}/checkins", json={"token": token, "nonce": str(uuid.uuid4())})

    assert first.status_code == 201 and first.json["youth"]["id"] == youth_id
    assert again.status_code == 200 and again.json["result"] == "already_checked_in"
    db.session.expire_all()
    rows = db.session.query(Attendance).filter_by(session_id=session_id).all()
    assert [(a.youth_id, a.scanned_at.tzinfo is not None) for a in rows] == [(youth_id, True)]
    assert first.json["attendance"]["id"] == rows[0].id
