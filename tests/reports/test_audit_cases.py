"""Cases an outside audit of issue 12 tried, each against a count made by hand."""
from __future__ import annotations

from datetime import UTC, date, datetime, time

from tests import factories as fx
from youthclub.accounts.merge import merge_youths
from youthclub.extensions import db
from youthclub.i18n import to_utc
from youthclub.models import Attendance, CheckinMethod, Role, Signup, SignupStatus
from youthclub.reports.stats import StatsFilter, compute_table

LATER = datetime(2030, 1, 1, tzinfo=UTC)
YEAR_2026 = dict(start=date(2026, 1, 1), end=date(2026, 12, 31), now=LATER)


def _visit(youth, session):
    db.session.add(Attendance(youth=youth, session=session, method=CheckinMethod.QR))


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
    from datetime import timedelta

    from youthclub.attendance.services import roll_call, roll_call_count
    from youthclub.db_types import utcnow
    from youthclub.reports.stats import StatsFilter, compute_table

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
