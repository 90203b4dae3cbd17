"""Several instances at once: two gunicorn instances on one PostgreSQL database and one Redis.

Each case drives both instances over real HTTP. More cases (sign-ups split over both
instances, one pass scanned on both) use the same ``two_instances`` fixture
(tests/ops/conftest.py).
"""
from __future__ import annotations

from youthclub.extensions import db

PASSWORD = "correct horse battery"
EMAIL = "medarbejder@example.org"


def make_staff(two_instances):
    from tests.factories import make_user
    from youthclub.models import Role

    with two_instances.app.app_context():
        make_user(Role.COORDINATOR, email=EMAIL, password=PASSWORD)
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
    assert browser.login(a, EMAIL, PASSWORD).status_code == 302
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
