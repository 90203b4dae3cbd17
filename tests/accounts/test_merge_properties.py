"""Property: merging random pairs of profiles never loses a visit or a place, never counts one twice,
and leaves every waitlist numbered 1..n with no more places given than there are."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests import factories as fx
from tests.conftest import _empty_tables
from youthclub.accounts.merge import MergeError, merge_youths
from youthclub.activities.models import Activity
from youthclub.attendance.models import Attendance
from youthclub.extensions import db
from youthclub.i18n import local_today
from youthclub.models import Role
from youthclub.reports.visit_counts import find_differences
from youthclub.signups import services as signups
from youthclub.signups.models import Signup


def _attended() -> dict[int, set[int]]:
    found: dict[int, set[int]] = {}
    for youth_id, session_id in db.session.execute(select(Attendance.youth_id, Attendance.session_id)):
        found.setdefault(youth_id, set()).add(session_id)
    return found


def _active() -> dict[int, set[int]]:
    found: dict[int, set[int]] = {}
    for youth_id, activity_id in db.session.execute(
        select(Signup.youth_id, Signup.activity_id).where(Signup.status.in_(signups.ACTIVE))
    ):
        found.setdefault(youth_id, set()).add(activity_id)
    return found


def _assert_invariants(activities, expected_attended, expected_active) -> None:
    assert db.session.scalar(select(func.count(Attendance.id))) == sum(len(s) for s in expected_attended.values())
    assert {k: v for k, v in _attended().items()} == {k: v for k, v in expected_attended.items() if v}
    assert _active() == {k: v for k, v in expected_active.items() if v}
    for activity in activities:
        line = [s.position for s in signups.waitlist(activity.id)]
        assert line == list(range(1, len(line) + 1)), f"waitlist of {activity.id}: {line}"
        confirmed = signups.count_confirmed(activity.id)
        if activity.capacity is not None:
            assert confirmed <= activity.capacity
            assert not line or confirmed == activity.capacity, "a free place while someone waits"
    assert find_differences() == (0, [])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_merging_random_pairs_keeps_every_visit_and_place_once(app, data):
    try:
        institution = fx.make_institution(fx.make_district(code="8"))
        staff = fx.make_user(Role.STAFF, institution)
        activities = [
            fx.make_activity(institution, capacity=data.draw(st.sampled_from([None, 0, 1, 2, 2, 3])))
            for _ in range(data.draw(st.integers(1, 3)))
        ]
        sessions = []
        for activity in activities:
            for days_ago in data.draw(st.lists(st.integers(0, 60), min_size=1, max_size=3, unique=True)):
                session = fx.make_session(activity, local_today() - timedelta(days=days_ago))
                if data.draw(st.integers(0, 5)) == 0:
                    session.cancelled_at = datetime.now(UTC)
                sessions.append(session)
        youths = []
        for _ in range(data.draw(st.integers(2, 6))):
            youth = fx.make_youth(with_login=data.draw(st.integers(0, 3)) == 0, first_name="Zara")
            youth.registered_by_institution_id = institution.id
            youths.append(youth)
        db.session.flush()
        for youth in youths:
            for activity in [a for a in activities if data.draw(st.integers(0, 3))]:
                try:
                    signup = signups.sign_up(youth, activity)
                except signups.SignupError:
                    continue
                if data.draw(st.integers(0, 4)) == 0:
                    signups.cancel_signup(signup, by_user=staff)
            for session in data.draw(st.lists(st.sampled_from(sessions), max_size=4, unique_by=lambda s: s.id)):
                fx.attend(youth, session)
        db.session.commit()

        expected_attended = _attended()
        expected_active = _active()
        alive = [y.id for y in youths]
        _assert_invariants(activities, expected_attended, expected_active)
        for _ in range(data.draw(st.integers(1, len(alive) - 1))):
            keep_id, remove_id = data.draw(st.lists(st.sampled_from(alive), min_size=2, max_size=2, unique=True))
            keep, remove = db.session.get(fx.YouthProfile, keep_id), db.session.get(fx.YouthProfile, remove_id)
            try:
                merge_youths(keep, remove, staff)
            except MergeError as err:
                assert err.code == "both_have_login"
                db.session.rollback()
                continue
            db.session.commit()
            alive.remove(remove_id)
            expected_attended[keep_id] = expected_attended.get(keep_id, set()) | expected_attended.pop(remove_id, set())
            expected_active[keep_id] = expected_active.get(keep_id, set()) | expected_active.pop(remove_id, set())
            activities = list(db.session.scalars(select(Activity).order_by(Activity.id)))
            _assert_invariants(activities, expected_attended, expected_active)
        event(f"profiles left: {len(alive)} of {len(youths)}")
    finally:
        db.session.rollback()
        _empty_tables()
