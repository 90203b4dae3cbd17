"""Every figure, computed in SQL, against a plain-Python computation over the same random rows."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories as fx
from tests.conftest import _empty_tables
from tests.reports.reference import reference_table
from youthclub.extensions import db
from youthclub.i18n import to_utc
from youthclub.models import (
    ActionPlan,
    AgeBand,
    Attendance,
    Category,
    CheckinMethod,
    Gender,
    HeadCount,
    Initiative,
    Signup,
    SignupStatus,
)
from youthclub.reports.stats import DIMENSIONS, StatsFilter, compute_table, compute_tables

DAYS = [date(2025, 12, 30) + timedelta(days=i) for i in range(0, 420, 7)]


def _build(data):
    """Random programme data: offers with tags, sessions (some cancelled), young people, visits, counts, sign-ups."""
    programme = fx.make_programme()
    districts = [fx.make_district(programme, code="8"), fx.make_district(programme, code="12")]
    areas = fx.make_focus_areas()
    plan, last_plan = ActionPlan(district=districts[0], year=2026), ActionPlan(district=districts[0], year=2025)
    initiatives = [Initiative(action_plan=plan, focus_area=areas[1], title=f"I{i}") for i in range(2)]
    # an initiative of last year's plan: its offers count for it only in 2025
    initiatives.append(Initiative(action_plan=last_plan, focus_area=areas[1], title="I2025"))
    db.session.add_all([plan, last_plan, *initiatives])
    institutions = [fx.make_institution(districts[i % 2]) for i in range(3)]
    activities = []
    for _ in range(data.draw(st.integers(1, 4))):
        inst = data.draw(st.sampled_from(institutions))
        activity = fx.make_activity(
            inst,
            district_id=data.draw(st.sampled_from(districts)).id,
            category=data.draw(st.sampled_from([Category.SPORT, Category.MUSIK])),
            capacity=data.draw(st.sampled_from([None, 5, 12])),
            requires_signup=data.draw(st.booleans()),
        )
        activity.focus_areas = data.draw(st.lists(st.sampled_from(areas), unique=True, max_size=2))
        activity.initiatives = data.draw(st.lists(st.sampled_from(initiatives), unique=True, max_size=2))
        activities.append(activity)
    sessions = []
    for activity in activities:
        for day in data.draw(st.lists(st.sampled_from(DAYS), unique=True, min_size=1, max_size=6)):
            # 23:30 local puts some sessions on the other side of a UTC date line
            s = fx.make_session(activity, day, start=data.draw(st.sampled_from([time(16, 0), time(23, 30), time(0, 30)])))
            if data.draw(st.integers(0, 5)) == 0:
                s.cancelled_at = datetime.now(UTC)
            if data.draw(st.integers(0, 4)) == 0:  # the capacity changed while the offer ran
                s.capacity = data.draw(st.sampled_from([None, 8]))
            sessions.append(s)
    youths = [
        fx.make_youth(
            birth_year=data.draw(st.integers(2006, 2015)), birth_month=data.draw(st.integers(1, 12)),
            gender=data.draw(st.sampled_from(list(Gender))), district=data.draw(st.sampled_from(districts + [None])),
        )
        for _ in range(data.draw(st.integers(1, 6)))
    ]
    pairs = data.draw(st.lists(st.tuples(st.sampled_from(youths), st.sampled_from(sessions)), max_size=40,
                               unique_by=lambda p: (p[0].id, p[1].id)))
    for youth, session in pairs:
        db.session.add(Attendance(youth=youth, session=session, method=CheckinMethod.QR))
    for session in data.draw(st.lists(st.sampled_from(sessions), unique_by=lambda s: s.id, max_size=4)):
        for band in data.draw(st.lists(st.sampled_from(list(AgeBand)), unique=True, max_size=2)):
            db.session.add(HeadCount(session=session, age_band=band, gender=data.draw(st.sampled_from(list(Gender))),
                                     count=data.draw(st.integers(0, 9))))
    moments = [to_utc(d, time(12, 0)) for d in (date(2025, 11, 1), date(2026, 3, 31), date(2026, 4, 1), date(2026, 8, 1), date(2027, 2, 1))]
    for youth in youths:
        for activity in data.draw(st.lists(st.sampled_from(activities), unique_by=lambda a: a.id, max_size=2)):
            status = data.draw(st.sampled_from(list(SignupStatus)))
            created = data.draw(st.sampled_from(moments))
            later = [m for m in moments if m >= created]
            confirmed = data.draw(st.sampled_from(later)) if status == SignupStatus.CONFIRMED else (
                data.draw(st.sampled_from([None] + later)) if status == SignupStatus.CANCELLED else None)
            cancelled = data.draw(st.sampled_from(later)) if status == SignupStatus.CANCELLED else None
            db.session.add(Signup(youth=youth, activity=activity, status=status, created_at=created,
                                  confirmed_at=confirmed, cancelled_at=cancelled,
                                  position=1 if status == SignupStatus.WAITLISTED else None))
    db.session.flush()
    # after the visits, as staff do: cancel, reinstate and move sessions (the visit counts follow)
    for session in data.draw(st.lists(st.sampled_from(sessions), unique_by=lambda s: s.id, max_size=3)):
        change = data.draw(st.sampled_from(["cancel", "reinstate", "move"]))
        if change == "cancel":
            session.cancelled_at = datetime.now(UTC)
        elif change == "reinstate":
            session.cancelled_at = None
        else:
            session.starts_at = to_utc(data.draw(st.sampled_from(DAYS)), time(16, 0))
            session.ends_at = session.starts_at + timedelta(hours=2)
    db.session.flush()
    return districts, institutions, areas, initiatives


def _filter(data, districts, institutions, areas, initiatives) -> StatsFilter:
    period = data.draw(st.sampled_from([
        (date(2026, 1, 1), date(2026, 12, 31)), (date(2026, 1, 1), date(2026, 3, 31)),
        (date(2026, 3, 1), date(2026, 3, 31)), (date(2026, 2, 10), date(2026, 11, 4)),
    ]))
    maybe = lambda values: data.draw(st.sampled_from([None, None] + list(values)))  # noqa: E731
    return StatsFilter(
        start=period[0], end=period[1],
        district_id=maybe([d.id for d in districts]),
        institution_ids=data.draw(st.sampled_from([None, None, frozenset({institutions[0].id}), frozenset()])),
        focus_area_id=maybe([a.id for a in areas]),
        initiative_id=maybe([i.id for i in initiatives]),
        category=maybe(["sport"]),
        age_band=maybe([b.value for b in AgeBand]),
        gender=maybe([g.value for g in Gender]),
        # the clock: after every session, or in the middle of the data (later sessions not held yet)
        now=data.draw(st.sampled_from([datetime(2030, 1, 1, tzinfo=UTC), to_utc(date(2026, 3, 31), time(16, 0)),
                                       to_utc(date(2026, 11, 2), time(12, 0))])),
    )


def _as_dict(rows) -> dict:
    return {tuple(r.key.values()): r.values for r in rows}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_every_figure_matches_a_plain_python_computation(app, data):
    try:
        ctx = _build(data)
        f = _filter(data, *ctx)
        # several tables at once, as the dashboard and the exports ask for them (one pass over the visits)
        tables = data.draw(st.lists(st.lists(st.sampled_from(DIMENSIONS), unique=True, max_size=2).map(tuple),
                                    min_size=1, max_size=3))
        computed = compute_tables(f, tables)
        for dims in tables:
            got = _as_dict(computed[dims])
            expected = reference_table(f, dims)
            assert got.keys() == expected.keys(), (dims, f)
            for key, figures in expected.items():
                for name, value in figures.items():
                    assert got[key][name] == pytest.approx(value), (dims, key, name, f)
        assert _as_dict(compute_table(f, tables[0])) == _as_dict(computed[tables[0]])
    finally:
        db.session.rollback()
        _empty_tables()


def test_one_visit_counts_everywhere_it_belongs(app):
    """A hand-checked case: a session late on 31 March local time is a March visit, the age is the session's."""
    district = fx.make_district(code="12")
    inst = fx.make_institution(district)
    activity = fx.make_activity(inst, capacity=10)
    s = fx.make_session(activity, date(2026, 3, 31), start=time(23, 30), end=time(23, 59))
    youth = fx.make_youth(birth_year=2013, birth_month=4, district=district)
    db.session.add(Attendance(youth=youth, session=s, method=CheckinMethod.QR))
    db.session.flush()
    f = StatsFilter(date(2026, 1, 1), date(2026, 12, 31), now=datetime(2030, 1, 1, tzinfo=UTC))
    rows = compute_table(f, ("month", "age_band"))
    assert [(r.key["month"], r.key["age_band"], r.values["visits"]) for r in rows] == [("2026-03", "u13", 1)]
    headline = compute_table(f)[0].values
    assert headline["unique"] == headline["new"] == headline["local"] == 1
    assert headline["capacity_use"] == pytest.approx(0.1)


def test_an_initiative_table_reads_its_sums_per_year_not_per_month(app):
    """Initiatives without a month breakdown need only the year: the sums come back one row an offer a year."""
    from youthclub.reports.stats import _shape, query_sessions

    inst = fx.make_institution(fx.make_district(code="8"))
    activity = fx.make_activity(inst, capacity=10)
    for day in (date(2025, 3, 4), date(2025, 9, 9), date(2026, 2, 3), date(2026, 6, 2), date(2026, 6, 9)):
        fx.make_session(activity, day)
    db.session.flush()
    f = StatsFilter(date(2025, 1, 1), date(2026, 12, 31), now=datetime(2030, 1, 1, tzinfo=UTC))
    by_year = query_sessions(f, [_shape(("initiative",))])[_shape(("initiative",))]
    assert {key[1]: values[0] for key, values in by_year.items()} == {"2025-01": 2, "2026-01": 3}
    by_month = query_sessions(f, [_shape(("month",))])[_shape(("month",))]
    assert sorted(key[1] for key in by_month) == ["2025-03", "2025-09", "2026-02", "2026-06"]


def test_shapes_summed_together_equal_each_shape_summed_alone(app):
    """A shape another asked-for shape refines is summed from that one's groups (``_grain_rows``): the same
    sums as from every row, for every set of shapes, months, years, ages and genders."""
    import itertools

    from youthclub.reports.stats import _refines, query_capacity_visits

    inst = fx.make_institution(fx.make_district(code="8"))
    activities = [fx.make_activity(inst, capacity=10), fx.make_activity(inst, capacity=4, category=Category.KREATIV)]
    youths = [fx.make_youth(birth_year=2011, birth_month=m, gender=g) for m, g in ((3, Gender.PIGE), (11, Gender.DRENG), (6, Gender.PIGE))]
    for i, day in enumerate((date(2024, 3, 4), date(2024, 11, 20), date(2025, 2, 3), date(2025, 11, 2), date(2026, 1, 9))):
        session = fx.make_session(activities[i % 2], day)
        for youth in youths[: 1 + i % 3]:
            fx.attend(youth, session)
    db.session.flush()
    f = StatsFilter(date(2024, 1, 1), date(2026, 12, 31), now=datetime(2030, 1, 1, tzinfo=UTC))
    every = list(itertools.product((False, True), ("", "year", "month"), (False, True), (False, True)))
    assert _refines((True, "month", True, True), (False, "", False, False)) and not _refines((True, "year", False, False), (False, "month", False, False))
    together = query_capacity_visits(f, every)
    for shape in every:
        assert together[shape] == query_capacity_visits(f, [shape])[shape], shape
    assert together[(False, "", False, False)][(None, None, None, None)][0] == 1 + 2 + 3 + 1 + 2
