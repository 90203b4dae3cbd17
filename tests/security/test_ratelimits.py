"""Rate limits: per address and per account, shared through Redis, a Danish 429, and never a permanent lock-out."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from flask import jsonify

from youthclub.ratelimits import DEFAULT_RATELIMITS, rate_limited

from .conftest import REDIS_TEST_URL

SMALL = {"login": {"ip": "3 per minute", "account": "2 per minute;4 per hour"}, "export": {"ip": "2 per minute"}}


def _attempt(client, email, address, password="wrong password here"):
    client.environ_base["REMOTE_ADDR"] = address
    return client.login(email, password)


def _with_limited_route(app):
    """A GET endpoint under /api/ guarded by a policy, to see the JSON answer."""

    @rate_limited("export", methods=("GET",))
    def limited_probe():
        return jsonify({"ok": True})

    app.add_url_rule("/api/v1/__limited_probe__", "limited_probe", limited_probe)
    return app


class FakeClock:
    def __init__(self):
        self.offset = 0.0

    def time(self):
        return time.time() + self.offset

    def __getattr__(self, name):  # everything else from the real module
        return getattr(time, name)


@pytest.fixture
def clock(monkeypatch):
    import limits.storage.memory as memory

    fake = FakeClock()
    monkeypatch.setattr(memory, "time", fake)
    return fake


def test_every_policy_has_an_address_limit():
    for policy, limits in DEFAULT_RATELIMITS.items():
        assert limits.get("ip"), policy
    for policy in ("login", "password_reset", "signup", "checkin", "export"):
        assert DEFAULT_RATELIMITS[policy].get("account"), policy


def test_unknown_policy_is_a_programming_error():
    with pytest.raises(KeyError):
        rate_limited("nonsense")


def test_login_is_limited_per_address(world, limited_app):
    app = limited_app(RATELIMITS=SMALL)
    client = app.test_client()
    for n in range(3):
        assert _attempt(client, f"nobody{n}@example.org", "10.0.0.1").status_code == 401
    response = _attempt(client, "nobody9@example.org", "10.0.0.1")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "For mange forsøg" in page and 'lang="da"' in page
    assert int(response.headers["Retry-After"]) > 0
    # another address is not affected
    assert _attempt(client, "nobody9@example.org", "10.0.0.2").status_code == 401


def test_login_is_limited_per_account_across_addresses(world, limited_app):
    app = limited_app(RATELIMITS=SMALL)
    client = app.test_client()
    assert _attempt(client, "staff.a@example.org", "10.0.1.1").status_code == 401
    assert _attempt(client, "Staff.A@example.org ", "10.0.1.2").status_code == 401  # same account, other spelling
    assert _attempt(client, "staff.a@example.org", "10.0.1.3").status_code == 429
    # even the right password waits: the attacker learns nothing
    assert _attempt(client, "staff.a@example.org", "10.0.1.4", "correct horse battery").status_code == 429
    # other accounts log in as usual
    assert _attempt(client, "staff.b@example.org", "10.0.1.5", "correct horse battery").status_code == 302


def test_a_limit_only_delays_it_never_locks_out(world, limited_app, clock):
    app = limited_app(RATELIMITS=SMALL)
    client = app.test_client()
    for n in range(4):
        _attempt(client, "staff.a@example.org", f"10.0.2.{n}")
    assert _attempt(client, "staff.a@example.org", "10.0.2.9", "correct horse battery").status_code == 429
    clock.offset = 61
    assert _attempt(client, "staff.a@example.org", "10.0.2.9", "correct horse battery").status_code == 302
    client.post_form("/logout")
    for n in range(3):
        _attempt(client, "staff.a@example.org", f"10.0.3.{n}")
    assert _attempt(client, "staff.a@example.org", "10.0.3.9", "correct horse battery").status_code == 429
    clock.offset = 61 + 3601  # the hourly window has passed too
    assert _attempt(client, "staff.a@example.org", "10.0.3.9", "correct horse battery").status_code == 302


def test_json_429_under_the_api(world, limited_app):
    app = _with_limited_route(limited_app(RATELIMITS=SMALL))
    client = app.test_client()
    assert client.get("/api/v1/__limited_probe__").status_code == 200
    assert client.get("/api/v1/__limited_probe__").status_code == 200
    response = client.get("/api/v1/__limited_probe__")
    assert response.status_code == 429
    assert response.is_json and response.get_json()["error"]["code"] == "rate_limited"
    assert "Vent lidt" in response.get_json()["error"]["message"]


def test_limits_are_off_in_the_test_config(client, world):
    for _ in range(30):
        assert _attempt(client, "staff.a@example.org", "10.0.4.1").status_code == 401


def _redis():
    import redis

    connection = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI", "").lower() == "true":
            raise
        pytest.skip(f"no Redis at {REDIS_TEST_URL}")
    return connection


def test_counts_are_shared_through_redis(world, limited_app):
    """Two workers (two app instances, each with its own storage connection) share one count."""
    from youthclub.extensions import limiter

    connection = _redis()
    connection.flushdb()
    try:
        first = limited_app(RATELIMITS=SMALL, RATELIMIT_STORAGE_URI=REDIS_TEST_URL)
        client = first.test_client()
        for n in range(2):
            assert _attempt(client, "staff.a@example.org", f"10.0.5.{n}").status_code == 401
        assert any(b"login:account" in key for key in connection.keys("*"))
        second = limited_app(RATELIMITS=SMALL, RATELIMIT_STORAGE_URI=REDIS_TEST_URL)  # a new storage connection
        assert "redis" in type(limiter.storage).__name__.lower()
        assert _attempt(second.test_client(), "staff.a@example.org", "10.0.5.9").status_code == 429
    finally:
        connection.flushdb()


def test_memory_counts_are_per_worker(world, limited_app):
    """The negative control: without Redis a new worker starts counting from zero."""
    first = limited_app(RATELIMITS=SMALL)
    client = first.test_client()
    for n in range(2):
        _attempt(client, "staff.a@example.org", f"10.0.6.{n}")
    assert _attempt(client, "staff.a@example.org", "10.0.6.8").status_code == 429
    second = limited_app(RATELIMITS=SMALL)
    assert _attempt(second.test_client(), "staff.a@example.org", "10.0.6.9").status_code == 401


def test_redis_url_selects_redis_storage():
    code = "import config; print(config.Config.RATELIMIT_STORAGE_URI)"
    env = dict(os.environ, REDIS_URL="redis://cache.internal:6379/3")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "redis://cache.internal:6379/3"
    env.pop("REDIS_URL")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "memory://"


def test_unreachable_redis_keeps_every_named_limit_in_memory(world, limited_app, caplog):
    """The outside test: 40 wrong passwords for one account with Redis away, and no 429. Now the
    per-account and per-address limits hold in this worker's memory, and the outage is logged as an error."""
    app = limited_app(RATELIMITS=SMALL, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")  # nothing listens there
    client = app.test_client()
    per_account = [_attempt(client, "staff.a@example.org", f"10.0.7.{n}").status_code for n in range(4)]
    assert per_account == [401, 401, 429, 429]  # "account": 2 per minute
    per_address = [_attempt(client, f"nobody{n}@example.org", "10.0.8.1").status_code for n in range(4)]
    assert per_address == [401, 401, 401, 429]  # "ip": 3 per minute
    assert "RATE-LIMIT STORAGE DOWN" in caplog.text
    assert [r.levelname for r in caplog.records if "RATE-LIMIT STORAGE DOWN" in r.getMessage()] == ["ERROR"]


def test_email_addresses_are_not_in_the_rate_limit_keys(world, limited_app):
    app = limited_app(RATELIMITS=SMALL)
    client = app.test_client()
    _attempt(client, "Someone.Secret@Example.org", "10.0.9.1")
    from youthclub.extensions import limiter

    keys = " ".join(str(k) for k in limiter.storage.storage)  # MemoryStorage: key -> count
    assert "email:" in keys and "someone.secret" not in keys.lower() and "example.org" not in keys


def test_my_data_download_is_an_export_and_limited(world, limited_app):
    app = limited_app(RATELIMITS=SMALL)
    client = app.test_client()
    client.login_as(world.youth_user)
    assert client.get("/account/data").status_code == 200
    assert client.get("/account/data").status_code == 200
    response = client.get("/account/data")
    assert response.status_code == 429 and "For mange forsøg" in response.get_data(as_text=True)


def test_behind_a_proxy_the_clients_address_is_counted(world, limited_app):
    app = limited_app(RATELIMITS=SMALL, TRUSTED_PROXIES=1)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.99.0.1"  # the proxy

    def attempt(n, forwarded_for):
        data = {"email": f"nobody{n}@example.org", "password": "wrong password here"}
        return client.post_form("/login", data, headers={"X-Forwarded-For": forwarded_for}).status_code

    assert [attempt(n, f"203.0.113.{n}") for n in range(5)] == [401] * 5  # five clients, one proxy
    assert [attempt(n, "198.51.100.7") for n in range(10, 14)] == [401, 401, 401, 429]


def test_without_a_trusted_proxy_forwarded_for_is_ignored(world, limited_app):
    """An attacker cannot dodge the per-address limit by inventing X-Forwarded-For headers."""
    client = limited_app(RATELIMITS=SMALL).test_client()
    client.environ_base["REMOTE_ADDR"] = "10.98.0.1"
    statuses = [
        client.post_form("/login", {"email": f"nobody{n}@example.org", "password": "wrong password here"},
                         headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
        for n in range(4)
    ]
    assert statuses == [401, 401, 401, 429]


def test_the_dashboard_is_rate_limited(world, limited_app):
    app = limited_app(RATELIMITS={"dashboard": {"ip": "100 per minute", "account": "3 per minute"}})
    client = app.test_client()
    client.login_as(world.coordinator)
    statuses = [client.get("/reports").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert "For mange forsøg" in client.get("/reports").get_data(as_text=True)
    assert client.get("/reports/action-plan").status_code == 429  # the plan report counts with the page


def test_a_club_registers_together_on_one_network(world, limited_app):
    """Twenty-five young people on the club's Wi-Fi (one address) register and confirm within the hour
    under the real limits: no 429 for the fourth or the eleventh (an outside test got both)."""
    from tests.factories import confirm_registration
    from tests.signups.test_youth_accounts import _register

    app = limited_app(RATELIMITS=None)
    for n in range(25):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = "10.0.9.1"
        assert _register(client, f"ung{n}@example.org", first_name="Bo").status_code == 200, n
        assert confirm_registration(client, f"ung{n}@example.org").status_code == 302, n


def test_a_mailed_link_is_limited_per_link_not_per_network(world, limited_app):
    """Confirming one link over and over meets its own limit; another young person's link on the same address does not."""
    from tests.factories import mailed_link
    from tests.signups.test_youth_accounts import _register

    app = limited_app(RATELIMITS={"link": {"ip": "100 per minute", "account": "3 per hour"}})
    first, second = app.test_client(), app.test_client()
    for client in (first, second):
        client.environ_base["REMOTE_ADDR"] = "10.0.9.2"
    _register(first, "en@example.org")
    _register(second, "to@example.org")
    bad = mailed_link("en@example.org", "/register/confirm/") + "x"
    for _ in range(3):
        assert first.post_form(bad).status_code == 404
    assert first.post_form(bad).status_code == 429
    assert second.post_form(mailed_link("to@example.org", "/register/confirm/")).status_code == 302
