"""Every route of the app × every role gets the answer the access rules promise."""
from __future__ import annotations

import pytest

from tests.access import DEFAULT_PARAMS, DENY, LOGIN, OK, ROLES, load_rules

RULES = load_rules()
SKIP_METHODS = {"HEAD", "OPTIONS"}


def _url_map_cases():
    from tests.conftest import TestConfig
    from youthclub import create_app

    app = create_app(TestConfig)
    cases = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - SKIP_METHODS):
            for role in ROLES:
                cases.append(pytest.param(rule.rule, rule.endpoint, method, role, id=f"{rule.endpoint}-{method}-{role}"))
    return cases


CASES = _url_map_cases()


def test_every_route_has_rules():
    endpoints = {case.values[1] for case in CASES}
    missing = sorted(endpoints - RULES.keys())
    assert not missing, f"routes without access rules in tests/access/: {missing}"
    stale = sorted(RULES.keys() - endpoints)
    assert not stale, f"access rules for routes that no longer exist: {stale}"


def _expectation(endpoint, method, role):
    spec = RULES[endpoint]
    table = spec.get(method, spec) if method in spec else spec
    return table[role]


@pytest.mark.parametrize("rule,endpoint,method,role", CASES)
def test_access(app, client, world, rule, endpoint, method, role):
    from flask import url_for

    if endpoint not in RULES:
        pytest.skip("no rule (test_every_route_has_rules fails)")
    spec = RULES[endpoint]
    params = DEFAULT_PARAMS(world)
    if "params" in spec:
        params.update(spec["params"](world))
    werkzeug_rule = next(r for r in app.url_map.iter_rules(endpoint) if r.rule == rule)
    values = {arg: params[arg] for arg in werkzeug_rule.arguments}
    with app.test_request_context():
        url = url_for(endpoint, **values)

    user = world.user(role)
    if user is not None:
        client.login_as(user)
    kwargs = {}
    if method not in ("GET",):
        token = client.csrf_token()
        kwargs = {"data": {"csrf_token": token}, "headers": {"X-CSRFToken": token}}
    response = client.open(url, method=method, **kwargs)
    status = response.status_code
    expected = _expectation(endpoint, method, role)
    location = response.headers.get("Location", "")

    assert status != 500, f"{method} {url} as {role} raised a server error"
    if expected == OK:
        assert status not in (401, 403, 404), f"{method} {url} as {role}: {status}, expected access"
        assert "/login" not in location or endpoint.startswith("accounts."), f"{method} {url} as {role} sent to log in"
    elif expected == LOGIN:
        if url.startswith("/api/"):
            assert status == 401, f"{method} {url} as {role}: {status}, expected 401"
        else:
            assert status == 302 and "/login" in location, f"{method} {url} as {role}: {status} {location}, expected log-in"
    elif expected == DENY:
        assert status in (403, 404), f"{method} {url} as {role}: {status}, expected 403/404"
    else:
        assert status == expected, f"{method} {url} as {role}: {status}, expected {expected}"


def test_the_access_document_names_every_route_that_shows_names():
    """docs/access.md lists each route staff may open and coordinators may not (the ones that name people)."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "access.md").read_text(encoding="utf-8")
    assert "**never**" in doc.split("| coordinator |", 1)[1].split("\n", 1)[0]
    naming = set()
    for endpoint, spec in RULES.items():
        tables = [spec[m] for m in ("GET", "POST") if isinstance(spec.get(m), dict)] or [spec]
        if any(t.get("staff_a") == OK and t.get("coordinator") != OK for t in tables):
            naming.add(endpoint)
    missing = sorted(e for e in naming if f"`{e}`" not in doc)
    assert not missing, f"routes that name young people, missing from docs/access.md: {missing}"
