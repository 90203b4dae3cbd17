"""The schema: migrations match the models on SQLite and PostgreSQL; personal data stays minimal."""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager, nullcontext

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from youthclub.extensions import db

#: the only columns a young person's profile may have (CONTEXT.md: minimise)
ALLOWED_YOUTH_FIELDS = {
    "id", "user_id", "first_name", "last_name", "birth_year", "birth_month", "gender", "home_district_id",
    "contact", "pass_token", "pass_issued_at", "calendar_token", "registered_by_institution_id",
    "created_at", "last_active_at", "anonymised_at",
    # a random number for the statistics' cell keys (docs/metrics.md): says nothing about the person
    "record_key",
}
FORBIDDEN_WORDS = ("cpr", "note", "comment", "label", "behaviour", "behavior", "adfaerd", "risk", "flag", "remark")


def test_youth_profile_holds_only_the_allowed_fields(app):
    columns = {c["name"] for c in inspect(db.engine).get_columns("youth_profile")}
    assert columns == ALLOWED_YOUTH_FIELDS


def test_no_table_has_a_cpr_or_free_text_column_about_people(app):
    inspector = inspect(db.engine)
    for table in ("youth_profile", "signup", "attendance", "consent_record"):
        for column in inspector.get_columns(table):
            assert not any(word in column["name"].lower() for word in FORBIDDEN_WORDS), (table, column["name"])


def _postgres_admin():
    """An AUTOCOMMIT engine on the server's postgres database, or None when there is no server."""
    from sqlalchemy.engine import make_url

    from config import database_url

    base = make_url(database_url(os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"))
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect():
            pass
    except Exception as err:  # pragma: no cover - depends on the machine
        if os.environ.get("CI", "").lower() == "true":
            raise AssertionError(f"PostgreSQL is required in CI: {err}") from err
        return None, base
    return admin, base


def _diff_after_upgrade(url):
    from flask_migrate import upgrade

    import youthclub.models  # noqa: F401
    from tests.conftest import ROOT, TestConfig
    from youthclub import create_app

    class Cfg(TestConfig):
        SQLALCHEMY_DATABASE_URI = url

    app = create_app(Cfg)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        db.engine.dispose()
    return diff


def test_migrations_match_models_on_sqlite(tmp_path):
    assert _diff_after_upgrade(f"sqlite:///{tmp_path / 'migrate.db'}") == []


@contextmanager
def _throwaway_postgres(prefix: str):
    """The URL of a new, empty PostgreSQL database, dropped afterwards (the test is skipped without a server)."""
    admin, base = _postgres_admin()
    if admin is None:
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def test_migrations_match_models_on_postgresql():
    with _throwaway_postgres("yc_migcheck") as url:
        assert _diff_after_upgrade(url) == []


def _recount_after_upgrade(url):
    """Visits recorded, the counts' migration taken down and up again: the upgrade counts what is already there."""
    from flask_migrate import downgrade, upgrade

    from tests.conftest import ROOT, TestConfig
    from tests.factories import build_world, make_session
    from youthclub import create_app
    from youthclub.attendance.models import Attendance, CheckinMethod
    from youthclub.reports.visit_counts import counted, find_differences, stored

    class Cfg(TestConfig):
        SQLALCHEMY_DATABASE_URI = url

    app = create_app(Cfg)
    migrations = str(ROOT / "migrations")
    with app.app_context():
        upgrade(directory=migrations)
        world = build_world()
        later = make_session(world.activity_a)
        for youth, session in ((world.youth, world.session_a), (world.youth, later), (world.other_youth, world.session_b)):
            db.session.add(Attendance(youth=youth, session=session, method=CheckinMethod.QR))
        db.session.commit()
        before = sorted(db.session.execute(counted()).all())
        db.session.remove()
        downgrade(directory=migrations, revision="b025f77210b3")
        upgrade(directory=migrations)
        after = sorted(db.session.execute(stored()).all())
        # and the triggers are back: a new visit is counted at once
        db.session.add(Attendance(youth=world.other_youth, session=world.session_a, method=CheckinMethod.QR))
        db.session.flush()
        differences = find_differences()
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
    return before, after, differences


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_visit_counts_migration_counts_existing_visits(database, tmp_path):
    with _throwaway_postgres("yc_recount") if database == "postgresql" else nullcontext(f"sqlite:///{tmp_path / 'recount.db'}") as url:
        before, after, differences = _recount_after_upgrade(url)
    assert sorted(v for *_, v in before) == [1, 2]
    assert after == before
    assert differences == (0, [])
