"""Fixtures for the attendance tests."""
from __future__ import annotations

import pytest


@pytest.fixture
def in_request(app):
    """Services translate their messages, so they run inside a (test) request, as in production."""
    with app.test_request_context():
        yield
