"""``visit_month``: the triggers keep it equal to the visits through every change, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, text, update

from tests import factories as fx
from tests.conftest import _empty_tables
from youthclub.accounts.models import YouthProfile
from youthclub.activities.models import Activity, Session, local_month_of
from youthclub.attendance.models import Attendance, CheckinMethod
from youthclub.extensions import db
from youthclub.i18n import to_utc
from youthclub.reports.models import VisitMonth
from youthclub.reports.visit_counts import find_differences, rebuild_visit_counts

#: days in three months, one of them across the change to summer time
DAYS = [date(2026, 2, 27), date(2026, 2, 28), date(2026, 3, 1), date(2026, 3, 29), date(2026, 3, 31), date(2026, 4, 1)]
OPERATIONS = ("visit", "visit", "visit", "unvisit", "cancel", "reinstate", "move", "reassign", "move_visit",
              "delete_session", "delete_youth", "delete_activity")


def _counts() -> dict:
    return {(r.youth_id, r.month, r.activity_id): r.visits for r in db.session.scalars(select(VisitMonth))}


def _assert_exact():
    assert find_differences() == (0, [])


def _apply(data, op: str) -> None:
    """One change of the kind the app (or a cascade) makes, then a flush so the triggers run."""
    youths = db.session.scalars(select(YouthProfile.id)).all()
    sessions = db.session.scalars(select(Session.id)).all()
    activities = db.session.scalars(select(Activity.id)).all()
    visits = db.session.execute(select(Attendance.id, Attendance.youth_id, Attendance.session_id)).all()
    if op == "visit" and youths and sessions:
        youth_id, session_id = data.draw(st.sampled_from(youths)), data.draw(st.sampled_from(sessions))
        if (youth_id, session_id) not in {(v.youth_id, v.session_id) for v in visits}:
            db.session.add(Attendance(youth_id=youth_id, session_id=session_id, method=CheckinMethod.QR))
    elif op == "unvisit" and visits:
        db.session.execute(delete(Attendance).where(Attendance.id == data.draw(st.sampled_from(visits)).id))
    elif op in ("cancel", "reinstate", "move", "reassign") and sessions:
        session = db.session.get(Session, data.draw(st.sampled_from(sessions)))
        if op == "cancel":
            session.cancelled_at = datetime.now(UTC)
        elif op == "reinstate":
            session.cancelled_at = None
        elif op == "move":
            # through the model, as the app moves a session: local_month follows starts_at
            session.starts_at = to_utc(data.draw(st.sampled_from(DAYS)), data.draw(st.sampled_from([time(0, 30), time(23, 30)])))
        else:
            session.activity_id = data.draw(st.sampled_from(activities))
    elif op == "move_visit" and visits and sessions:
        visit = data.draw(st.sampled_from(visits))
        target = data.draw(st.sampled_from(sessions))
        if (visit.youth_id, target) not in {(v.youth_id, v.session_id) for v in visits}:
            db.session.execute(update(Attendance).where(Attendance.id == visit.id).values(session_id=target))
    elif op == "delete_session" and sessions:
        db.session.execute(delete(Session).where(Session.id == data.draw(st.sampled_from(sessions))))
    elif op == "delete_youth" and youths:
        db.session.execute(delete(YouthProfile).where(YouthProfile.id == data.draw(st.sampled_from(youths))))
    elif op == "delete_activity" and len(activities) > 1:
        db.session.execute(delete(Activity).where(Activity.id == data.draw(st.sampled_from(activities))))
    db.session.flush()
    db.session.expire_all()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_the_counts_equal_the_visits_after_any_sequence_of_changes(app, data):
    try:
        institution = fx.make_institution(fx.make_district(code="8"))
        activities = [fx.make_activity(institution) for _ in range(2)]
        for _ in range(data.draw(st.integers(1, 4))):
            fx.make_session(data.draw(st.sampled_from(activities)), data.draw(st.sampled_from(DAYS)))
        for _ in range(data.draw(st.integers(1, 3))):
            fx.make_youth()
        for op in data.draw(st.lists(st.sampled_from(OPERATIONS), min_size=1, max_size=15)):
            _apply(data, op)
            _assert_exact()
        assert all(v > 0 for v in _counts().values())
    finally:
        db.session.rollback()
        _empty_tables()


def test_a_visit_counts_in_its_local_month_and_leaves_with_a_cancellation(app):
    activity = fx.make_activity(fx.make_institution(fx.make_district(code="12")))
    late = fx.make_session(activity, date(2026, 3, 31), start=time(23, 30), end=time(23, 59))  # 21:30 UTC, still March
    early = fx.make_session(activity, date(2026, 4, 1), start=time(0, 30), end=time(1, 30))  # 22:30 UTC on 31 March
    youth = fx.make_youth()
    db.session.add_all([Attendance(youth=youth, session=s, method=CheckinMethod.QR) for s in (late, early)])
    db.session.flush()
    march, april = 2026 * 12 + 2, 2026 * 12 + 3
    assert (late.local_month, early.local_month) == (march, april)
    assert _counts() == {(youth.id, march, activity.id): 1, (youth.id, april, activity.id): 1}

    late.cancelled_at = datetime.now(UTC)
    db.session.flush()
    assert _counts() == {(youth.id, april, activity.id): 1}
    late.cancelled_at = None
    early.starts_at = to_utc(date(2026, 3, 30), time(16, 0))  # moved into March
    db.session.flush()
    assert early.local_month == local_month_of(early.starts_at) == march
    assert _counts() == {(youth.id, march, activity.id): 2}


def test_a_repeated_check_in_changes_no_count(app, world, in_request):
    from youthclub.attendance.services import check_in

    for _ in range(2):
        check_in(world.session_a, world.youth.pass_token, nonce=None, by_user=world.staff_a)
        db.session.commit()
    assert _counts() == {(world.youth.id, world.session_a.local_month, world.activity_a.id): 1}


def test_check_finds_a_wrong_count_and_rebuild_puts_it_right(app, world):
    db.session.add(Attendance(youth=world.youth, session=world.session_a, method=CheckinMethod.QR))
    db.session.commit()
    key = (world.youth.id, world.session_a.local_month, world.activity_a.id)
    db.session.execute(update(VisitMonth).values(visits=7))
    db.session.add(VisitMonth(youth_id=world.other_youth.id, month=key[1], activity_id=world.activity_b.id, visits=2))
    db.session.commit()

    total, sample = find_differences()
    assert total == 2
    assert (*key, 7, 1) in sample and (world.other_youth.id, key[1], world.activity_b.id, 2, None) in sample
    result = app.test_cli_runner().invoke(args=["visit-counts", "check"])
    assert result.exit_code == 1 and "2 fremmødetal afviger" in result.output

    result = app.test_cli_runner().invoke(args=["visit-counts", "rebuild"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert _counts() == {key: 1}
    assert app.test_cli_runner().invoke(args=["visit-counts", "check"]).exit_code == 0


def test_rebuild_is_exact_for_every_kind_of_visit(app, world):
    cancelled = fx.make_session(world.activity_a, date(2026, 5, 5))
    for session in (world.session_a, world.session_b, cancelled):
        db.session.add(Attendance(youth=world.youth, session=session, method=CheckinMethod.MANUAL))
    cancelled.cancelled_at = datetime.now(UTC)
    db.session.flush()
    before = _counts()
    assert rebuild_visit_counts() == 2
    assert _counts() == before
    assert db.session.scalar(select(func.sum(VisitMonth.visits))) == 2


def test_every_trigger_is_in_place_after_the_migrations(app):
    """A later batch migration on SQLite rebuilds a table without its triggers: this says which went missing."""
    if db.engine.dialect.name == "sqlite":
        found = db.session.execute(text("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")).all()
    else:
        found = db.session.execute(text(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal")).all()
    assert {tuple(r) for r in found} >= {
        ("attendance", "visit_month_attendance_insert"), ("attendance", "visit_month_attendance_delete"),
        ("attendance", "visit_month_attendance_update"), ("session", "visit_month_session_delete"),
        ("session", "visit_month_session_update"),
    }


@pytest.fixture
def in_request(app):
    with app.test_request_context():
        yield
