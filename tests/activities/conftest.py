"""Fixtures of the activities tests."""
from __future__ import annotations

import pytest


@pytest.fixture
def request_ctx(app):
    """A request context, for services whose messages are translated (Danish by default)."""
    with app.test_request_context():
        yield
