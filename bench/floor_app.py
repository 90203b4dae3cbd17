"""The floor: what the check-in's own statements cost under the benchmark's gunicorn settings.

A minimal Flask endpoint, like the ceiling (``bench/minimal_app.py``), that also runs the
check-in's statements on the database driver itself: the principal tag, the scan statement
and the conditional insert, exactly as ``youthclub.attendance.services`` and
``youthclub.api.principals`` build them, in one transaction with its commit on PostgreSQL; on
SQLite as the app runs them, the reads in a transaction of their own and the insert alone.
It is a measuring device, not a check-in: it checks no token, applies none of the door's
rules and writes an attendance only for a young person the scan found (the benchmark's scans
are all valid). Between the ceiling (Flask alone) and the app, it shows how much of the gap is
the database's work and how much the layers around it (Flask's hooks, SQLAlchemy's execution,
the door's Python).

    DATABASE_URL=sqlite:///… gunicorn bench.floor_app:app
"""
from __future__ import annotations

import os
import threading
from datetime import UTC, datetime

from flask import Flask, jsonify, request
from sqlalchemy.dialects import postgresql, sqlite

from youthclub.api.principals import TAG_SQL
from youthclub.attendance import services
from youthclub.attendance.models import CheckinMethod
from youthclub.db_types import UTCDateTime

URL = os.environ.get("DATABASE_URL", "")
KIND = "sqlite" if URL.startswith("sqlite") else "postgresql"
DIALECT = sqlite.dialect() if KIND == "sqlite" else postgresql.psycopg.dialect()
# the app's statements with locking on, as the benchmark runs it (SQLite compiles no row locks)
SCAN = services._SCAN_STATEMENTS[(True, True)].compile(dialect=DIALECT)
INSERT = services._INSERT_STATEMENTS[(KIND, True)].compile(dialect=DIALECT)
_TIME = UTCDateTime()

app = Flask(__name__)
_local = threading.local()


def _connect():
    if KIND == "sqlite":
        import sqlite3

        conn = sqlite3.connect(URL.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False,
                               timeout=30)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn
    import psycopg

    return psycopg.connect(URL.replace("postgresql+psycopg://", "postgresql://"))


def _params(compiled, values: dict):
    """The statement's parameters in the driver's style (SQLite: positional; psycopg: named)."""
    bound = compiled.construct_params(values)
    return [bound[name] for name in compiled.positiontup] if compiled.positiontup else bound


@app.post("/api/v1/sessions/<int:session_id>/checkins")
def checkin(session_id: int):
    body = request.get_json(silent=True) or {}
    conn = getattr(_local, "conn", None) or _connect()
    _local.conn = conn
    cur = conn.cursor()
    if KIND == "sqlite":
        cur.execute("BEGIN")
    cur.execute(TAG_SQL)
    cur.fetchone()
    cur.execute(SCAN.string, _params(SCAN, {"session_id": session_id, "token": body["token"], "youth_id": None,
                                            "nonce": body["nonce"]}))
    row = cur.fetchone()
    if KIND == "sqlite":
        cur.execute("COMMIT")  # the reads end; the insert commits on its own, inside SQLite
    now = datetime.now(UTC)
    stored_now = _TIME.process_bind_param(now, DIALECT)
    cur.execute(INSERT.string, _params(INSERT, {
        "seen_starts_at": row[1], "seen_ends_at": row[2], "youth_id": row[11], "session_id": session_id,
        "method": CheckinMethod.QR.value, "recorded_by_id": None, "scanned_at": stored_now,
        "recorded_at": stored_now, "nonce": body["nonce"], "drop_in": False, "age_override": False,
    }))
    if KIND == "sqlite":
        new = (cur.lastrowid,) if cur.rowcount == 1 else None
    else:
        new = cur.fetchone()
        conn.commit()
    return jsonify({"result": "checked_in" if new else "already_checked_in",
                    "attendance": {"id": new[0] if new else None, "session_id": session_id,
                                   "scanned_at": now.isoformat()},
                    "youth": {"id": row[11], "first_name": row[12]}}), 201 if new else 200
