"""Two (or twenty) scanners at once, over real HTTP: one pass, one session, one attendance."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from threading import Barrier

import pytest
import requests
from sqlalchemy import func, select, text, update

from youthclub.attendance.models import Attendance
from youthclub.extensions import db
from youthclub.reports.models import VisitMonth
from youthclub.reports.visit_counts import find_differences
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


def _one_pass_at_ten_sessions(live_server, world):
    """Ten sessions of one drop-in offer on one day; one young person's pass scanned at all of them at once.

    Every scan adds to the same visit count (young person, month, offer) that the statistics read.
    """
    from tests import factories as fx

    activity = fx.make_activity(world.activity_a.institution, requires_signup=False, capacity=None)
    sessions = [fx.make_session_now(activity) for _ in range(10)]
    # a scanner (with its own token) at each door: one token's use is recorded under a row lock
    secrets = [create_token(world.staff_a, f"Dør {i}")[1] for i in range(len(sessions))]
    db.session.commit()
    activity_id, ids, token = activity.id, [s.id for s in sessions], world.youth.pass_token
    barrier = Barrier(len(ids))

    def scan(session_id, door_secret):
        with requests.Session() as http:
            barrier.wait()
            r = http.post(f"{live_server.url}/api/v1/sessions/{session_id}/checkins",
                          json={"token": token, "nonce": str(uuid.uuid4())},
                          headers={"Authorization": f"Bearer {door_secret}"}, timeout=60)
            return r.status_code

    with ThreadPoolExecutor(len(ids)) as pool:
        statuses = list(pool.map(scan, ids, secrets))
    db.session.remove()
    visits = db.session.scalar(select(VisitMonth.visits).where(VisitMonth.youth_id == world.youth.id,
                                                                VisitMonth.activity_id == activity_id))
    return statuses, visits


def test_ten_scans_of_one_pass_at_once_count_ten_visits(live_server, world):
    statuses, visits = _one_pass_at_ten_sessions(live_server, world)
    assert statuses == [201] * 10
    assert visits == 10
    assert find_differences() == (0, [])


#: the count kept the naive way: read, then insert when there was nothing to add to. The pause
#: between the two stands in for a loaded server: it makes the collision certain, not likely
NAIVE_COUNT = """
CREATE OR REPLACE FUNCTION visit_month_attendance() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT n.youth_id, s.local_month AS month, s.activity_id, count(*) AS n FROM new_rows n
           JOIN session s ON s.id = n.session_id WHERE s.cancelled_at IS NULL GROUP BY 1, 2, 3 LOOP
    UPDATE visit_month SET visits = visits + r.n
      WHERE youth_id = r.youth_id AND month = r.month AND activity_id = r.activity_id;
    IF NOT FOUND THEN
      PERFORM pg_sleep(0.25);
      INSERT INTO visit_month (youth_id, month, activity_id, visits) VALUES (r.youth_id, r.month, r.activity_id, r.n);
    END IF;
  END LOOP;
  RETURN NULL;
END $$
"""


def _migration(revision: str):
    import importlib.util
    from pathlib import Path

    path = next((Path(__file__).parents[2] / "migrations" / "versions").glob(f"*_{revision}_*.py"))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_the_upsert_simultaneous_scans_lose_or_refuse_visits(app, live_server, world):
    """Negative control: counted with read-then-insert, the same ten scans collide on the count."""
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite runs one writer at a time: there is no race to lose")
    db.session.execute(text(NAIVE_COUNT))
    db.session.commit()
    try:
        statuses, visits = _one_pass_at_ten_sessions(live_server, world)
    finally:
        db.session.rollback()
        real = _migration("c3d1a7e5f9b2").POSTGRESQL[0].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
        db.session.execute(text(real))
        db.session.commit()
    assert statuses != [201] * 10 or visits != 10, (statuses, visits)


def test_one_door_does_not_queue_behind_an_open_check_in_but_a_change_to_the_session_does(app, live_server, world,
                                                                                        secret):
    """One door is one session: a check-in whose transaction is still open must not hold up the next pass
    (the old row lock did), while cancelling the session must wait for it (the visit counts depend on it)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: its check-ins queue for the database, briefly")
    from sqlalchemy.exc import OperationalError

    from tests import factories as fx
    from youthclub.attendance import services

    other = fx.make_youth(first_name="Noah")
    fx.sign_up(other, world.activity_a)
    db.session.commit()
    session_id, other_token = world.session_a.id, other.pass_token
    with app.test_request_context():
        # a check-in in flight: read and inserted, not yet committed
        services.check_in(session_id, world.youth.pass_token, nonce=str(uuid.uuid4()), by_user=world.staff_a)
        try:
            r = requests.post(f"{live_server.url}/api/v1/sessions/{session_id}/checkins",
                              json={"token": other_token, "nonce": str(uuid.uuid4())},
                              headers={"Authorization": f"Bearer {secret}"}, timeout=5)
            assert r.status_code == 201, r.text
            with db.engine.connect() as staff_page:
                staff_page.exec_driver_sql("SET lock_timeout = '300ms'")
                with pytest.raises(OperationalError, match="lock timeout"):
                    staff_page.execute(text("UPDATE session SET cancelled_at = now() WHERE id = :id"),
                                       {"id": session_id})
        finally:
            db.session.rollback()


def test_a_check_in_is_a_handful_of_statements(app, client, world, secret):
    """A ceiling, not a target: the token with its user and roles (or, once this worker keeps them, the
    principals' tag), one read, one insert, and the two writes that happen at most once a minute (the
    token's last use) and once a day (last active)."""
    from sqlalchemy import event

    from tests import factories as fx

    youths = [fx.make_youth(first_name=f"Ung{i}") for i in range(2)]
    for youth in youths:
        fx.sign_up(youth, world.activity_a)
    # not seen today: the first check-in also writes the young person's last-active day
    youths[0].last_active_at = datetime.now(UTC) - timedelta(days=3)
    db.session.commit()
    url, tokens = f"/api/v1/sessions/{world.session_a.id}/checkins", [y.pass_token for y in youths]
    db.session.remove()
    statements = []

    def count(conn, cursor, statement, *args):
        # statements of work; SQLite's BEGIN before the reads (database.reads_first) is not one
        if statement.strip().upper() != "BEGIN":
            statements.append(" ".join(statement.split())[:120])

    def check_in(token):
        statements.clear()
        r = client.post(url, json={"token": token, "nonce": str(uuid.uuid4())},
                        headers={"Authorization": f"Bearer {secret}"})
        assert r.status_code == 201, r.json
        return list(statements)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        first = check_in(tokens[0])
        then = check_in(tokens[1])
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    # the worker's first use of the token: the tag, then the token (kept from here on)
    assert len(first) <= 6, "\n".join(first)
    # the token used a moment ago and kept, the young person active today: the tag, the scan, the insert
    assert len(then) <= 3, "\n".join(then)
    assert not any("FROM api_token" in s for s in then), "\n".join(then)


def test_a_check_in_prepares_no_statement_again(app, client, world, secret):
    """SQLite: once a connection has prepared the check-in's statements, a check-in prepares none again.

    A value bound in the condition of a partial index (the sign-up's ``status != ?``) made SQLite
    prepare the scan again for every execution: ten times its cost (``tests/prepares.py``).
    """
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the authorizer is SQLite's")
    from tests import factories as fx
    from tests.prepares import watch_prepares

    youths = [fx.make_youth(first_name=f"Ung{i}") for i in range(3)]
    for youth in youths:
        fx.sign_up(youth, world.activity_a)
    db.session.commit()
    url, tokens = f"/api/v1/sessions/{world.session_a.id}/checkins", [y.pass_token for y in youths]
    db.session.remove()

    def check_in(token):
        r = client.post(url, json={"token": token, "nonce": str(uuid.uuid4())},
                        headers={"Authorization": f"Bearer {secret}"})
        assert r.status_code == 201, r.json

    with watch_prepares(db.engine) as prepared:
        assert prepared.of(lambda: check_in(tokens[0])), "the authorizer sees the statements prepared"
        prepared.of(lambda: check_in(tokens[1]))
        again = prepared.of(lambda: check_in(tokens[2]))
    assert again == [], "\n".join(map(str, again))


def test_a_session_moved_while_a_check_in_is_in_flight_keeps_the_visit(app, live_server, world):
    """Staff move today's session to next week while a pass is being checked in: the move waits for the
    check-in, then sees its visit and is refused; the visit is never carried to next week."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: there is no race to lose")
    import re
    import threading

    from tests.factories import PASSWORD
    from youthclub.activities.models import Session
    from youthclub.attendance import services
    from youthclub.i18n import to_local

    session_id, staff_email = world.session_a.id, world.staff_a.email
    next_week = to_local(world.session_a.starts_at + timedelta(days=7))
    end = to_local(world.session_a.ends_at + timedelta(days=7))
    starts_at = world.session_a.starts_at
    db.session.commit()
    csrf = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
    http = requests.Session()
    token = csrf.search(http.get(f"{live_server.url}/login", timeout=30).text).group(1)
    assert http.post(f"{live_server.url}/login", data={"email": staff_email, "password": PASSWORD, "csrf_token": token},
                     allow_redirects=False, timeout=30).status_code == 302
    token = csrf.search(http.get(f"{live_server.url}/sessions/{session_id}/move", timeout=30).text).group(1)
    answer: list = []

    def move():
        answer.append(http.post(f"{live_server.url}/sessions/{session_id}/move", data={
            "csrf_token": token, "day": next_week.date().isoformat(), "start_time": next_week.strftime("%H:%M"),
            "end_time": end.strftime("%H:%M")}, allow_redirects=False, timeout=60))

    with app.test_request_context():
        # a check-in in flight: read and inserted, not yet committed
        services.check_in(session_id, world.youth.pass_token, nonce=str(uuid.uuid4()), by_user=world.staff_a)
        mover = threading.Thread(target=move)
        mover.start()
        mover.join(timeout=1.0)
        assert mover.is_alive(), "the move did not wait for the check-in in flight"
        db.session.commit()
    mover.join(timeout=30)
    assert answer[0].status_code == 200 and "Der er registreret fremmøde" in answer[0].text
    db.session.remove()
    assert db.session.get(Session, session_id).starts_at == starts_at
    assert _attendances() == 1


def _change_session_after_the_scan_is_read(change: str):
    """While a check-in is between its reads and its insert, another writer changes the session
    (SQLite: the reads run before the write lock, ``database.reads_first``)."""

    done = []

    def after(conn, cursor, statement, *args):
        if not done and statement.lstrip().startswith("SELECT session.id, session.starts_at"):
            done.append(statement)
            with db.engine.connect().execution_options(another_writer=True) as other:
                other.execute(text(change))
                other.commit()

    return after


@pytest.mark.parametrize(("change", "code"), [
    ("UPDATE session SET cancelled_at = CURRENT_TIMESTAMP", "session_cancelled"),
    ("UPDATE session SET starts_at = datetime(starts_at, '+7 days'), ends_at = datetime(ends_at, '+7 days')",
     "session_not_now"),
])
@pytest.mark.parametrize("checked", [True, False], ids=["checked-in-the-insert", "negative-control"])
def test_a_session_changed_between_the_reads_and_the_insert_gets_no_visit(app, client, world, secret, monkeypatch,
                                                                          change, code, checked):
    """The insert checks the session as read again; the scan is decided anew and refused. Without
    that check (the negative control) the cancelled or moved session would keep the visit."""
    from sqlalchemy import event
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    from youthclub.attendance import services

    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL share-locks the session from the read to the commit: the change waits (tests above)")
    if not checked:
        # the insert as it was before it checked the session again
        y, att = services._y, services._att
        source = select(y.c.id, *(services.bindparam(c, type_=att.c[c].type) for c in services._INSERTED)).where(
            y.c.id == services.bindparam("youth_id"))
        plain = sqlite_insert(att).from_select(["youth_id", *services._INSERTED], source).on_conflict_do_nothing()
        monkeypatch.setitem(services._INSERT_STATEMENTS, ("sqlite", True), plain)
    from youthclub.accounts.models import ApiToken

    session_id = world.session_a.id
    # the token was used a moment ago: this check-in writes nothing before its insert
    db.session.execute(update(ApiToken).values(last_used_at=datetime.now(UTC)))
    db.session.commit()
    hook = _change_session_after_the_scan_is_read(f"{change} WHERE id = {session_id}")
    event.listen(db.engine, "after_cursor_execute", hook)
    try:
        r = client.post(f"/api/v1/sessions/{session_id}/checkins", json={"token": world.youth.pass_token,
                        "nonce": str(uuid.uuid4())}, headers={"Authorization": f"Bearer {secret}"})
    finally:
        event.remove(db.engine, "after_cursor_execute", hook)
    if checked:
        assert r.status_code == 422 and r.json["error"]["code"] == code, r.json
        assert _attendances() == 0
    else:
        assert r.status_code == 201, r.json
        assert _attendances() == 1
    assert find_differences() == (0, [])


def test_a_session_whose_times_were_written_by_hand_still_checks_in(app, client, world, secret):
    """The insert compares the session's times with those read. SQLite keeps them as text, and a time
    written outside the ORM (a script, a bulk load: '2026-12-01 17:00:00', no microseconds) reads back
    equal but is spelt otherwise: the pass must still check in, not be taken for a changed session."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL compares timestamps, not their spelling")
    session_id = world.session_a.id
    db.session.commit()
    db.session.execute(text("UPDATE session SET starts_at = strftime('%Y-%m-%d %H:%M:%S', starts_at), "
                            "ends_at = strftime('%Y-%m-%d %H:%M:%S', ends_at) WHERE id = :id"), {"id": session_id})
    db.session.commit()
    assert "." not in db.session.execute(text("SELECT starts_at FROM session WHERE id = :id"), {"id": session_id}).scalar()
    r = client.post(f"/api/v1/sessions/{session_id}/checkins", json={"token": world.youth.pass_token,
                    "nonce": str(uuid.uuid4())}, headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 201, r.json
    assert _attendances() == 1


def test_a_session_that_keeps_changing_under_the_scan_is_answered_with_scan_again(app, client, world, secret,
                                                                                 monkeypatch):
    """Read again and still changed (the session changed twice within one scan): a clear 409 the scanner
    shows and sends again, never a refusal of a good pass, never a 500."""
    from youthclub.attendance import services

    monkeypatch.setattr(services, "_insert_attendance", lambda *args, **kwargs: None)
    session_id = world.session_a.id
    db.session.commit()
    r = client.post(f"/api/v1/sessions/{session_id}/checkins", json={"token": world.youth.pass_token,
                    "nonce": str(uuid.uuid4())}, headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 409 and r.json["error"]["code"] == "session_changed", r.json
    assert _attendances() == 0


def _lock_waits_observed(what: str = "_count") -> float:
    from youthclub.ops.metrics import SQLITE_WRITE_LOCK_WAIT

    return next(s.value for m in SQLITE_WRITE_LOCK_WAIT.collect() for s in m.samples if s.name.endswith(what))


def test_twenty_young_people_at_one_door_at_once_are_all_checked_in(live_server, world, secret):
    """One door, twenty passes at the same instant: twenty visits, counted once each. On SQLite
    each insert runs on its own and waits for the write lock in short steps, observed."""
    from tests.factories import make_youth, sign_up

    youths = [make_youth(first_name=f"Ung{i}") for i in range(THREADS)]
    for youth in youths:
        sign_up(youth, world.activity_a)
    db.session.commit()
    tokens = [y.pass_token for y in youths]
    url = f"{live_server.url}/api/v1/sessions/{world.session_a.id}/checkins"
    barrier = Barrier(THREADS)
    waits_before = _lock_waits_observed()

    def scan(token):
        with requests.Session() as http:
            barrier.wait()
            return http.post(url, json={"token": token, "nonce": str(uuid.uuid4())},
                             headers={"Authorization": f"Bearer {secret}"}, timeout=60).status_code

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = list(pool.map(scan, tokens))
    assert statuses == [201] * THREADS
    assert _attendances() == THREADS
    assert find_differences() == (0, [])
    if db.engine.dialect.name == "sqlite":
        assert _lock_waits_observed() - waits_before >= THREADS


@pytest.mark.parametrize("held, timeout_ms, status", [(0.3, 15000, 201), (0.6, 100, 503)],
                         ids=["waits-for-the-lock", "gives-up-at-the-busy-timeout"])
def test_a_lone_check_in_waits_for_another_writer_in_short_steps(app, client, world, secret, held, timeout_ms,
                                                                    status):
    """SQLite: another writer holds the write lock; the check-in's insert waits for it (observed),
    or at the busy timeout answers 503 with nothing written."""
    import sqlite3
    import threading

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's one write lock")
    from tests.factories import make_youth, sign_up

    app.config["SQLITE_BUSY_TIMEOUT_MS"] = timeout_ms
    url = f"/api/v1/sessions/{world.session_a.id}/checkins"
    first = make_youth()
    sign_up(first, world.activity_a)
    db.session.commit()
    # a first check-in, so the token's last use is written already (bookkeeping of its own)
    assert client.post(url, json={"token": first.pass_token, "nonce": str(uuid.uuid4())},
                       headers={"Authorization": f"Bearer {secret}"}).status_code == 201
    scan = {"token": world.youth.pass_token, "nonce": str(uuid.uuid4())}
    db.session.remove()
    other = sqlite3.connect(db.engine.url.database, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    release = threading.Timer(held, other.execute, ("COMMIT",))
    release.start()
    waited = _lock_waits_observed("_sum")
    try:
        r = client.post(url, json=scan, headers={"Authorization": f"Bearer {secret}"})
    finally:
        release.join()
        other.close()
    assert r.status_code == status, r.get_json()
    assert _attendances() == (2 if status == 201 else 1)
    if status == 201:
        assert _lock_waits_observed("_sum") - waited >= held * 0.8
