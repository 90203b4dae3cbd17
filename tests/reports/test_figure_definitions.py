"""The definitions of issue 12's wrong figures, each on a small hand-checked case.

New young people per month, sessions held (started, not cancelled), an initiative within
its action plan's year, sign-up × session pairs while the sign-up was confirmed, the
capacity that applied at each session.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories as fx
from tests.conftest import _empty_tables
from youthclub.activities.services import update_activity
from youthclub.extensions import db
from youthclub.i18n import local_today, to_utc
from youthclub.models import ActionPlan, Attendance, CheckinMethod, Initiative, Signup, SignupStatus
from youthclub.reports import plan_report
from youthclub.reports.stats import StatsFilter, compute_table, compute_tables

#: a clock long after every session of these tests
LATER = datetime(2030, 1, 1, tzinfo=UTC)
YEAR_2026 = dict(start=date(2026, 1, 1), end=date(2026, 12, 31), now=LATER)


def _visit(youth, session):
    db.session.add(Attendance(youth=youth, session=session, method=CheckinMethod.QR))


def _offer(district=None, **kw):
    district = district or fx.make_district()
    return district, fx.make_activity(fx.make_institution(district), **kw)


def test_new_in_a_month_row_means_the_first_visit_ever_falls_in_that_month(app):
    _, activity = _offer()
    sept, octo, nov = (fx.make_session(activity, date(2026, m, 10)) for m in (9, 10, 11))
    old_timer, newcomer, late = fx.make_youth(), fx.make_youth(), fx.make_youth()
    for s in (sept, octo, nov):
        _visit(old_timer, s)
    _visit(newcomer, octo)
    _visit(newcomer, nov)
    _visit(late, nov)
    db.session.flush()
    rows = {r.key["month"]: r.values for r in compute_table(StatsFilter(**YEAR_2026), ("month",))}
    assert {m: (v["unique"], v["new"]) for m, v in rows.items()} == {
        "2026-09": (1, 1), "2026-10": (2, 1), "2026-11": (3, 1)}
    headline = compute_table(StatsFilter(**YEAR_2026))[0].values
    assert (headline["unique"], headline["new"]) == (3, 3)


DAYS = [date(2025, 11, 3) + timedelta(days=i) for i in range(0, 440, 9)]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_monthly_new_never_exceeds_unique_and_adds_up_to_the_period(app, data):
    try:
        district, activity = _offer()
        _, other = _offer(district)
        sessions = [fx.make_session(data.draw(st.sampled_from([activity, other])), day,
                                    start=data.draw(st.sampled_from([time(0, 30), time(16, 0), time(23, 30)])))
                    for day in data.draw(st.lists(st.sampled_from(DAYS), unique=True, min_size=1, max_size=12))]
        youths = [fx.make_youth() for _ in range(data.draw(st.integers(1, 5)))]
        for youth, session in data.draw(st.lists(st.tuples(st.sampled_from(youths), st.sampled_from(sessions)),
                                                 max_size=30, unique_by=lambda p: (p[0].id, p[1].id))):
            _visit(youth, session)
        db.session.flush()
        start, end = data.draw(st.sampled_from([(date(2026, 1, 1), date(2026, 12, 31)), (date(2026, 2, 10), date(2026, 11, 4)),
                                                (date(2025, 12, 5), date(2026, 3, 31))]))
        f = StatsFilter(start, end, now=LATER)
        tables = compute_tables(f, [(), ("month",), ("month", "gender")])
        for dims in [("month",), ("month", "gender")]:
            for row in tables[dims]:
                assert row.values["new"] <= row.values["unique"], row
        assert sum(r.values["new"] for r in tables[("month",)]) == tables[()][0].values["new"]
    finally:
        db.session.rollback()
        _empty_tables()


def test_sessions_held_have_started_and_are_not_cancelled(app):
    _, activity = _offer(requires_signup=False, capacity=None)
    first = fx.make_session(activity, date(2026, 12, 1), start=time(9, 0))
    fx.make_session(activity, date(2026, 12, 1), start=time(16, 0))
    fx.make_session(activity, date(2026, 12, 15))
    fx.make_session(activity, date(2026, 12, 8)).cancelled_at = datetime(2026, 11, 30, tzinfo=UTC)
    for _ in range(4):
        _visit(fx.make_youth(), first)
    db.session.flush()
    december = dict(start=date(2026, 12, 1), end=date(2026, 12, 31))
    noon = to_utc(date(2026, 12, 1), time(12, 0))
    held = compute_table(StatsFilter(**december, now=noon))[0].values
    assert (held["sessions"], held["visits"], held["avg_per_session"]) == (1, 4, 4.0)
    assert compute_table(StatsFilter(**december, now=LATER))[0].values["sessions"] == 3
    # a period wholly in the future has no session held
    assert compute_table(StatsFilter(date(2026, 12, 2), date(2026, 12, 31), now=noon))[0].values["sessions"] == 0
    by_month = compute_table(StatsFilter(date(2026, 1, 1), date(2026, 12, 31), now=noon), ("month",))
    assert [(r.key["month"], r.values["sessions"]) for r in by_month] == [("2026-12", 1)]


def test_an_initiative_counts_only_within_its_action_plans_year(app):
    district, activity = _offer()
    areas = fx.make_focus_areas()
    plan = ActionPlan(district=district, year=2025)
    initiative = Initiative(action_plan=plan, focus_area=areas[1], title="Fredagsklub 2025")
    db.session.add_all([plan, initiative])
    activity.initiatives = [initiative]
    in_2025, in_2026 = fx.make_session(activity, date(2025, 11, 7)), fx.make_session(activity, date(2026, 3, 6))
    for _ in range(6):
        _visit(fx.make_youth(), in_2025)
    for _ in range(9):
        _visit(fx.make_youth(), in_2026)
    db.session.flush()

    def by_initiative(start, end, **kw):
        rows = compute_table(StatsFilter(start, end, now=LATER, **kw), ("initiative",))
        return {r.key["initiative"]: (r.values["visits"], r.values["sessions"]) for r in rows}

    # the dashboard for 2026: the 2025 initiative's offer counts, but under no initiative
    assert by_initiative(date(2026, 1, 1), date(2026, 12, 31)) == {None: (9, 1)}
    assert compute_table(StatsFilter(date(2026, 1, 1), date(2026, 12, 31), now=LATER, initiative_id=initiative.id))[0].values["visits"] == 0
    # over both years only 2025 counts for it, in a breakdown and as a filter
    assert by_initiative(date(2025, 1, 1), date(2026, 12, 31)) == {initiative.id: (6, 1), None: (9, 1)}
    both = StatsFilter(date(2025, 1, 1), date(2026, 12, 31), now=LATER, initiative_id=initiative.id)
    assert compute_table(both)[0].values["visits"] == 6
    assert {r.key["month"]: r.values["visits"] for r in compute_table(both, ("month",))} == {"2025-11": 6}
    # and the 2025 action-plan report agrees with the dashboard
    report = plan_report.build(district.id, 2025, None, now=LATER)
    line = next(line for s in report.sections for line in s.initiatives if line.initiative.id == initiative.id)
    assert (line.row.values["visits"], line.row.values["sessions"]) == (6, 1)
    dashboard = by_initiative(date(2025, 1, 1), date(2025, 12, 31))
    assert dashboard[initiative.id] == (line.row.values["visits"], line.row.values["sessions"])


def test_a_sign_up_pairs_only_with_sessions_held_while_it_was_confirmed(app):
    _, activity = _offer(requires_signup=True, capacity=None)
    days = [date(2026, 3, d) for d in (2, 9, 16, 23, 30)]
    sessions = [fx.make_session(activity, d) for d in days]
    youth, steady = fx.make_youth(), fx.make_youth()
    # confirmed between the 2nd and 9th, cancelled between the 16th and 23rd: two sessions
    db.session.add(Signup(youth=youth, activity=activity, status=SignupStatus.CANCELLED,
                          created_at=to_utc(date(2026, 3, 1), time(12)), confirmed_at=to_utc(date(2026, 3, 5), time(12)),
                          cancelled_at=to_utc(date(2026, 3, 20), time(12))))
    # confirmed (from the waitlist) on the 16th at noon: before that day's 16:00 session
    db.session.add(Signup(youth=steady, activity=activity, status=SignupStatus.CONFIRMED,
                          created_at=to_utc(date(2026, 3, 1), time(12)), confirmed_at=to_utc(date(2026, 3, 16), time(12))))
    _visit(youth, sessions[0])  # before the sign-up was confirmed: a visit, not an attended pair
    _visit(youth, sessions[1])
    _visit(steady, sessions[2])
    _visit(steady, sessions[3])
    db.session.flush()
    row = compute_table(StatsFilter(**YEAR_2026))[0]
    # pairs: youth × 9th, 16th; steady × 16th, 23rd, 30th
    assert (row.parts["attended"], row.parts["expected"]) == (3, 5)
    assert row.values["attendance_rate"] == 3 / 5


def test_capacity_use_takes_the_capacity_that_applied_at_each_session(app):
    _, activity = _offer(requires_signup=True, capacity=10)
    today = local_today()
    past = [fx.make_session(activity, today - timedelta(days=d)) for d in (14, 7)]
    coming = fx.make_session(activity, today + timedelta(days=7))
    for _ in range(5):
        _visit(fx.make_youth(), past[0])
    db.session.flush()
    update_activity(activity, capacity=20)
    db.session.flush()
    assert [s.capacity for s in past] == [10, 10] and coming.capacity == 20
    f = StatsFilter(today - timedelta(days=30), today + timedelta(days=30), now=to_utc(today + timedelta(days=8), time(0)))
    assert compute_table(f)[0].values["capacity_use"] == 5 / 40
    # an offer without places at a session counts for neither side
    update_activity(activity, capacity=None)
    late = fx.make_session(activity, today + timedelta(days=7), start=time(10, 0))
    _visit(fx.make_youth(), late)
    db.session.flush()
    row = compute_table(f)[0]
    assert late.capacity is None and (row.parts["visits_cap"], row.parts["places"]) == (5, 20)
