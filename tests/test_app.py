"""The app factory, configuration and database set-up."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from config import DevelopmentConfig, ProductionConfig, TestingConfig, database_url
from youthclub import create_app
from youthclub.extensions import db


def test_factory_uses_given_config(app):
    assert app.config["TESTING"] is True
    assert app.template_folder.endswith("templates")


def test_database_url_uses_psycopg3():
    assert database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("sqlite:///x.db") == "sqlite:///x.db"
    assert database_url(None) is None


def test_default_database_is_sqlite_in_instance_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("YOUTHCLUB_INSTANCE_PATH", str(tmp_path))

    class Cfg(DevelopmentConfig):
        SQLALCHEMY_DATABASE_URI = None

    app = create_app(Cfg)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/youthclub.db"
    with app.app_context():
        conn = db.session.connection()
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000
        db.session.remove()
        db.engine.dispose()


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1/x")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProductionConfig)


def test_production_cookies_are_hardened():
    assert ProductionConfig.SESSION_COOKIE_SECURE is True
    assert ProductionConfig.SESSION_COOKIE_NAME.startswith("__Host-")
    assert TestingConfig.SESSION_COOKIE_HTTPONLY is True
    assert TestingConfig.SESSION_COOKIE_SAMESITE == "Lax"


def test_database_answers(app):
    assert db.session.execute(text("SELECT 1")).scalar() == 1


def test_datetimes_come_back_aware_utc(app, world):
    from datetime import UTC

    db.session.expire_all()
    assert world.session_a.starts_at.tzinfo is not None
    assert world.session_a.starts_at.utcoffset().total_seconds() == 0
    assert world.session_a.starts_at.tzinfo == UTC or world.session_a.starts_at.utcoffset() is not None


def test_ids_beyond_a_database_integer_are_not_found_not_a_server_error(client, world):
    huge = 1559903438580209317576704
    client.login_as(world.staff_a)
    assert client.get(f"/activities/{huge}").status_code == 404
    assert client.get(f"/scan/{huge}").status_code == 404
    response = client.api("POST", f"/api/v1/sessions/{huge}/checkins", json={"youth_id": world.youth.id, "nonce": "n1"})
    assert response.status_code == 404
    # the largest database integer itself is still an ordinary (missing) id
    assert client.get(f"/activities/{2**63 - 1}").status_code == 404


def test_foreign_keys_are_on_after_the_migrations_ran_in_the_same_process(app):
    """The migrations switch SQLite's foreign keys off while they rebuild tables; the connections the
    app uses afterwards (here: the tests', migrated in this process) have them on, so a deleted young
    person takes every row that points at them along."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("a SQLite pragma")
    for _ in range(3):  # whichever connection the pool hands out
        assert db.session.connection().exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        db.session.remove()
