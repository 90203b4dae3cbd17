"""Several instances at once: two gunicorn instances on one PostgreSQL database and one Redis.

Each case drives both instances over real HTTP. More cases (sign-ups split over both
instances, one pass scanned on both) use the same ``two_instances`` fixture
(tests/ops/conftest.py).
"""
from __future__ import annotations

from tests import second_factor
from tests.conftest import CSRF_RE
from youthclub.extensions import db

PASSWORD = "correct horse battery"
EMAIL = "medarbejder@example.org"


def make_staff(two_instances):
    from tests.factories import make_second_factor, make_user
    from youthclub.models import Role

    with two_instances.app.app_context():
        make_second_factor(make_user(Role.COORDINATOR, email=EMAIL, password=PASSWORD))
        db.session.commit()
        db.session.remove()


def test_both_instances_share_sessions(two_instances):
    """A session cookie from one instance works on the other: instances keep no state."""
    make_staff(two_instances)
    a, b = two_instances.urls
    browser = two_instances.browser()
    for base in (a, b):
        assert browser.get(f"{base}/readyz").json() == {
            "status": "ready", "database": "ok", "migrations": "current", "redis": "ok"}
    response = browser.login(a, EMAIL, PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].endswith(second_factor.CHALLENGE)
    assert browser.get(f"{b}/account").status_code == 302  # the password alone opens nothing
    # the code step on the other instance: what lies between the steps is in the cookie
    token = CSRF_RE.search(browser.get(f"{b}{second_factor.CHALLENGE}").text).group(1)
    with two_instances.app.app_context():
        code = second_factor.code_for(EMAIL)
        db.session.remove()
    assert browser.post(f"{b}{second_factor.CHALLENGE}", data={"code": code, "csrf_token": token}).status_code == 302
    assert browser.get(f"{a}/account").status_code == 200
    assert browser.get(f"{b}/account").status_code == 200
    assert two_instances.browser().get(f"{b}/account").status_code == 302  # and without it, no access


def test_login_rate_limit_counts_across_both_instances(two_instances):
    """Wrong passwords alternated between the instances meet one limit (5 a minute per account)."""
    make_staff(two_instances)
    a, b = two_instances.urls
    browser = two_instances.browser()
    token = browser.csrf_token(b)  # one instance's form token is good on the other
    statuses = []
    for attempt in range(8):
        base = (a, b)[attempt % 2]
        statuses.append(browser.login(base, EMAIL, "wrong password here", token=token).status_code)
        if statuses[-1] == 429:
            break
    # alone, either instance has seen at most three attempts; together they have seen five
    assert statuses == [401, 401, 401, 401, 401, 429]
    # the limit is on the account in Redis: the right password waits too, on both instances
    assert browser.login(a, EMAIL, PASSWORD, token=token).status_code == 429
    assert browser.login(b, EMAIL, PASSWORD, token=token).status_code == 429
    # another account is not held up
    assert two_instances.browser().login(a, "someone.else@example.org", "wrong password here").status_code == 401


def _api_token(user) -> str:
    import secrets

    from youthclub.api.core import hash_token
    from youthclub.models import ApiToken

    secret = secrets.token_urlsafe(24)
    db.session.add(ApiToken(user=user, name="test", token_hash=hash_token(secret), prefix=secret[:8]))
    return secret


def test_hundred_signups_for_ten_places_split_across_both_instances(two_instances):
    """100 young people sign up at once, half through each instance: exactly 10 get a place."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import requests
    from sqlalchemy import select

    from tests.factories import make_activity, make_institution, make_youth
    from youthclub.models import Signup, SignupStatus

    with two_instances.app.app_context():
        activity = make_activity(make_institution(), capacity=10)
        tokens = [_api_token(make_youth(with_login=True).user) for _ in range(100)]
        db.session.commit()
        activity_id = activity.id
        db.session.remove()

    start = threading.Barrier(len(tokens))

    def sign_up(i_token):
        i, token = i_token
        base = two_instances.urls[i % 2]
        start.wait()
        r = requests.post(f"{base}/api/v1/activities/{activity_id}/signups", json={},
                          headers={"Authorization": f"Bearer {token}"}, timeout=120)
        return r.status_code, r.json()

    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        answers = list(pool.map(sign_up, enumerate(tokens)))

    assert all(status == 201 for status, _ in answers), sorted({s for s, _ in answers})
    with two_instances.app.app_context():
        rows = db.session.scalars(select(Signup).where(Signup.activity_id == activity_id)).all()
        confirmed = [r for r in rows if r.status == SignupStatus.CONFIRMED]
        waiting = sorted(r.position for r in rows if r.status == SignupStatus.WAITLISTED)
        db.session.remove()
    assert len(confirmed) == 10
    assert waiting == list(range(1, 91))


def test_the_same_pass_scanned_on_both_instances_writes_one_attendance(two_instances):
    """Two scanners, one on each instance, scan the same pass at the same moment."""
    import threading
    import uuid
    from concurrent.futures import ThreadPoolExecutor

    import requests
    from sqlalchemy import func, select

    from tests.factories import make_activity, make_institution, make_session_now, make_user, make_youth, sign_up
    from youthclub.models import Attendance, Role

    with two_instances.app.app_context():
        institution = make_institution()
        activity = make_activity(institution)
        session = make_session_now(activity)
        youth = make_youth()
        sign_up(youth, activity)
        staff_token = _api_token(make_user(Role.STAFF, institution))
        db.session.commit()
        session_id, pass_token = session.id, youth.pass_token
        db.session.remove()

    start = threading.Barrier(20)

    def scan(i):
        base = two_instances.urls[i % 2]
        start.wait()
        r = requests.post(f"{base}/api/v1/sessions/{session_id}/checkins",
                          json={"token": pass_token, "nonce": str(uuid.uuid4())},
                          headers={"Authorization": f"Bearer {staff_token}"}, timeout=60)
        return r.status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = sorted(pool.map(scan, range(20)))

    assert statuses == [200] * 19 + [201]
    with two_instances.app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Attendance).where(Attendance.session_id == session_id))
        db.session.remove()
    assert count == 1
