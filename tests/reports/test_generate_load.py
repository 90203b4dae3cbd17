"""``generate-load`` in bulk: the visits go in around the visit-count trigger and the counts come out exact."""
from __future__ import annotations

from datetime import date

from click.testing import CliRunner
from sqlalchemy import func, select, text

from tests import factories as fx
from youthclub.accounts.models import YouthProfile
from youthclub.activities.models import Session
from youthclub.attendance.models import Attendance, CheckinMethod
from youthclub.extensions import db
from youthclub.programme.models import Institution
from youthclub.reports import load
from youthclub.reports.models import VisitMonth
from youthclub.reports.visit_counts import (
    INSERT_TRIGGER,
    add_visit_counts,
    find_differences,
    rebuild_visit_counts,
    visit_counts_suspended,
)
from youthclub.signups.models import Signup, SignupStatus


def _schema_of(table: str) -> set:
    """The indexes, constraints and triggers of ``table`` as the database describes them."""
    if db.engine.dialect.name == "postgresql":
        rows = db.session.execute(text(
            "SELECT indexdef FROM pg_indexes WHERE tablename = :t UNION ALL "
            "SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) "
            "UNION ALL SELECT tgname || ' ' || CAST(tgenabled AS text) FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal"),
            {"t": table})
    else:
        rows = db.session.execute(text("SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master "
                                       "WHERE tbl_name = :t AND type IN ('index', 'trigger')"), {"t": table})
    return set(rows.scalars())


def test_a_bulk_load_ends_with_every_visit_counted_and_the_schema_as_it_was(app):
    before = {table: _schema_of(table) for table in ("attendance", "visit_month")}
    result = CliRunner().invoke(app.cli, ["generate-load", "--youths", "120", "--attendances", "3000", "--institutions", "7",
                                          "--from", "2021-01-01", "--to", "2024-12-31", "--seed", "5"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Attendance)) == 3000
    assert db.session.scalar(select(func.count()).select_from(Institution)) == 7
    held = (select(func.count()).select_from(Attendance).join(Session, Session.id == Attendance.session_id)
            .where(Session.cancelled_at.is_(None)))
    assert db.session.scalar(select(func.sum(VisitMonth.visits))) == db.session.scalar(held) > 0
    assert find_differences() == (0, [])
    # indexes, constraints and triggers dropped or suspended for the load are all back
    assert {table: _schema_of(table) for table in before} == before
    # and the trigger counts the next visit again
    session_id = db.session.scalar(select(Session.id).where(Session.cancelled_at.is_(None)).limit(1))
    visited = select(Attendance.youth_id).where(Attendance.session_id == session_id)
    youth_id = db.session.scalar(select(YouthProfile.id).where(YouthProfile.id.not_in(visited)).limit(1))
    db.session.add(Attendance(youth_id=youth_id, session_id=session_id, method=CheckinMethod.QR))
    db.session.flush()
    assert find_differences() == (0, [])


def test_the_regulars_are_of_age_and_change_from_year_to_year(app):
    result = CliRunner().invoke(app.cli, ["generate-load", "--youths", "300", "--attendances", "12000",
                                          "--from", "2022-01-01", "--to", "2024-12-31", "--seed", "2"])
    assert result.exit_code == 0, result.output
    ages = db.session.execute(
        select(func.min(Session.local_month // 12 - YouthProfile.birth_year), func.max(Session.local_month // 12 - YouthProfile.birth_year))
        .select_from(Attendance).join(Session, Session.id == Attendance.session_id).join(YouthProfile, YouthProfile.id == Attendance.youth_id)
    ).one()
    assert load.AGES[0] <= ages[0] and ages[1] <= load.AGES[1]
    first, last = (set(db.session.scalars(
        select(Attendance.youth_id).join(Session, Session.id == Attendance.session_id).where(Session.local_month // 12 == year)))
        for year in (2022, 2024))
    assert first - last and last - first  # some left, some came
    # a leaver's sign-up is cancelled; no one holds two active sign-ups for one offer
    assert db.session.scalar(select(func.count()).select_from(Signup).where(Signup.status == SignupStatus.CANCELLED)) > 0
    active = (select(Signup.youth_id, Signup.activity_id).where(Signup.status != SignupStatus.CANCELLED)
              .group_by(Signup.youth_id, Signup.activity_id).having(func.count() > 1))
    assert db.session.execute(active).all() == []


def test_counts_added_after_visits_that_went_around_the_trigger_join_the_counts_already_there(world):
    w = world
    first = fx.make_session(w.activity_a, date(2025, 3, 3))
    second = fx.make_session(w.activity_a, date(2025, 3, 10))
    fx.attend(w.youth, first)
    db.session.flush()
    with visit_counts_suspended():
        db.session.add_all([Attendance(youth_id=w.youth.id, session_id=second.id, method=CheckinMethod.QR),
                            Attendance(youth_id=w.other_youth.id, session_id=second.id, method=CheckinMethod.QR)])
        db.session.flush()
        assert find_differences()[0] == 2  # one count too low, one missing
    add_visit_counts(second.id, second.id)
    assert find_differences() == (0, [])
    assert db.session.scalar(select(VisitMonth.visits).where(VisitMonth.youth_id == w.youth.id,
                                                             VisitMonth.activity_id == w.activity_a.id)) == 2
    # the suspended trigger is back
    assert any(INSERT_TRIGGER in entry for entry in _schema_of("attendance"))


def test_a_rebuild_at_scale_keeps_the_counts_exact_and_the_indexes_and_keys_of_visit_month(app):
    result = CliRunner().invoke(app.cli, ["generate-load", "--youths", "80", "--attendances", "1500", "--seed", "4"])
    assert result.exit_code == 0, result.output
    schema = _schema_of("visit_month")
    db.session.execute(text("UPDATE visit_month SET visits = visits + 1"))  # something went around the triggers
    assert find_differences()[0] > 0
    assert rebuild_visit_counts() > 0
    assert find_differences() == (0, [])
    assert _schema_of("visit_month") == schema
