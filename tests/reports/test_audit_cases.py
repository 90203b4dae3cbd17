"""Cases an outside audit of issue 12 tried, each against a count made by hand."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from tests import factories as fx
from youthclub.accounts.merge import merge_youths
from youthclub.activities.services import cancel_session, move_session, restore_session
from youthclub.attendance.services import remove_attendance, roll_call, roll_call_count
from youthclub.db_types import utcnow
from youthclub.extensions import db
from youthclub.i18n import to_utc
from youthclub.models import AgeBand, Attendance, CheckinMethod, Gender, HeadCount, Role, Signup, SignupStatus
from youthclub.reports import services
from youthclub.reports.stats import StatsFilter, compute_table
from youthclub.reports.visit_counts import find_differences

LATER = datetime(2030, 1, 1, tzinfo=UTC)
YEAR_2026 = dict(start=date(2026, 1, 1), end=date(2026, 12, 31), now=LATER)


def _visit(youth, session):
    attendance = Attendance(youth=youth, session=session, method=CheckinMethod.QR)
    db.session.add(attendance)
    return attendance


def test_a_merged_young_person_is_one_pair_per_session_whatever_sign_ups_both_profiles_held(app):
    """Both profiles held a place on the same offer; after the merge one young person is one pair per session."""
    district = fx.make_district()
    institution = fx.make_institution(district)
    activity = fx.make_activity(institution, requires_signup=True, capacity=None)
    sessions = [fx.make_session(activity, date(2026, 3, d)) for d in (2, 9, 16, 23)]
    keep, dupe = fx.make_youth(first_name="Zara"), fx.make_youth(first_name="Zara")
    for youth in (keep, dupe):
        db.session.add(Signup(youth=youth, activity=activity, status=SignupStatus.CONFIRMED,
                              created_at=to_utc(date(2026, 3, 1), time(12)), confirmed_at=to_utc(date(2026, 3, 1), time(12))))
    _visit(keep, sessions[0])
    _visit(dupe, sessions[1])
    db.session.flush()
    admin = fx.make_user(Role.ADMIN)
    merge_youths(keep, dupe, admin)
    db.session.flush()
    # by hand: one young person, signed up for all four sessions, at two of them
    assert db.session.query(Attendance).count() == 2
    row = compute_table(StatsFilter(**YEAR_2026))[0]
    assert (row.values["unique"], row.values["visits"]) == (1, 2)
    assert (row.parts["attended"], row.parts["expected"]) == (2, 4)
    assert row.values["attendance_rate"] == 2 / 4


def test_the_roll_call_of_a_past_session_counts_who_was_signed_up_at_it(app):
    """A session of last week: one young person signed up then (and came) has cancelled since, another signed up only today.

    Counted by hand, and by the attendance rate: 1 of 1 signed-up was there, no drop-in.
    """
    activity = fx.make_activity(fx.make_institution(fx.make_district()), requires_signup=True, capacity=None)
    now = utcnow()
    week_ago = (now - timedelta(days=7)).date()
    session = fx.make_session(activity, week_ago, start=time(10, 0), end=time(12, 0))
    came, newcomer = fx.make_youth(), fx.make_youth()
    db.session.add(Signup(youth=came, activity=activity, status=SignupStatus.CANCELLED, created_at=now - timedelta(days=10),
                          confirmed_at=now - timedelta(days=10), cancelled_at=now - timedelta(days=1)))
    db.session.add(Signup(youth=newcomer, activity=activity, status=SignupStatus.CONFIRMED, created_at=now,
                          confirmed_at=now))
    fx.attend(came, session)
    db.session.flush()
    count = roll_call_count(roll_call(session))
    assert (count.present, count.signed_up, count.drop_ins) == (1, 1, 0)
    day = session.starts_at.date()
    row = compute_table(StatsFilter(day - timedelta(days=1), day + timedelta(days=1), now=now))[0]
    assert (row.parts["attended"], row.parts["expected"]) == (count.present, count.signed_up)


def _months(f):
    return {r.key["month"]: (r.values["sessions"], r.values["visits"], r.values["unique"], r.values["new"], r.values["dropins"])
            for r in compute_table(f, ("month",))}


def test_a_session_at_2330_moved_cancelled_restored_and_a_removal_count_where_a_hand_count_does(app):
    """Day boundaries in Copenhagen (23:30 on the DST days), a session moved to the next month after its visits,
    cancelled and restored, an attendance removed; periods from mid-month and partly in the future."""
    d = fx.make_district()
    act = fx.make_activity(fx.make_institution(d), requires_signup=False, capacity=None)
    # 23:30 local on 31 Oct (after DST end 25 Oct) and 29 Mar (DST start)
    late_oct = fx.make_session(act, date(2026, 10, 31), start=time(23, 30), end=time(23, 59))
    dst_mar = fx.make_session(act, date(2026, 3, 29), start=time(23, 30), end=time(23, 59))
    early_nov = fx.make_session(act, date(2026, 11, 1), start=time(0, 15), end=time(1, 0))
    ys = [fx.make_youth() for _ in range(6)]
    for y in ys[:3]:
        _visit(y, late_oct)
    _visit(ys[3], dst_mar)
    _visit(ys[4], early_nov)
    a5 = _visit(ys[5], early_nov)
    db.session.add(HeadCount(session=early_nov, age_band=AgeBand.AGE_13_15, gender=Gender.PIGE, count=4))
    db.session.flush()
    f = StatsFilter(date(2026, 1, 1), date(2026, 12, 31), now=LATER)
    assert _months(f) == {"2026-03": (1, 1, 1, 1, 0), "2026-10": (1, 3, 3, 3, 0), "2026-11": (1, 2, 2, 2, 4)}
    assert compute_table(StatsFilter(date(2026, 10, 31), date(2026, 10, 31), now=LATER))[0].values["visits"] == 3
    assert compute_table(StatsFilter(date(2026, 3, 29), date(2026, 3, 29), now=LATER))[0].values["visits"] == 1
    # move the October session into November (after its visits)
    move_session(late_oct, to_utc(date(2026, 11, 2), time(16)), to_utc(date(2026, 11, 2), time(18)))
    db.session.flush()
    assert _months(f) == {"2026-03": (1, 1, 1, 1, 0), "2026-11": (2, 5, 5, 5, 4)}
    cancel_session(early_nov, "syg")
    db.session.flush()
    assert _months(f) == {"2026-03": (1, 1, 1, 1, 0), "2026-11": (1, 3, 3, 3, 0)}
    restore_session(early_nov)
    db.session.flush()
    admin = fx.make_user(Role.ADMIN)
    remove_attendance(a5, admin, reason="fejl")
    db.session.flush()
    assert _months(f) == {"2026-03": (1, 1, 1, 1, 0), "2026-11": (2, 4, 4, 4, 4)}
    # mid-month periods, partly in the future
    now = to_utc(date(2026, 11, 2), time(12))
    assert _months(StatsFilter(date(2026, 10, 15), date(2026, 11, 20), now=now)) == {"2026-11": (1, 1, 1, 1, 4)}
    assert find_differences()[0] == 0


def test_the_dashboards_age_and_gender_table_never_shows_0_for_young_people_it_withholds(client, world):
    """Seven girls of 14 and one of 11: "Under 13" is a margin of one, so its cells are withheld; the girl is not 0."""
    import html
    import re

    from tests.reports.conftest import started_today
    from youthclub.i18n import local_today

    year = local_today().year
    institution = fx.make_institution(world.district_a)
    session = fx.make_session(fx.make_activity(institution, requires_signup=False, capacity=None))
    started_today(session)
    for _ in range(7):
        fx.attend(fx.make_youth(birth_year=year - 14, gender=Gender.PIGE), session)
    fx.attend(fx.make_youth(birth_year=year - 11, gender=Gender.PIGE), session)
    db.session.commit()
    client.login_as(world.coordinator)
    page = client.get("/reports", query_string={"year": year}).get_data(as_text=True)
    table = page[page.index('id="h-age"'):page.index('id="h-initiative"')]
    under_13 = re.search(r'<th scope="row">Under 13</th>(.*?)</tr>', table, re.S).group(1)
    cells = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r'<td class="num">(.*?)</td>', under_13, re.S)]
    # the band's total is "<5"; its cell for girls must not say nobody
    assert cells[-1] == "<5"
    assert "0" not in cells, cells


def test_the_released_action_plan_report_never_shows_0_for_young_people_it_withholds(app):
    """Three young people at the district's one initiative: the report may hide them, but not call them 0."""
    from youthclub.models import ActionPlan, Initiative
    from youthclub.reports import plan_report

    district = fx.make_district()
    activity = fx.make_activity(fx.make_institution(district), requires_signup=False, capacity=None)
    plan = ActionPlan(district=district, year=2026)
    initiative = Initiative(action_plan=plan, focus_area=fx.make_focus_areas()[1], title="Fredagsklub")
    db.session.add_all([plan, initiative])
    activity.initiatives = [initiative]
    session = fx.make_session(activity, date(2026, 3, 6))
    for _ in range(3):
        _visit(fx.make_youth(), session)
    db.session.flush()
    report = plan_report.build(district.id, 2026, 5, now=LATER)
    assert "unique" in report.total.small
    line = next(line for s in report.sections for line in s.initiatives if line.initiative.id == initiative.id)
    for figure in ("unique", "visits", "new", "returning", "local", "dropins"):
        assert line.row.get(figure) != 0, figure
    assert line.row.get("sessions") != 0


def test_staff_exact_figures_do_not_tell_whether_their_young_person_went_somewhere_else_first(app, world):
    """X came to Klub B on the 3rd and to Klub A on the 10th; Y only to Klub A, on the 11th.

    Klub A's staff see their own figures exactly, but "new" depends on visits at every
    institution: exact, it said 0 for the 10th and 1 for the 11th, i.e. that X had been
    somewhere else before, which staff may not know (docs/access.md: sign-ups and visits
    elsewhere are not shown). It is released like every figure that leaves the institution.
    """
    a = fx.make_activity(world.inst_a, requires_signup=False, capacity=None)
    b = fx.make_activity(world.inst_b, requires_signup=False, capacity=None)
    x, y = fx.make_youth(first_name="X"), fx.make_youth(first_name="Y")
    fx.attend(x, fx.make_session(b, date(2026, 11, 3)))
    fx.attend(x, fx.make_session(a, date(2026, 11, 10)))
    fx.attend(y, fx.make_session(a, date(2026, 11, 11)))
    db.session.commit()
    shown = {}
    for day in (10, 11):
        f = StatsFilter(date(2026, 11, day), date(2026, 11, day), institution_ids=frozenset({world.inst_a.id}), now=LATER)
        stats = services.statistics_for(world.staff_a, f, leaves_system=False)
        stats.prepare([()])
        row = stats.headline()
        assert not stats.perturbed and row.values["unique"] == 1  # their own figures stay exact
        shown[day] = services.display_value(row, "new")
    assert shown[10] == shown[11] == services.small_mark()
