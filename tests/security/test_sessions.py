"""Sessions: a new identifier at log-in, idle and absolute limits, and server-side ends that a copied cookie cannot survive."""
from __future__ import annotations

import time
from datetime import timedelta

from youthclub.accounts import services as account_services
from youthclub.extensions import db
from youthclub.security import AUTH_AT, SEEN_AT, SESSION_ID


def _session(client) -> dict:
    with client.session_transaction() as sess:
        return dict(sess)


def _shift(client, *, auth=0.0, seen=0.0) -> None:
    """Pretend the log-in happened ``auth`` seconds and the last request ``seen`` seconds earlier."""
    with client.session_transaction() as sess:
        sess[AUTH_AT] -= auth
        sess[SEEN_AT] -= seen


def test_log_in_gets_a_new_session_identifier_and_drops_planted_values(client, world):
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
        sess[SESSION_ID] = "fixed-by-attacker"
    client.login("staff.a@example.org")
    first = _session(client)
    assert "planted" not in first
    assert first[SESSION_ID] != "fixed-by-attacker" and len(first[SESSION_ID]) >= 24
    client.post_form("/logout")
    client.login("staff.a@example.org")
    assert _session(client)[SESSION_ID] != first[SESSION_ID]


def test_staff_session_ends_after_30_minutes_idle(client, world):
    client.login("staff.a@example.org")
    _shift(client, auth=29 * 60, seen=29 * 60)
    assert client.get("/account").status_code == 200
    _shift(client, auth=31 * 60, seen=31 * 60)
    response = client.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "_user_id" not in _session(client)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "ikke har været aktiv" in page


def test_activity_keeps_a_staff_session_alive_until_12_hours(client, world):
    client.login("staff.a@example.org")
    _shift(client, auth=11 * 3600, seen=2 * 60)
    assert client.get("/account").status_code == 200
    assert time.time() - _session(client)[SEEN_AT] < 5  # the request counted as activity
    _shift(client, auth=3600 + 60)  # 12 h 1 min after log-in, active a moment ago
    response = client.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_coordinator_and_admin_have_the_staff_limits(client, world):
    for email in ("koordinator@example.org", "admin@example.org"):
        client.login(email)
        _shift(client, auth=31 * 60, seen=31 * 60)
        assert client.get("/account").status_code == 302, email


def test_young_people_stay_logged_in_longer(client, world):
    client.login("ung@example.org")
    _shift(client, auth=20 * 24 * 3600, seen=3 * 24 * 3600)  # idle for days, weeks after log-in
    assert client.get("/account").status_code == 200
    _shift(client, auth=71 * 24 * 3600)  # past the 90 days
    assert client.get("/account").status_code == 302


def test_young_peoples_limit_is_configurable(app, client, world):
    app.config["YOUTH_SESSION_MAX"] = timedelta(days=1)
    client.login("ung@example.org")
    _shift(client, auth=25 * 3600)
    assert client.get("/account").status_code == 302


def test_remember_me_is_only_for_young_people_and_lasts_the_youth_limit(app, client, world):
    response = client.login("ung@example.org", remember="y")
    cookie = client.get_cookie(app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))
    assert cookie is not None and cookie.http_only
    assert app.config["REMEMBER_COOKIE_DURATION"] == app.config["YOUTH_SESSION_MAX"]
    client.post_form("/logout")
    staff = app.test_client()
    staff.login("staff.a@example.org", remember="y")
    assert staff.get_cookie(app.config.get("REMEMBER_COOKIE_NAME", "remember_token")) is None
    assert response.status_code == 302


def test_expired_session_under_the_api_gets_json_401(client, world):
    client.login("staff.a@example.org")
    assert client.get("/api/v1/me").status_code == 200
    _shift(client, auth=31 * 60, seen=31 * 60)
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "session_expired"


def _stolen_cookie_replay(app, client, action):
    thief = app.test_client()
    client.login("staff.a@example.org")
    assert client.get("/account").status_code == 200
    stolen = _session(client)
    action()
    with thief.session_transaction() as sess:
        sess.update(stolen)
    return thief.get("/account")


def test_copied_cookie_is_refused_after_password_change(app, client, world):
    def change():
        client.post_form("/account", {"current_password": "correct horse battery", "new_password": "en ny og lang sætning"})

    assert _stolen_cookie_replay(app, client, change).status_code == 302
    assert client.get("/account").status_code == 200  # the session that changed it goes on


def test_copied_cookie_is_refused_after_deactivation(app, client, world):
    def deactivate():
        user = db.session.get(type(world.staff_a), world.staff_a.id)
        account_services.set_active(user, False)
        db.session.commit()

    assert _stolen_cookie_replay(app, client, deactivate).status_code == 302


def test_copied_cookie_is_refused_after_log_out(app, client, world):
    assert _stolen_cookie_replay(app, client, lambda: client.post_form("/logout")).status_code == 302


def test_session_cookie_flags(app, client, world):
    response = client.login("staff.a@example.org")
    set_cookie = " ".join(response.headers.getlist("Set-Cookie")).lower()
    assert "httponly" in set_cookie and "samesite=lax" in set_cookie


def test_production_cookies_are_secure_host_prefixed_and_unscoped(_app, monkeypatch):
    from config import ProductionConfig
    from tests.conftest import TestConfig
    from youthclub import create_app
    from youthclub.accounts.models import User
    from youthclub.accounts.passwords import hash_password

    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("DATABASE_URL", TestConfig.SQLALCHEMY_DATABASE_URI)
    monkeypatch.delenv("TRUSTED_HOSTS", raising=False)

    class Prod(ProductionConfig):
        SQLALCHEMY_DATABASE_URI = TestConfig.SQLALCHEMY_DATABASE_URI
        PUBLIC_BASE_URL = "https://localhost"
        WTF_CSRF_ENABLED = False
        PASSWORD_HASH_FAST = True

    app = create_app(Prod)
    with app.app_context():
        db.session.add(User(email="prod@example.org", name="P", password_hash=hash_password("correct horse battery")))
        db.session.commit()
        try:
            http = app.test_client()
            response = http.post("/login", data={"email": "prod@example.org", "password": "correct horse battery"},
                                 base_url="https://localhost")
            cookies = response.headers.getlist("Set-Cookie")
            session_cookie = next(c for c in cookies if c.startswith("__Host-session="))
            lowered = session_cookie.lower()
            assert "; secure" in lowered and "; httponly" in lowered and "samesite=lax" in lowered
            assert "path=/" in lowered and "domain=" not in lowered
        finally:
            db.session.execute(db.delete(User))
            db.session.commit()
            db.engine.dispose()
