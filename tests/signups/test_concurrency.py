"""50 young people press "sign up" at the same moment for 10 places, over real HTTP.

Each thread is a different logged-in young person with their own session cookie; the
requests are released together by a barrier. With locking on, exactly 10 get a place
and 40 get waitlist places 1..40. The negative control turns the lock off and shows
the same test would catch an oversell (or the errors a race produces).
"""
from __future__ import annotations

import re
import threading

import pytest
import requests

from tests.factories import PASSWORD, make_activity, make_youth
from youthclub.extensions import db
from youthclub.signups.models import Signup, SignupStatus

N_PEOPLE, CAPACITY = 50, 10
CSRF_META = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def crowd(world):
    activity = make_activity(world.inst_a, title="Koncert", capacity=CAPACITY)
    people = [make_youth(with_login=True, email=f"crowd{i}@example.org") for i in range(N_PEOPLE)]
    db.session.commit()
    return activity.id, [p.user.email for p in people]


def _logged_in_session(base: str, email: str) -> tuple[requests.Session, str]:
    http = requests.Session()
    token = CSRF_META.search(http.get(f"{base}/login", timeout=30).text).group(1)
    response = http.post(f"{base}/login", data={"email": email, "password": PASSWORD, "csrf_token": token},
                         allow_redirects=False, timeout=30)
    assert response.status_code == 302, response.text[:300]
    token = CSRF_META.search(http.get(f"{base}/me/activities", timeout=30).text).group(1)
    return http, token


def _stampede(base: str, activity_id: int, emails: list[str]) -> list:
    sessions = [_logged_in_session(base, email) for email in emails]
    barrier = threading.Barrier(len(sessions))
    results: list = [None] * len(sessions)

    def fire(i, http, token):
        barrier.wait()
        try:
            r = http.post(f"{base}/api/v1/activities/{activity_id}/signups", headers={"X-CSRFToken": token},
                          json={}, timeout=120)
            results[i] = (r.status_code, r.json() if r.headers.get("Content-Type", "").startswith("application/json") else r.text[:200])
        except requests.RequestException as err:  # pragma: no cover - reported in the assertion
            results[i] = ("exception", str(err))

    threads = [threading.Thread(target=fire, args=(i, http, token)) for i, (http, token) in enumerate(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    for http, _ in sessions:
        http.close()
    return results


def _rows(activity_id):
    db.session.expire_all()
    return db.session.scalars(db.select(Signup).where(Signup.activity_id == activity_id)).all()


def test_fifty_simultaneous_signups_never_oversell(app, crowd, live_server):
    activity_id, emails = crowd
    results = _stampede(live_server.url, activity_id, emails)

    assert all(status == 201 for status, _ in results), [r for r in results if r[0] != 201][:5]
    bodies = [body for _, body in results]
    assert sum(b["status"] == "confirmed" for b in bodies) == CAPACITY
    assert sorted(b["position"] for b in bodies if b["status"] == "waitlisted") == list(range(1, N_PEOPLE - CAPACITY + 1))
    rows = _rows(activity_id)
    assert sum(r.status == SignupStatus.CONFIRMED for r in rows) == CAPACITY
    assert sorted(r.position for r in rows if r.status == SignupStatus.WAITLISTED) == list(range(1, N_PEOPLE - CAPACITY + 1))


def test_negative_control_without_the_lock_misbehaves(app, crowd, live_server):
    """Proof that the test above can fail: without the lock the same stampede oversells or errs."""
    app.config["LOCKING_ENABLED"] = False
    activity_id, emails = crowd
    results = _stampede(live_server.url, activity_id, emails)

    errors = [r for r in results if r[0] != 201]
    rows = _rows(activity_id)
    confirmed = sum(r.status == SignupStatus.CONFIRMED for r in rows)
    positions = [r.position for r in rows if r.status == SignupStatus.WAITLISTED]
    misbehaved = (
        bool(errors)
        or confirmed > CAPACITY
        or sorted(positions) != list(range(1, len(positions) + 1))
    )
    print(f"control: {len(errors)} errors, {confirmed} confirmed of {CAPACITY}, waitlist positions {sorted(positions)}")
    assert misbehaved, "without the lock 50 simultaneous sign-ups still came out right: the test could not catch a race"


def test_an_api_sign_up_with_a_young_persons_token_is_a_bounded_number_of_statements(app, client, world):
    """A ceiling, not a target: the token with its user and roles kept by the worker since the app's
    first request (only the principals' tag read), the profile alone (not the user, its roles and then
    the profile), last active at most once a day; the rest is the capacity rule under the activity's lock."""
    from sqlalchemy import event

    from youthclub.tokens.services import create_token

    activity = make_activity(world.inst_a, title="Koncert", capacity=CAPACITY)
    youth = make_youth(with_login=True, email="solo@example.org")
    _token, secret = create_token(youth.user, "app")
    db.session.commit()
    url = f"/api/v1/activities/{activity.id}/signups"
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200  # the app's first
    db.session.remove()
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split())[:100])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        r = client.post(url, json={}, headers={"Authorization": f"Bearer {secret}"})
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert r.status_code == 201, r.json
    assert not any(s.startswith("SELECT membership") or "FROM api_token" in s for s in statements), "\n".join(statements)
    assert len(statements) <= 12, "\n".join(statements)


def test_an_api_sign_up_prepares_no_statement_again(app, client, world):
    """SQLite: the third young person's sign-up runs only statements the connection has prepared already
    (``tests/prepares.py``): none bound a value into the partial index's condition."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the authorizer is SQLite's")
    from tests.prepares import watch_prepares
    from youthclub.tokens.services import create_token

    activity = make_activity(world.inst_a, title="Koncert", capacity=3)
    secrets = []
    for i in range(3):
        youth = make_youth(with_login=True, email=f"solo{i}@example.org")
        secrets.append(create_token(youth.user, "app")[1])
    db.session.commit()
    url = f"/api/v1/activities/{activity.id}/signups"
    db.session.remove()

    def sign_up(secret):
        r = client.post(url, json={}, headers={"Authorization": f"Bearer {secret}"})
        assert r.status_code == 201, r.json

    with watch_prepares(db.engine) as prepared:
        prepared.of(lambda: sign_up(secrets[0]))
        prepared.of(lambda: sign_up(secrets[1]))
        again = prepared.of(lambda: sign_up(secrets[2]))  # the last place: the same way as the first two
    assert again == [], "\n".join(map(str, again))


@pytest.fixture
def full_with_a_line(world):
    """A full offer (2 places) with Ida, then Ole, waiting, and eight newcomers with a login each."""
    from youthclub.signups import services

    activity = make_activity(world.inst_a, title="Klatrevæg", capacity=2)
    first, second, ida, ole = (make_youth(with_login=True, email=f"held{i}@example.org") for i in range(4))
    held = services.sign_up(first, activity)
    services.sign_up(second, activity)
    services.sign_up(ida, activity)
    services.sign_up(ole, activity)
    newcomers = [make_youth(with_login=True, email=f"new{i}@example.org") for i in range(8)]
    facts = {"emails": [y.user.email for y in [first, *newcomers]], "staff_email": world.staff_a.email,
             "district_id": world.district_a.id, "activity_id": activity.id, "held_id": held.id,
             "waited": {ida.id, ole.id}}
    db.session.commit()
    return facts


def test_a_place_freed_while_newcomers_sign_up_goes_to_the_one_who_waited(app, full_with_a_line, live_server):
    """The offer is full and Ida waits, then Ole. At the same moment one confirmed young person cancels, staff
    raise the capacity by one, and eight newcomers sign up: Ida and Ole get the two places, and every
    newcomer queues behind them (positions 1..8, no gaps)."""
    facts = full_with_a_line
    activity_id, held_id, waited = facts["activity_id"], facts["held_id"], facts["waited"]
    staff_email, district_id = facts["staff_email"], facts["district_id"]
    sessions = [_logged_in_session(live_server.url, email) for email in facts["emails"]]
    base = live_server.url
    staff = requests.Session()
    token = CSRF_META.search(staff.get(f"{base}/login", timeout=30).text).group(1)
    assert staff.post(f"{base}/login", data={"email": staff_email, "password": PASSWORD, "csrf_token": token},
                      allow_redirects=False, timeout=30).status_code == 302
    edit = staff.get(f"{base}/activities/{activity_id}/edit", timeout=30).text
    staff_token = CSRF_META.search(edit).group(1)
    form = {"csrf_token": staff_token, "title": "Klatrevæg", "description": "", "category": "sport", "min_age": "10",
            "max_age": "24", "capacity": "3", "district_id": str(district_id), "requires_signup": "y",
            "waitlist_enabled": "y"}
    barrier = threading.Barrier(len(sessions) + 1)
    answers: list = [None] * (len(sessions) + 1)

    def fire(i):
        barrier.wait()
        if i == len(sessions):
            answers[i] = staff.post(f"{base}/activities/{activity_id}/edit", data=form, allow_redirects=False,
                                    timeout=120).status_code
            return
        http, csrf = sessions[i]
        if i == 0:
            answers[i] = http.delete(f"{base}/api/v1/signups/{held_id}", headers={"X-CSRFToken": csrf},
                                     timeout=120).status_code
        else:
            answers[i] = http.post(f"{base}/api/v1/activities/{activity_id}/signups", headers={"X-CSRFToken": csrf},
                                   json={}, timeout=120).status_code

    threads = [threading.Thread(target=fire, args=(i,)) for i in range(len(sessions) + 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert answers == [200] + [201] * 8 + [302], answers
    rows = _rows(activity_id)
    confirmed = {r.youth_id for r in rows if r.status == SignupStatus.CONFIRMED}
    assert waited <= confirmed and len(confirmed) == 3
    positions = sorted(r.position for r in rows if r.status == SignupStatus.WAITLISTED)
    assert positions == list(range(1, 8 + 1))
