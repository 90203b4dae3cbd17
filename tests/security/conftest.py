"""Fixtures for the security tests: URL-map walking and apps with rate limits switched on."""
from __future__ import annotations

import os

import pytest

from tests.access import DEFAULT_PARAMS, ROLES, load_rules

#: a Redis database of its own (CI sets REDIS_TEST_URL); only this database is ever flushed
REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/7")


def route_url(app, rule, world, extra=None) -> str:
    """The URL for a werkzeug ``rule`` with the access matrix's ids (institution A's objects)."""
    from flask import url_for

    rules = load_rules()
    params = DEFAULT_PARAMS(world)
    spec = rules.get(rule.endpoint, {})
    if "params" in spec:
        params.update(spec["params"](world))
    params.update(extra or {})
    values = {arg: params[arg] for arg in rule.arguments}
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def allowed_role(endpoint: str, method: str = "GET") -> str | None:
    """A role the access matrix lets in (the first in ROLES order), or None."""
    spec = load_rules().get(endpoint)
    if spec is None:
        return None
    table = spec.get(method, spec)
    for role in ROLES:
        if table.get(role) == "ok":
            return role
    return None


@pytest.fixture
def limited_app(_app):
    """Make a fresh app with rate limits on (``limited_app(**config)``); the shared limiter is reset after."""
    from tests.conftest import TestConfig
    from youthclub import create_app
    from youthclub.extensions import limiter

    made = []

    def make(**config):
        class Limited(TestConfig):
            RATELIMIT_ENABLED = True

        for key, value in config.items():
            setattr(Limited, key, value)
        app = create_app(Limited)
        app.test_client_class = _app.test_client_class
        made.append(app)
        return app

    try:
        yield make
    finally:
        # Flask-Limiter keeps one storage and one on/off switch for the process: give them back
        # to the shared test app (limits off) so later tests are not counted
        limiter.init_app(_app)
        limiter._storage_dead = False  # a test with an unreachable Redis must not leave the fallback on
        for app in made:
            with app.app_context():
                from youthclub.extensions import db

                db.session.remove()
                db.engine.dispose()
