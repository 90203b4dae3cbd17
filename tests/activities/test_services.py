"""Activity services: validation, weekly patterns across daylight saving, sessions, signals, counts, iCal."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from tests.factories import attend
from youthclub.activities import services
from youthclub.activities.models import ActivityStatus, Session
from youthclub.attendance.services import is_happening
from youthclub.extensions import db
from youthclub.i18n import local_today, to_local, to_utc
from youthclub.signals import activity_cancelled, capacity_changed, session_changed

pytestmark = pytest.mark.usefixtures("request_ctx")


def _fields(**kw):
    base = dict(title="Boksning for piger", description="Træning i hallen", category="sport", min_age=12, max_age=17,
                address="Nørrebrogade 1", room="Hallen", requires_signup=True, capacity=12)
    base.update(kw)
    return base


@pytest.fixture
def received():
    """Every signal the services send, as (name, sender, kwargs)."""
    log = []

    def catcher(name):
        def receive(sender, **kw):
            log.append((name, sender, kw))
        return receive

    receivers = [(session_changed, catcher("session_changed")), (capacity_changed, catcher("capacity_changed")),
                 (activity_cancelled, catcher("activity_cancelled"))]
    for signal, receiver in receivers:
        signal.connect(receiver)
    yield log
    for signal, receiver in receivers:
        signal.disconnect(receiver)


def test_create_activity_defaults_to_the_institutions_district_and_draft(world):
    activity = services.create_activity(world.inst_b, **_fields(title="Fællesspisning ÆØÅ"))
    assert activity.district_id == world.district_b.id
    assert activity.status == ActivityStatus.DRAFT
    assert activity.search_text == "fællesspisning æøå træning i hallen"


@pytest.mark.parametrize("bad,field,code", [
    (dict(min_age=16, max_age=12), "max_age", "age_range_reversed"),
    (dict(capacity=0), "capacity", "capacity_not_positive"),
    (dict(capacity=-3), "capacity", "capacity_not_positive"),
    (dict(title="  "), "title", "title_missing"),
    (dict(min_age=-1), "min_age", "bad_age"),
    (dict(signup_opens_at=datetime(2026, 5, 2, tzinfo=UTC), signup_closes_at=datetime(2026, 5, 1, tzinfo=UTC)),
     "signup_closes_at", "signup_window_reversed"),
])
def test_bad_activity_input_is_refused_with_the_field(world, bad, field, code):
    with pytest.raises(services.ActivityError) as err:
        services.create_activity(world.inst_a, **_fields(**bad))
    assert (err.value.field, err.value.code) == (field, code)


def test_every_bad_activity_field_is_refused_at_once(world):
    with pytest.raises(services.ActivityError) as err:
        services.create_activity(world.inst_a, **_fields(title="", min_age=16, max_age=12, capacity=0))
    assert [(p.field, p.code) for p in err.value.problems] == [
        ("title", "title_missing"), ("max_age", "age_range_reversed"), ("capacity", "capacity_not_positive")]
    assert (err.value.field, err.value.code) == ("title", "title_missing")


def test_every_bad_pattern_field_is_refused_at_once(world):
    problems = services.pattern_problems(world.activity_a, weekdays=[], start_time=time(16), end_time=None,
                                         starts_on=date(2010, 1, 4), ends_on=date(2010, 1, 1))
    assert [(p.field, p.code) for p in problems] == [
        ("weekdays", "no_weekday"), ("end_time", "time_missing"), ("ends_on", "end_before_start"),
        ("starts_on", "outside_programme")]


def test_a_sign_up_offer_takes_no_drop_ins_unless_asked(world):
    assert services.create_activity(world.inst_a, **_fields()).allows_drop_in is False
    assert services.create_activity(world.inst_a, **_fields(allows_drop_in=True)).allows_drop_in is True


def test_drop_in_activity_has_no_capacity(world):
    activity = services.create_activity(world.inst_a, **_fields(requires_signup=False, capacity=0))
    assert activity.capacity is None and not activity.requires_signup


def test_capacity_change_is_announced_once(world, received):
    services.update_activity(world.activity_a, title="Fodbold i hallen")
    assert received == []
    services.update_activity(world.activity_a, capacity=25)
    assert received == [("capacity_changed", world.activity_a, {"old_capacity": 20, "new_capacity": 25})]
    assert world.activity_a.search_text.startswith("fodbold i hallen")


def test_publish_unpublish_and_cancel(world, received):
    activity = services.create_activity(world.inst_a, **_fields())
    services.publish_activity(activity)
    assert activity.status == ActivityStatus.PUBLISHED and activity.published_at is not None
    services.unpublish_activity(activity)
    assert activity.status == ActivityStatus.DRAFT
    future = Session(activity=activity, starts_at=to_utc(local_today() + timedelta(days=3), time(16)),
                     ends_at=to_utc(local_today() + timedelta(days=3), time(18)))
    db.session.add(future)
    with pytest.raises(services.ActivityError) as err:
        services.cancel_activity(activity, "  ")
    assert err.value.field == "reason"
    services.cancel_activity(activity, "Træneren er flyttet")
    assert activity.status == ActivityStatus.CANCELLED and future.is_cancelled
    assert future.cancel_reason == "Træneren er flyttet"
    assert received == [("activity_cancelled", activity, {})]
    with pytest.raises(services.ActivityError):
        services.publish_activity(activity)
    with pytest.raises(services.ActivityError) as err:
        services.save_pattern(activity, weekdays=[0], start_time=time(16), end_time=time(18), starts_on=local_today())
    assert err.value.code == "cancelled"


def _local_times(sessions):
    return [(to_local(s.starts_at).date(), to_local(s.starts_at).time(), to_local(s.ends_at).time()) for s in sessions]


def test_weekly_pattern_keeps_local_time_across_daylight_saving(world):
    # the clocks go back on Sunday 25.10.2026: 16:00 stays 16:00 in Copenhagen, UTC moves an hour
    pattern = services.save_pattern(world.activity_a, weekdays=[1, 3], start_time=time(16), end_time=time(18),
                                    starts_on=date(2026, 10, 19), ends_on=date(2026, 11, 1))
    sessions = sorted((s for s in world.activity_a.sessions if s.pattern_id == pattern.id), key=lambda s: s.starts_at)
    assert [d for d, *_ in _local_times(sessions)] == [date(2026, 10, 20), date(2026, 10, 22), date(2026, 10, 27),
                                                      date(2026, 10, 29)]
    assert {(start, end) for _d, start, end in _local_times(sessions)} == {(time(16), time(18))}
    assert sessions[0].starts_at.hour == 14 and sessions[-1].starts_at.hour == 15  # CEST, then CET
    assert [s.local_weekday for s in sessions] == [1, 3, 1, 3]


def test_pattern_skips_dates_and_one_off_is_a_pattern_of_one(world):
    services.save_pattern(world.activity_b, weekdays=[0], start_time=time(17), end_time=time(19),
                          starts_on=date(2026, 12, 14), ends_on=date(2027, 1, 11),
                          skip_dates=[date(2026, 12, 28), "2027-01-04"])
    days = sorted(d for d, *_ in _local_times(s for s in world.activity_b.sessions if s.pattern_id))
    assert days == [date(2026, 12, 14), date(2026, 12, 21), date(2027, 1, 11)]
    one = services.save_pattern(world.activity_a, weekdays=[], start_time=time(10), end_time=time(15),
                                starts_on=date(2026, 12, 5))
    assert one.weekdays == [5] and one.ends_on == date(2026, 12, 5)
    assert len([s for s in world.activity_a.sessions if s.pattern_id == one.id]) == 1


@pytest.mark.parametrize("kw,field,code", [
    (dict(weekdays=[]), "weekdays", "no_weekday"),
    (dict(end_time=time(15)), "end_time", "end_before_start"),
    (dict(ends_on=date(2026, 11, 1)), "ends_on", "end_before_start"),
    (dict(starts_on=date(2010, 1, 4), ends_on=date(2010, 2, 1)), "starts_on", "outside_programme"),
    (dict(ends_on=date(2099, 1, 1)), "ends_on", "outside_programme"),
    (dict(weekdays=[6], ends_on=date(2026, 11, 7)), "weekdays", "no_sessions"),
])
def test_bad_patterns_are_refused_and_nothing_is_saved(world, kw, field, code):
    args = dict(weekdays=[0], start_time=time(16), end_time=time(18), starts_on=date(2026, 11, 2),
                ends_on=date(2026, 11, 30))
    args.update(kw)
    before = db.session.query(Session).count()
    with pytest.raises(services.ActivityError) as err:
        services.save_pattern(world.activity_a, **args)
    assert (err.value.field, err.value.code) == (field, code)
    db.session.rollback()
    assert db.session.query(Session).count() == before


def _monday(weeks_ahead: int = 1) -> date:
    today = local_today()
    return today + timedelta(days=7 * weeks_ahead - today.weekday())


def test_editing_a_pattern_never_deletes_a_session_with_attendance(world):
    from youthclub.accounts.models import Gender
    from youthclub.attendance.models import AgeBand, HeadCount

    monday = _monday()
    pattern = services.save_pattern(world.activity_a, weekdays=[0, 2], start_time=time(16), end_time=time(18),
                                    starts_on=monday, ends_on=monday + timedelta(days=13))
    sessions = {to_local(s.starts_at).date(): s for s in world.activity_a.sessions if s.pattern_id == pattern.id}
    attend(world.youth, sessions[monday + timedelta(days=2)])
    db.session.add(HeadCount(session=sessions[monday + timedelta(days=9)], age_band=AgeBand.AGE_13_15,
                             gender=Gender.PIGE, count=3))
    moved = sessions[monday + timedelta(days=7)]
    services.move_session(moved, to_utc(monday + timedelta(days=8), time(17)), to_utc(monday + timedelta(days=8), time(19)),
                          "Hallen er optaget")
    # Wednesdays go, the time changes to 15-17, one Monday more
    services.save_pattern(world.activity_a, pattern=pattern, weekdays=[0], start_time=time(15), end_time=time(17),
                          starts_on=monday, ends_on=monday + timedelta(days=20))
    db.session.expire_all()
    left = sorted(db.session.query(Session).filter_by(pattern_id=pattern.id), key=lambda s: s.starts_at)
    assert [(d, t) for d, t, _e in _local_times(left)] == [
        (monday, time(15)),
        (monday + timedelta(days=2), time(16)),  # kept: it has attendance
        (monday + timedelta(days=8), time(17)),  # moved by hand: stays where staff put it
        (monday + timedelta(days=9), time(16)),  # kept: it has a head count
        (monday + timedelta(days=14), time(15)),
    ]


def test_editing_a_pattern_leaves_past_sessions_alone(world):
    start = local_today() - timedelta(days=14)
    pattern = services.save_pattern(world.activity_b, weekdays=list(range(7)), start_time=time(9), end_time=time(10),
                                    starts_on=start, ends_on=start + timedelta(days=20))
    services.save_pattern(world.activity_b, pattern=pattern, weekdays=list(range(7)), start_time=time(11),
                          end_time=time(12), starts_on=local_today() + timedelta(days=1), ends_on=start + timedelta(days=20))
    db.session.expire_all()
    left = db.session.query(Session).filter_by(pattern_id=pattern.id).all()
    past = [s for s in left if to_local(s.starts_at).date() < local_today()]
    assert len(past) == 14 and {to_local(s.starts_at).hour for s in past} == {9}
    future = [s for s in left if to_local(s.starts_at).date() > local_today()]
    assert {to_local(s.starts_at).hour for s in future} == {11}


def test_move_and_cancel_a_session_send_signals_and_keep_the_reason(world, received):
    session = world.session_a
    original = session.starts_at
    with pytest.raises(services.ActivityError) as err:
        services.move_session(session, original, original - timedelta(hours=1))
    assert err.value.code == "end_before_start"
    services.move_session(session, original + timedelta(days=1), original + timedelta(days=1, hours=2), "Hallen er optaget")
    assert session.moved_from == original and session.cancel_reason == "Hallen er optaget"
    assert session.local_weekday == to_local(original + timedelta(days=1)).weekday()
    with pytest.raises(services.ActivityError):
        services.cancel_session(session, "")
    services.cancel_session(session, "Sygdom")
    assert session.is_cancelled and session.cancel_reason == "Sygdom"
    services.restore_session(session)
    assert not session.is_cancelled
    assert [(name, kw["change"]) for name, _s, kw in received] == [
        ("session_changed", "moved"), ("session_changed", "cancelled"), ("session_changed", "restored")]


def test_tagging_an_initiative_tags_its_focus_area(world):
    services.tag_activity(world.activity_a, focus_area_ids=[], initiative_ids=[world.initiative.id])
    assert [a.number for a in world.activity_a.focus_areas] == [2]
    assert world.activity_a.initiatives == [world.initiative]
    with pytest.raises(services.ActivityError):
        services.tag_activity(world.activity_a, focus_area_ids=[999999], initiative_ids=[])


def test_ical_feed_lists_sessions_with_cancellations(app, world):
    services.update_activity(world.activity_a, title="Fodbold, hygge og en meget lang titel der skal foldes over flere linjer i feedet æøå")
    services.cancel_session(world.session_a, "Hallen er lukket")
    with app.test_request_context():
        feed = services.ical_feed(world.activity_a, host="example.org", url="http://example.org/activities/1")
    assert feed.startswith("BEGIN:VCALENDAR\r\n") and feed.endswith("END:VCALENDAR\r\n")
    assert all(len(line.encode()) <= 75 for line in feed.split("\r\n"))
    unfolded = feed.replace("\r\n ", "")
    assert f"UID:session-{world.session_a.id}@example.org" in unfolded
    assert "STATUS:CANCELLED" in unfolded and "Hallen er lukket" in unfolded
    assert "SUMMARY:Aflyst: Fodbold\\, hygge" in unfolded
    assert f"DTSTART:{world.session_a.starts_at.strftime('%Y%m%dT%H%M%SZ')}" in unfolded


# --- sessions past midnight ------------------------------------------------------------------

def test_an_evening_pattern_runs_past_midnight_and_belongs_to_the_evening_it_starts(world):
    # Saturdays 22:00–01:00 from 30.01.2027: the first night ends on Sunday 31.01 at 01:00
    pattern = services.save_pattern(world.activity_a, weekdays=[5], start_time=time(22), end_time=time(1),
                                    starts_on=date(2027, 1, 30), ends_on=date(2027, 2, 6))
    sessions = sorted((s for s in world.activity_a.sessions if s.pattern_id == pattern.id), key=lambda s: s.starts_at)
    assert [(to_local(s.starts_at), to_local(s.ends_at)) for s in sessions] == [
        (datetime(2027, 1, 30, 22, tzinfo=to_local(sessions[0].starts_at).tzinfo),
         datetime(2027, 1, 31, 1, tzinfo=to_local(sessions[0].ends_at).tzinfo)),
        (datetime(2027, 2, 6, 22, tzinfo=to_local(sessions[1].starts_at).tzinfo),
         datetime(2027, 2, 7, 1, tzinfo=to_local(sessions[1].ends_at).tzinfo)),
    ]
    assert [s.ends_at - s.starts_at for s in sessions] == [timedelta(hours=3)] * 2
    # the catalogue's weekday and the statistics' month are those of the evening it starts
    assert [s.local_weekday for s in sessions] == [5, 5]
    assert sessions[0].local_month == 2027 * 12 + 0  # January, though it ends on 31.01 (and 07.02 for the 2nd)


def test_a_late_session_across_daylight_saving_lasts_its_wall_clock_hours(world):
    # the clocks go back at 03:00 on 25.10.2026: 23:00 on the 24th to 02:00 on the 25th is three hours
    starts_at, ends_at = services.session_times(date(2026, 10, 24), time(23), time(2))
    assert ends_at - starts_at == timedelta(hours=3)
    assert (to_local(ends_at).date(), to_local(ends_at).time()) == (date(2026, 10, 25), time(2))


@pytest.mark.parametrize("start,end", [(time(16), time(15)), (time(18), time(18))])
def test_a_session_that_would_last_all_day_or_not_at_all_is_refused(world, start, end):
    with pytest.raises(services.ActivityError) as err:
        services.save_pattern(world.activity_a, weekdays=[0], start_time=start, end_time=end,
                              starts_on=date(2026, 11, 2), ends_on=date(2026, 11, 30))
    assert (err.value.field, err.value.code) == ("end_time", "end_before_start")


def test_a_session_moves_to_a_late_evening(world):
    session = world.session_a
    services.move_session(session, *services.session_times(date(2026, 12, 11), time(21, 30), time(0, 30)))
    assert to_local(session.ends_at).date() == date(2026, 12, 12)
    with pytest.raises(services.ActivityError):
        services.move_session(session, *services.session_times(date(2026, 12, 11), time(9), time(8)))


def test_the_today_page_keeps_a_session_that_began_yesterday_and_runs_past_midnight(world):
    today = local_today()
    late = Session(activity=world.activity_a, **dict(zip(("starts_at", "ends_at"),
                                                         services.session_times(today - timedelta(days=1), time(22), time(1)), strict=True)))
    ended = Session(activity=world.activity_a, **dict(zip(("starts_at", "ends_at"),
                                                          services.session_times(today - timedelta(days=1), time(20), time(22)), strict=True)))
    db.session.add_all([late, ended])
    db.session.flush()
    listed = [s for _day, sessions in services.today_sessions(world.inst_a) for s in sessions]
    assert late in listed and ended not in listed


def test_the_calendar_ends_a_late_session_on_the_next_day(world):
    session = world.session_a
    session.starts_at, session.ends_at = services.session_times(date(2026, 12, 11), time(22), time(1))
    feed = services.ical_feed(world.activity_a, host="example.org", url="https://example.org/a")
    assert "DTSTART:20261211T210000Z" in feed and "DTEND:20261212T000000Z" in feed


def test_the_door_scans_into_a_late_session_after_midnight(world):
    session = world.session_a
    session.starts_at, session.ends_at = services.session_times(date(2026, 12, 11), time(22), time(1))
    assert is_happening(session, to_utc(date(2026, 12, 12), time(0, 30)))
    assert not is_happening(session, to_utc(date(2026, 12, 12), time(3)))


# the clocks go forward at 02:00 on Sunday 28.03.2027: 02:00–02:59 does not exist that night

@pytest.mark.parametrize("start,end,field", [(time(2, 15), time(4), "start_time"), (time(22), time(2, 30), "end_time"),
                                             (time(1), time(2), "end_time")])
def test_a_time_the_clocks_skip_is_refused_not_moved_an_hour_on(world, start, end, field):
    """An outside test moved a session to 02:15 on the night summer time begins and found it at 03:15."""
    day = date(2027, 3, 28) if start < time(12) else date(2027, 3, 27)
    with pytest.raises(services.ActivityError) as err:
        services.session_times(day, start, end)
    assert (err.value.field, err.value.code) == (field, "time_skipped")
    assert "findes ikke den 28.03.2027" in err.value.message and "sommertid" in err.value.message
    # the next night the same times are fine, and the hour after the gap too
    services.session_times(day + timedelta(days=7), start, end)
    services.session_times(date(2027, 3, 28), time(3), time(4))


def test_a_weekly_pattern_over_the_night_summer_time_begins_names_the_day(world):
    with pytest.raises(services.ActivityError) as err:
        services.save_pattern(world.activity_a, weekdays=[6], start_time=time(2, 30), end_time=time(5),
                              starts_on=date(2027, 3, 14), ends_on=date(2027, 4, 11))
    assert (err.value.field, err.value.code) == ("start_time", "time_skipped")
    assert "28.03.2027" in err.value.message and "Spring dagen over" in err.value.message
    pattern = services.save_pattern(world.activity_a, weekdays=[6], start_time=time(2, 30), end_time=time(5),
                                    starts_on=date(2027, 3, 14), ends_on=date(2027, 4, 11),
                                    skip_dates=[date(2027, 3, 28)])
    assert {to_local(s.starts_at).time() for s in world.activity_a.sessions if s.pattern_id == pattern.id} == {time(2, 30)}
