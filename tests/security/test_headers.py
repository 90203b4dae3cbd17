"""Security headers on every route of the app, found by walking the URL map (routes added later included)."""
from __future__ import annotations

import pytest

from youthclub.security import CSP

from .conftest import allowed_role, route_url

REQUIRED_CSP = (
    "default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'",
    "frame-ancestors 'none'", "worker-src 'self' blob:",
)


def _get_rules():
    from tests.conftest import TestConfig
    from youthclub import create_app

    app = create_app(TestConfig)
    return [
        pytest.param(rule.rule, rule.endpoint, id=rule.endpoint + ":" + rule.rule)
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and rule.endpoint != "static"
    ]


def assert_security_headers(response, *, static=False):
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    for directive in REQUIRED_CSP:
        assert directive in csp, (directive, csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("Referrer-Policy") in ("same-origin", "no-referrer", "strict-origin")
    assert headers.get("X-Frame-Options") == "DENY"
    if not static:
        assert headers.get("Cache-Control") == "no-store", headers.get("Cache-Control")
    assert "Strict-Transport-Security" not in headers  # not over plain HTTP in tests


def test_csp_is_the_agreed_policy():
    for directive in REQUIRED_CSP:
        assert directive in CSP


#: routes that answer 400 without their required query parameters
QUERY = {"api.stats": "?from=2026-01-01&to=2026-12-31"}


@pytest.mark.parametrize("rule,endpoint", _get_rules())
def test_every_get_route_sends_security_headers(app, client, world, rule, endpoint):
    werkzeug_rule = next(r for r in app.url_map.iter_rules(endpoint) if r.rule == rule)
    url = route_url(app, werkzeug_rule, world) + QUERY.get(endpoint, "")
    anonymous = client.get(url)
    assert anonymous.status_code != 500
    assert_security_headers(anonymous)
    role = allowed_role(endpoint)
    if role not in (None, "anonymous"):
        client.login_as(world.user(role))
        response = client.get(url)
        assert response.status_code < 400 or response.status_code == 429, (url, role, response.status_code)
        assert_security_headers(response)


def test_error_pages_and_api_errors_send_the_headers(client, world):
    assert_security_headers(client.get("/no-such-page"))
    assert_security_headers(client.get("/api/v1/no-such-endpoint"))
    assert_security_headers(client.get("/api/v1/me"))


def test_static_files_keep_their_caching_but_get_the_headers(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert_security_headers(response, static=True)
    assert response.headers.get("Cache-Control") != "no-store"


def test_pages_with_personal_data_are_never_stored(client, world):
    client.login_as(world.youth_user)
    response = client.get("/account")
    assert response.status_code == 200 and "ung@example.org" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert "Cookie" in response.headers.get("Vary", "")


def test_hsts_in_production(monkeypatch, _app):
    from config import ProductionConfig
    from tests.conftest import TestConfig
    from youthclub import create_app

    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("DATABASE_URL", TestConfig.SQLALCHEMY_DATABASE_URI)
    monkeypatch.delenv("TRUSTED_HOSTS", raising=False)

    class Prod(ProductionConfig):
        SQLALCHEMY_DATABASE_URI = TestConfig.SQLALCHEMY_DATABASE_URI
        PUBLIC_BASE_URL = "https://localhost"

    app = create_app(Prod)
    with app.test_client() as http:
        response = http.get("/privacy", base_url="https://localhost")
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert app.config["REMEMBER_COOKIE_NAME"].startswith("__Host-")
    # a forged Host header (password-reset poisoning) is refused: links use PUBLIC_BASE_URL's host only
    with app.test_client() as http:
        assert http.get("/privacy", base_url="https://evil.example").status_code == 400
        assert http.get("/privacy", headers={"Host": "evil.example"}, base_url="https://localhost").status_code == 400
    assert app.config["SESSION_COOKIE_NAME"].startswith("__Host-")
    with app.app_context():
        from youthclub.extensions import db

        db.engine.dispose()


def test_a_response_keeps_its_own_headers_and_is_never_stored(app):
    """A header a view sets stays (once); caching is always refused; Vary gains Cookie."""
    from flask import Response

    from youthclub.security import set_security_headers

    own = Response("x", headers=[("Content-Security-Policy", "default-src 'none'"), ("Cache-Control", "public"),
                                 ("Cache-Control", "max-age=60"), ("Pragma", "cache"), ("Vary", "Accept-Language")])
    with app.test_request_context("/activities"):
        headers = set_security_headers(own).headers
    assert headers.getlist("Content-Security-Policy") == ["default-src 'none'"]
    assert headers.getlist("Cache-Control") == ["no-store"] and headers.getlist("Pragma") == ["no-cache"]
    assert headers.getlist("Vary") == ["Accept-Language, Cookie"]
    assert headers.getlist("X-Frame-Options") == ["DENY"]
    with app.test_request_context("/activities"):
        bare = set_security_headers(Response("x")).headers
    assert bare.getlist("Vary") == ["Cookie"] and bare.getlist("Cache-Control") == ["no-store"]
    assert [name for name, _ in bare].count("X-Content-Type-Options") == 1
