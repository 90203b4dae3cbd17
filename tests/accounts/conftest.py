"""Fixtures for the accounts tests (young people: duplicates, merging)."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def request_context(app):
    """Services translate their messages, which needs a request (as in every real call)."""
    with app.test_request_context("/"):
        yield
