"""The figures of closed years: kept exactly, served while nothing is written into them, computed again after.

Each way a closed year's figures can change has a scenario: the write through the service that
makes it (or the SQL a repair would run), which must change the figures. With the figures'
triggers the cached answer follows (``test_a_write_into_a_closed_year_is_seen``); with the
triggers of that table dropped, the stale answer is served (``..._without_its_trigger``, the
negative control that shows each test stands on its trigger).
"""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text, update

from tests.reports import figcache_world as cw
from youthclub.accounts.merge import merge_youths
from youthclub.accounts.models import Gender, YouthProfile
from youthclub.activities.models import Activity, Category, Session
from youthclub.activities.services import cancel_session, move_session, restore_session, tag_activity, update_activity
from youthclub.attendance.models import AgeBand, Attendance
from youthclub.attendance.services import adjust_head_count, check_in, mark_present, remove_attendance
from youthclub.extensions import db
from youthclub.i18n import local_today
from youthclub.programme.models import ActionPlan, Initiative
from youthclub.reports import figures_cache, stats
from youthclub.reports.models import FiguresCache, FiguresGrainYear, FiguresPeopleYear
from youthclub.reports.stats import StatsFilter, compute_tables
from youthclub.signups.models import Signup
from youthclub.signups.services import cancel_signup, sign_up


@pytest.fixture
def w(app):
    return cw.build()


# -- the scenarios: a write into the closed year, and the tables whose triggers see it -------

def _correction_add(w):
    session = cw.session_of(w.activities[1], w.year, 6)
    youth = next(y for y in w.youths if not db.session.scalar(
        select(Attendance.id).where(Attendance.youth_id == y.id, Attendance.session_id == session.id)))
    mark_present(session, youth, w.staff, reason="Listen var glemt")


def _correction_remove(w):
    attendance = db.session.scalars(select(Attendance).join(Session).where(
        Session.local_month == w.year * 12 + 10).order_by(Attendance.id)).first()
    remove_attendance(attendance, w.staff, reason="Scannet ved en fejl")


def _attendance_moved_in_its_month(w):
    # another session of the same offer and month (one offers places, the other not): the visit counts stay
    a = cw.session_of(w.activities[0], w.year, 2)
    b = db.session.scalars(select(Session).where(Session.activity_id == w.activities[0].id,
                                                 Session.local_month == w.year * 12 + 1, Session.id != a.id)).one()
    moved = db.session.scalars(select(Attendance).where(Attendance.session_id == a.id, Attendance.youth_id.not_in(
        select(Attendance.youth_id).where(Attendance.session_id == b.id)))).first()
    moved.session_id = b.id


def _session_cancelled(w):
    session = fx_empty_session(w)
    cancel_session(session, "Lukket for vand")


def _session_restored(w):
    session = fx_empty_session(w)
    session.cancelled_at = datetime(w.year, 7, 1, tzinfo=UTC)  # cancelled back then, before the cache is filled
    w.extra["restore"] = session


def _session_moved(w):
    session = fx_empty_session(w)
    move_session(session, session.starts_at + timedelta(days=40), session.ends_at + timedelta(days=40), reason="Flyttet")


def _session_added(w):
    from tests import factories as fx

    fx.make_session(w.activities[2], date(w.year, 9, 9))


def _session_deleted(w):
    db.session.delete(fx_empty_session(w))


def _capacity_changed(w):
    cw.session_of(w.activities[0], w.year, 6).capacity = 3


def _head_count_added(w):
    session = cw.session_of(w.activities[2], w.year, 11)
    adjust_head_count(session, AgeBand.AGE_16_17, Gender.PIGE, 1, w.staff, seen=0, reason="Glemt ved døren")


def _head_count_changed(w):
    hc = w.head_counts[0]
    adjust_head_count(db.session.get(Session, hc.session_id), hc.age_band, hc.gender, -1, w.staff, seen=hc.count,
                      reason="Talt forkert")


def _head_count_deleted(w):
    db.session.delete(w.head_counts[1])


def _signup_deleted(w):
    db.session.delete(w.signups[1])


def _waitlist_left_in_the_past(w):
    # a repair: the place on the waitlist was cancelled in the closed year after all
    w.signups[2].status, w.signups[2].cancelled_at, w.signups[2].position = "cancelled", cw.at(w.year, 5, 1), None


def _gender_changed(w):
    w.youths[0].gender = Gender.DRENG


def _birth_changed(w):
    w.youths[1].birth_year -= 3


def _home_changed(w):
    w.youths[2].home_district_id = w.districts[0].id


def _activity_recategorised(w):
    update_activity(w.activities[0], category=Category.GAMING)


def _activity_moved_district(w):
    update_activity(w.activities[1], district_id=w.districts[1].id)


def _activity_no_longer_needs_signup(w):
    update_activity(w.activities[0], requires_signup=False)


def _focus_area_tagged(w):
    tag_activity(w.activities[1], focus_area_ids=[w.areas[0].id], initiative_ids=[w.initiatives[1].id])


def _initiative_untagged(w):
    tag_activity(w.activities[0], focus_area_ids=[w.areas[1].id], initiative_ids=[])


def _initiative_moved_plan(w):
    db.session.get(Initiative, w.initiatives[0].id).action_plan_id = w.plans[1].id


def _initiative_deleted(w):
    db.session.delete(db.session.get(Initiative, w.initiatives[0].id))


def _plan_year_changed(w):
    db.session.get(ActionPlan, w.plans[0].id).year = w.year - 1


def _visit_counts_repaired(w):
    db.session.execute(text("UPDATE visit_month SET visits = visits + 1 WHERE month = :m"), {"m": w.year * 12 + 5})


def fx_empty_session(w) -> Session:
    """A closed-year session without visits (so only the session's own trigger can see it change)."""
    from tests import factories as fx

    if "empty" not in w.extra:
        w.extra["empty"] = fx.make_session(w.activities[0], date(w.year, 4, 7))
        w.extra["empty"].capacity = 10
        db.session.flush()
    return w.extra["empty"]


#: name: (prepare before the cache is filled or None, the write, the tables whose figures triggers see it)
SCENARIOS = {
    "correction_add": (None, _correction_add, ("visit_month",)),
    "correction_remove": (None, _correction_remove, ("visit_month",)),
    # the visit counts' own triggers subtract and add for a moved visit, even within one offer and month
    "attendance_moved_in_its_month": (None, _attendance_moved_in_its_month, ("visit_month",)),
    "session_cancelled": (fx_empty_session, _session_cancelled, ("session",)),
    "session_restored": (_session_restored, lambda w: restore_session(w.extra["restore"]), ("session",)),
    "session_moved": (fx_empty_session, _session_moved, ("session",)),
    "session_added": (None, _session_added, ("session",)),
    "session_deleted": (fx_empty_session, _session_deleted, ("session",)),
    "capacity_changed": (None, _capacity_changed, ("session",)),
    "head_count_added": (None, _head_count_added, ("head_count",)),
    "head_count_changed": (None, _head_count_changed, ("head_count",)),
    "head_count_deleted": (None, _head_count_deleted, ("head_count",)),
    "signup_deleted": (None, _signup_deleted, ("signup",)),
    "waitlist_left_in_the_past": (None, _waitlist_left_in_the_past, ("signup",)),
    "gender_changed": (None, _gender_changed, ("youth_profile",)),
    "birth_changed": (None, _birth_changed, ("youth_profile",)),
    "home_changed": (None, _home_changed, ("youth_profile",)),
    "activity_recategorised": (None, _activity_recategorised, ("activity",)),
    "activity_moved_district": (None, _activity_moved_district, ("activity",)),
    "activity_no_longer_needs_signup": (None, _activity_no_longer_needs_signup, ("activity",)),
    "focus_area_tagged": (None, _focus_area_tagged, ("activity_focus_area",)),
    "initiative_untagged": (None, _initiative_untagged, ("activity_initiative",)),
    "initiative_moved_plan": (None, _initiative_moved_plan, ("initiative",)),
    "initiative_deleted": (None, _initiative_deleted, ("initiative",)),
    "plan_year_changed": (None, _plan_year_changed, ("action_plan",)),
    "visit_counts_repaired": (None, _visit_counts_repaired, ("visit_month",)),
    # what a deletion takes with it (where the database cascades) is seen by those rows' triggers too
    "youth_deleted": (None, lambda w: db.session.delete(db.session.get(YouthProfile, w.youths[1].id)),
                      ("youth_profile", "visit_month", "signup")),
    "activity_deleted": (None, lambda w: db.session.delete(db.session.get(Activity, w.activities[2].id)),
                         ("activity", "session", "visit_month", "signup", "head_count", "activity_focus_area")),
}


def _all(w):
    return [cw.cached(f) for f in w.filters()]


def _fresh(w):
    return [cw.fresh(f) for f in w.filters()]


def _run(w, name, *, drop: bool):
    prepare, write, tables = SCENARIOS[name]
    if prepare:
        prepare(w)
    db.session.flush()
    if drop:
        cw.drop_triggers(*tables)
    before = _all(w)
    assert all(cw.is_kept(f) for f in w.filters()), "every filter's closed period is kept"
    assert _all(w) == before, "served again unchanged"
    write(w)
    db.session.flush()
    db.session.expire_all()
    return before


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_write_into_a_closed_year_is_seen(w, name):
    before = _run(w, name, drop=False)
    now = _fresh(w)
    assert now != before, "the scenario changes the figures"
    assert _all(w) == now


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_write_into_a_closed_year_goes_unseen_without_its_trigger(w, name):
    """The negative control: each scenario above passes because of its table's trigger."""
    _run(w, name, drop=True)
    # stale: served as before (a filter by initiative may get a new key of its own when the plan's year moves)
    assert _all(w) != _fresh(w)


def test_the_merge_of_two_profiles_is_seen(w):
    for youth in (w.youths[0], w.youths[3]):
        youth.registered_by_institution_id = w.institutions[0].id
    before = _all(w)
    merge_youths(w.youths[0], w.youths[3], w.staff)
    db.session.flush()
    db.session.expire_all()
    assert _all(w) == _fresh(w) != before


# -- what writes nothing -----------------------------------------------------------------------

def test_a_check_in_sign_up_and_head_count_today_write_no_generation(w):
    from tests import factories as fx

    db.session.flush()
    kept = cw.generations()
    now_session = w.current_sessions[0]
    newcomer = fx.make_youth(birth_year=local_today().year - 15)
    check_in(now_session, w.youths[0].pass_token, nonce="n-1", by_user=w.staff)
    check_in(now_session, newcomer.pass_token, nonce="n-2", by_user=w.staff)
    sign_up(newcomer, w.activities[0])
    adjust_head_count(now_session, AgeBand.AGE_13_15, Gender.PIGE, 1, w.staff, seen=0)
    attendance = db.session.scalars(select(Attendance).where(Attendance.session_id == now_session.id)).first()
    remove_attendance(attendance, w.staff)
    cancel_signup(db.session.scalars(select(Signup).where(Signup.youth_id == newcomer.id)).one(), by_user=None)
    newcomer.gender = Gender.DRENG  # a new young person has nothing in the closed years
    db.session.flush()
    assert cw.generations() == kept


def test_a_write_into_a_closed_year_bumps_its_year_only(w):
    db.session.flush()
    kept = cw.generations()
    _head_count_deleted(w)
    db.session.flush()
    after = cw.generations()
    assert after.get(w.year, 0) == kept.get(w.year, 0) + 1
    assert {y: g for y, g in after.items() if y != w.year} == {y: g for y, g in kept.items() if y != w.year}


def test_an_earlier_year_is_kept_through_a_write_into_a_later_one(w, monkeypatch):
    earlier = StatsFilter(date(w.year - 1, 1, 1), date(w.year - 1, 12, 31))
    kept = cw.cached(earlier)
    _head_count_deleted(w)
    db.session.flush()

    def computed(*args):
        raise AssertionError("computed again")

    monkeypatch.setattr(figures_cache, "compute_tables", computed)
    assert cw.cached(earlier) == kept
    monkeypatch.undo()
    cw.cached(w.filters()[0])  # the later year: computed again


# -- which periods are kept ----------------------------------------------------------------

def test_the_current_year_and_a_period_reaching_into_it_are_not_kept(w):
    today = local_today()
    cw.cached(StatsFilter(date(today.year, 1, 1), date(today.year, 12, 31)))
    cw.cached(StatsFilter(date(w.year, 6, 1), date(today.year, 5, 31)))
    assert cw.entries() == 0


def test_a_long_periods_month_rows_of_a_closed_year_are_that_years_own_kept_figures(w):
    """A period over a closed year and into the current one: the closed year's month rows come from the
    figures kept for that year alone (a month's row does not depend on where the period starts)."""
    today = local_today()
    long = StatsFilter(date(w.year - 1, 3, 15), today)
    answer = cw.cached(long)
    year = StatsFilter(date(w.year, 1, 1), date(w.year, 12, 31))
    assert cw.is_kept(year, [("month",)]), "the closed year's month rows are kept for it"
    assert not cw.is_kept(long), "the long period itself reaches into the current year"
    assert answer == cw.fresh(long)
    months = {r.key["month"]: r for r in answer[("month",)]}
    assert any(months[m].values["new"] for m in months if m.startswith(f"{w.year}-")), "the world has newcomers there"

    # the rows are read from that entry: change one of its figures, and the long period shows it
    entry = db.session.scalars(select(FiguresCache)).one()
    payload = json.loads(entry.payload)
    (dims, rows), = payload
    month_key, values = next((key, v) for key, v, _parts, _hidden, _small in rows if v["unique"])
    values["unique"] += 100
    entry.payload = json.dumps(payload)
    db.session.flush()
    shown = {r.key["month"]: r.values["unique"] for r in cw.cached(long)[("month",)]}
    assert shown[month_key[0]] == months[month_key[0]].values["unique"] + 100


def test_a_long_periods_tables_without_months_read_a_closed_years_kept_visits_per_young_person(w):
    """The same long period: its tables without months read the closed year's visits per young person,
    offer and age band as kept (``figures_people_year``), and a deleted profile takes its kept rows along."""
    from youthclub.reports.models import FiguresPeopleYear

    long = StatsFilter(date(w.year - 1, 3, 15), local_today())
    answer = cw.cached(long)
    assert answer == cw.fresh(long)
    kept = db.session.scalars(select(FiguresPeopleYear).where(FiguresPeopleYear.year == w.year)).all()
    assert kept and {r.youth_id for r in kept} <= {y.id for y in w.youths}

    # the headline is read from them: add visits to one kept row, and it shows them
    row = next(r for r in kept if r.youth_id == w.youths[0].id)
    row.visits += 7
    db.session.flush()
    assert cw.cached(long)[()][0].values["visits"] == answer[()][0].values["visits"] + 7
    row.visits -= 7
    db.session.flush()

    db.session.delete(db.session.get(YouthProfile, w.youths[0].id))
    db.session.flush()
    assert not db.session.scalars(select(FiguresPeopleYear).where(FiguresPeopleYear.youth_id == w.youths[0].id)).all()
    assert cw.cached(long) == cw.fresh(long)


def test_a_year_is_closed_after_the_grace_days_of_new_year(app):
    f = StatsFilter(date(2030, 1, 1), date(2030, 12, 31), now=datetime(2031, 6, 1, tzinfo=UTC))
    # midnight in Copenhagen is 23:00 UTC in winter
    assert not figures_cache.is_closed(f, datetime(2031, 1, 2, 22, 59, tzinfo=UTC))
    assert figures_cache.is_closed(f, datetime(2031, 1, 2, 23, 0, tzinfo=UTC))
    assert not figures_cache.is_closed(f, datetime(2030, 12, 31, 23, 0, tzinfo=UTC))
    # figures taken at a moment inside the period: a part of it held nothing yet
    assert not figures_cache.is_closed(f.__class__(f.start, f.end, now=datetime(2030, 7, 1, tzinfo=UTC)),
                                       datetime(2031, 6, 1, tzinfo=UTC))
    app.config["FIGURES_CACHE_GRACE_DAYS"] = 10
    assert not figures_cache.is_closed(f, datetime(2031, 1, 9, tzinfo=UTC))


def test_figures_taken_inside_a_closed_period_are_not_kept(w):
    f = StatsFilter(date(w.year, 1, 1), date(w.year, 12, 31), now=datetime(w.year, 7, 1, tzinfo=UTC))
    assert cw.cached(f) == cw.fresh(f)
    assert cw.entries() == 0


def test_the_cache_can_be_switched_off(app, w):
    app.config["FIGURES_CACHE"] = False
    f = w.filters()[0]
    assert cw.cached(f) == cw.fresh(f)
    assert cw.entries() == 0


# -- the entry: key, payload, concurrency ----------------------------------------------------

def test_the_rows_come_back_exactly(w):
    """Keys, values, parts, None and floats, of every dimension, with the types compute_tables gives."""
    family = cw.FAMILY + [("district", "institution", "focus_area", "initiative", "category", "month", "age_band", "gender")]
    for f in w.filters():
        raw = compute_tables(f, family)
        back = figures_cache.decode(figures_cache.encode(raw))
        assert back == raw and list(back) == list(raw)

        def typed(tables):
            return [(dims, [(r.key, [(k, v, type(v)) for k, v in r.key.items()],
                             [(k, v, type(v)) for k, v in r.values.items()],
                             [(k, v, type(v)) for k, v in r.parts.items()], r.hidden, r.small) for r in rows])
                    for dims, rows in tables.items()]
        assert typed(back) == typed(raw)
    kinds = {type(v) for rows in raw.values() for r in rows for v in [*r.key.values(), *r.values.values()]}
    assert kinds == {int, float, str, type(None)}, "the test sees every kind of value"


def test_a_value_that_would_not_come_back_exactly_is_refused(w):
    raw = compute_tables(w.filters()[0], [("gender",)])
    raw[("gender",)][0].key["gender"] = Gender.PIGE  # an enum would come back as a str
    with pytest.raises(TypeError):
        figures_cache.encode(raw)
    raw[("gender",)][0].key["gender"] = "pige"
    raw[("gender",)][0].values["visits"] = True
    with pytest.raises(TypeError):
        figures_cache.encode(raw)


def test_the_key_covers_every_field_of_the_filter_but_the_moment(app):
    base = StatsFilter(date(2020, 1, 1), date(2020, 12, 31))
    changed = [
        StatsFilter(date(2020, 1, 2), date(2020, 12, 31)), StatsFilter(date(2020, 1, 1), date(2020, 12, 30)),
        StatsFilter(base.start, base.end, district_id=1), StatsFilter(base.start, base.end, institution_ids=frozenset()),
        StatsFilter(base.start, base.end, institution_ids=frozenset({1})), StatsFilter(base.start, base.end, focus_area_id=1),
        StatsFilter(base.start, base.end, initiative_id=1), StatsFilter(base.start, base.end, category="sport"),
        StatsFilter(base.start, base.end, age_band="13-15"), StatsFilter(base.start, base.end, gender="pige"),
    ]
    fields = set(StatsFilter.__dataclass_fields__) - {"now"}
    varied = {name for f in changed for name in fields if getattr(f, name) != getattr(base, name)}
    assert varied == fields, "a new filter field needs its line here and in as_dict"
    keys = {figures_cache.cache_key(f, [()]) for f in changed}
    assert len(keys) == len(changed) and figures_cache.cache_key(base, [()]) not in keys
    assert figures_cache.cache_key(StatsFilter(base.start, base.end, now=datetime(2030, 1, 1, tzinfo=UTC)), [()]) \
        == figures_cache.cache_key(base, [()])
    assert figures_cache.cache_key(base, [(), ("month",)]) != figures_cache.cache_key(base, [()])


def test_the_key_changes_with_the_figures_code(app, monkeypatch):
    f = StatsFilter(date(2020, 1, 1), date(2020, 12, 31))
    key = figures_cache.cache_key(f, [()])
    monkeypatch.setattr(figures_cache, "FIGURES_VERSION", figures_cache.FIGURES_VERSION + 1)
    assert figures_cache.cache_key(f, [()]) != key
    monkeypatch.undo()
    monkeypatch.setattr(figures_cache, "_CODE_DIGEST", "another stats.py")
    assert figures_cache.cache_key(f, [()]) != key


def test_an_initiative_filter_is_kept_under_its_plan_year(w):
    wide = StatsFilter(date(w.year - 1, 1, 1), date(w.year + 1, 12, 31), initiative_id=w.initiatives[0].id)
    cw.cached(wide)
    key = db.session.scalar(select(FiguresCache.key))
    cut = StatsFilter(date(w.year, 1, 1), date(w.year, 12, 31), initiative_id=w.initiatives[0].id)
    assert key == figures_cache.cache_key(cut, cw.FAMILY)
    assert cw.cached(cut) == cw.fresh(wide)


def test_the_same_entry_stored_twice_is_an_update_not_an_error(w):
    figures_cache.store("k" * 64, 1, w.year, json.dumps([]))
    figures_cache.store("k" * 64, 2, w.year, json.dumps([[[], []]]))
    row = db.session.get(FiguresCache, "k" * 64)
    assert (row.generations, row.payload) == (2, json.dumps([[[], []]]))


def test_an_entry_computed_under_older_generations_is_not_served(w):
    f = w.filters()[0]
    cw.cached(f)
    db.session.execute(update(FiguresCache).values(generations=FiguresCache.generations - 1,
                                                   payload=figures_cache.encode({(): []})))
    assert cw.cached(f) == cw.fresh(f)


def test_stats_code_is_part_of_the_key():
    assert figures_cache._CODE_DIGEST and stats.__file__.endswith("stats.py")


def test_warm_keeps_the_dashboard_export_and_plans_of_closed_years(w):
    computed = figures_cache.warm([w.year])
    # the whole city (dashboard, export) and each district (those and its action plan)
    districts = db.session.scalar(text("SELECT count(*) FROM district"))
    assert computed == 2 + 3 * districts == cw.entries()
    # and what a longer period reads of the year: its grain, and its visits per young person
    kept = set(db.session.execute(select(FiguresGrainYear.kind).where(FiguresGrainYear.year == w.year)).scalars())
    assert kept == {"sessions", "dropins", "signup_sessions", "capacity_visits", "people"}
    assert db.session.scalar(select(func.count()).select_from(FiguresPeopleYear).where(FiguresPeopleYear.year == w.year))
    assert figures_cache.warm([w.year]) == 0
    assert w.year in figures_cache.closed_years()


def test_every_figures_trigger_is_there(app):
    """A batch migration on SQLite that rebuilds a table drops its triggers: every one must still be there."""
    import importlib.util
    from pathlib import Path

    def load(revision):
        path = next(Path(__file__).resolve().parents[2].glob(f"migrations/versions/*_{revision}_*.py"))
        spec = importlib.util.spec_from_file_location(f"figures_migration_{revision}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    migration, bulk = load("f1c2a9e7b3d0"), load("b8d4f0e2a6c3")
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    expected = set(migration.trigger_names(migration.PG_TRIGGERS if postgresql else migration.SQLITE_TRIGGERS))
    if postgresql:  # the inserts' row triggers made statement triggers
        expected = (expected - set(bulk.REPLACED)) | set(bulk.trigger_names(bulk.PG_TRIGGERS))
    if postgresql:
        found = set(db.session.execute(text(
            "SELECT c.relname, tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE tgname LIKE 'figures\\_%'")).all())
    else:
        found = set(db.session.execute(text(
            "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'figures\\_%' ESCAPE '\\'")).all())
    assert found == expected and len(expected) > 15


def test_the_nightly_job_computes_what_went_stale(w):
    from youthclub.jobs.tasks import warm_figures

    db.session.commit()
    # the task's own body, in this test's app (calling the task pushes the app its Celery was made with)
    assert warm_figures.run() == f"{cw.entries()} computed" and cw.entries() > 0
    assert warm_figures.run() is None  # once a night


def test_two_computing_one_entry_at_once_both_succeed(app):
    """Two answers computed at once store the same key: the second waits for the first and updates, no error."""
    import threading

    from sqlalchemy.orm import Session as OrmSession

    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    def store(session, generations):
        values = {"generations": generations, "end_year": 2020, "payload": "[]", "computed_at": datetime.now(UTC)}
        stmt = pg_insert(FiguresCache).values(key="c" * 64, **values)
        session.execute(stmt.on_conflict_do_update(index_elements=[FiguresCache.key], set_=values))

    first, second = OrmSession(db.engine), OrmSession(db.engine)
    errors = []
    try:
        store(first, 1)

        def later():
            try:
                store(second, 2)
                second.commit()
            except Exception as err:  # pragma: no cover - the failure this test is about
                errors.append(err)

        thread = threading.Thread(target=later)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive(), "the second waits for the first's row"
        first.commit()
        thread.join(10)
        assert not errors
        assert db.session.get(FiguresCache, "c" * 64).generations == 2
    finally:
        first.close()
        second.close()


def test_a_bulk_insert_bumps_the_earliest_year_it_writes_into_once(w):
    """Many sessions in one statement (a bulk load): one bump, of the earliest closed year among them.

    On PostgreSQL a bump per row made a ten-year load quadratic (each update of the same
    ``figures_year`` row in one transaction walks every version before it); SQLite bumps per row.
    """
    from datetime import time

    from youthclub.activities.services import session_times

    earlier, later = w.year - 2, w.year - 1
    before = cw.generations()
    rows = []
    for year in (later, earlier, later):
        starts_at, ends_at = session_times(date(year, 3, 4), time(16, 0), time(18, 0))
        rows.append({"activity_id": w.activities[0].id, "starts_at": starts_at, "ends_at": ends_at,
                     "local_weekday": date(year, 3, 4).weekday(), "local_month": year * 12 + 2,
                     "created_at": datetime.now(UTC)})
    db.session.execute(Session.__table__.insert().values(rows))  # one statement
    after = cw.generations()
    assert after.get(earlier, 0) > before.get(earlier, 0)
    if db.session.get_bind().dialect.name == "postgresql":
        assert after.get(earlier, 0) == before.get(earlier, 0) + 1 and after.get(later) == before.get(later)
