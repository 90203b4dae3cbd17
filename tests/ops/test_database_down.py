"""PostgreSQL away: a Danish 503 with Retry-After (JSON under /api/), never a 500.

The app is pointed at a port where nothing listens; the machine's PostgreSQL is never touched.
"""
from __future__ import annotations

import socket

import pytest

from tests.conftest import TestConfig
from youthclub import create_app
from youthclub.extensions import db, limiter


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # released again: nothing listens there


@pytest.fixture
def app_without_database(_app):
    pytest.importorskip("psycopg")

    class NoDatabase(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/nothing"
        SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"connect_timeout": 2}}

    app = create_app(NoDatabase)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    limiter.init_app(_app)  # the limiter is one object for the process: give it back to the shared app


@pytest.mark.parametrize("logged_in", [False, True])
@pytest.mark.parametrize("url", ["/activities", "/activities/1", "/reports/action-plan"])
def test_pages_answer_503_in_danish(app_without_database, url, logged_in):
    client = app_without_database.test_client()
    if logged_in:  # loading the user needs the database too
        with client.session_transaction() as session:
            session["_user_id"] = "1:1"
    elif url == "/reports/action-plan":
        pytest.skip("sent to log in before any query")
    response = client.get(url)
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    text = response.get_data(as_text=True)
    assert 'lang="da"' in text and "prøv igen" in text.lower()


def test_the_api_answers_503_in_json(app_without_database):
    response = app_without_database.test_client().get("/api/v1/activities")
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.json["error"]["code"] == "database_unavailable"
