"""Only a session that is happening: a scan outside [start − open before, end + close after]
is refused (session_not_now), online and in a batch; a backdated batch scan is a correction."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.factories import make_session, make_youth
from youthclub.activities.models import Session
from youthclub.attendance import services
from youthclub.attendance.models import Attendance, CheckinMethod, ScanConflict
from youthclub.audit.models import AuditEvent
from youthclub.extensions import db
from youthclub.i18n import local_now, local_today


def nonce() -> str:
    return str(uuid.uuid4())


def attendances() -> int:
    return db.session.scalar(select(func.count(Attendance.id)))


@pytest.fixture
def staff(client, world):
    client.login_as(world.staff_a)
    return client


@pytest.fixture
def tomorrow(world):
    session = make_session(world.activity_a, day=local_today() + timedelta(days=1))
    db.session.commit()
    return session


@pytest.fixture
def last_week(world):
    session = make_session(world.activity_a, day=local_today() - timedelta(days=7))
    db.session.commit()
    return session


def test_the_window_opens_and_closes_by_the_configured_minutes(app, world, in_request):
    session = world.session_a
    opens, closes = services.checkin_window(session)
    assert opens == session.starts_at - timedelta(minutes=60)
    assert closes == session.ends_at + timedelta(minutes=60)
    assert services.is_happening(session, opens) and services.is_happening(session, closes)
    assert not services.is_happening(session, opens - timedelta(seconds=1))
    assert not services.is_happening(session, closes + timedelta(seconds=1))
    app.config["CHECKIN_OPEN_BEFORE"] = timedelta(minutes=15)
    assert services.checkin_window(session)[0] == session.starts_at - timedelta(minutes=15)


@pytest.mark.parametrize("which", ["tomorrow", "last_week"])
def test_service_refuses_a_session_that_is_not_happening(world, in_request, request, which):
    session = request.getfixturevalue(which)
    with pytest.raises(services.CheckinError) as err:
        services.check_in(session, world.youth.pass_token, nonce=nonce(), by_user=world.staff_a)
    assert err.value.code == "session_not_now"
    assert session.starts_at.astimezone().strftime("%d.%m.%Y") in err.value.message or \
        services.session_day(session).strftime("%d.%m.%Y") in err.value.message
    assert attendances() == 0


def test_roll_call_refuses_tomorrow_but_corrects_last_week_with_a_reason(world, in_request, tomorrow, last_week):
    with pytest.raises(services.CheckinError) as err:
        services.mark_present(tomorrow, world.youth, world.staff_a)
    assert err.value.code == "session_not_now"
    result = services.mark_present(last_week, world.youth, world.staff_a, reason="glemt at scanne")
    assert result.created


@pytest.mark.parametrize("which", ["tomorrow", "last_week"])
def test_api_refuses_a_session_that_is_not_happening(staff, request, world, which):
    session = request.getfixturevalue(which)
    r = staff.api("POST", f"/api/v1/sessions/{session.id}/checkins", json={"token": world.youth.pass_token,
                                                                         "nonce": nonce()})
    assert r.status_code == 422, r.json
    assert r.json["error"]["code"] == "session_not_now"
    assert services.session_day(session).strftime("%d.%m.%Y") in r.json["error"]["message"]
    assert attendances() == 0


def _batch(staff, *items):
    r = staff.api("POST", "/api/v1/checkins/batch", json={"items": list(items)})
    assert r.status_code == 200, r.json
    return r.json["results"]


@pytest.mark.parametrize("which", ["tomorrow", "last_week"])
def test_batch_refuses_a_session_that_is_not_happening_and_keeps_a_conflict(staff, request, world, which):
    session = request.getfixturevalue(which)
    n = nonce()
    [result] = _batch(staff, {"session_id": session.id, "token": world.youth.pass_token, "nonce": n,
                              "scanned_at": datetime.now(UTC).isoformat()})
    assert result["status"] == 422 and result["error"]["code"] == "session_not_now"
    assert attendances() == 0
    conflict = db.session.scalar(select(ScanConflict).where(ScanConflict.nonce == n))
    assert conflict.code == "session_not_now" and conflict.session_id == session.id


def test_batch_refuses_a_scan_dated_long_before_the_session(staff, world):
    [result] = _batch(staff, {"session_id": world.session_a.id, "token": world.youth.pass_token, "nonce": nonce(),
                              "scanned_at": "2000-01-01T10:00:00+00:00"})
    assert result["error"]["code"] == "session_not_now"
    assert attendances() == 0


def test_batch_refuses_a_scan_from_the_future(staff, world):
    later = datetime.now(UTC) + timedelta(minutes=30)
    [result] = _batch(staff, {"session_id": world.session_a.id, "token": world.youth.pass_token, "nonce": nonce(),
                              "scanned_at": later.isoformat()})
    assert result["status"] == 422 and result["error"]["code"] == "scanned_in_future"
    assert attendances() == 0


def _three_days_ago(world):
    day = local_today() - timedelta(days=3)
    session = make_session(world.activity_a, day=day)
    db.session.commit()
    return session, (session.starts_at + timedelta(minutes=10)).isoformat()


def test_backdated_batch_item_without_a_reason_is_refused(staff, world):
    session, scanned_at = _three_days_ago(world)
    n = nonce()
    [result] = _batch(staff, {"session_id": session.id, "token": world.youth.pass_token, "nonce": n,
                              "scanned_at": scanned_at})
    assert result["status"] == 422 and result["error"]["code"] == "reason_required"
    assert attendances() == 0
    # kept for staff, never dropped: they correct it on the roll-call with a reason
    assert db.session.scalar(select(ScanConflict.code).where(ScanConflict.nonce == n)) == "reason_required"


def test_backdated_batch_item_with_a_reason_is_recorded_and_audited(staff, world):
    session, scanned_at = _three_days_ago(world)
    [result] = _batch(staff, {"session_id": session.id, "token": world.youth.pass_token, "nonce": nonce(),
                              "scanned_at": scanned_at, "reason": "telefonen var offline i tre dage"})
    assert result["status"] == 201, result
    assert attendances() == 1
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "attendance.correct"))
    assert event is not None and event.details["reason"] == "telefonen var offline i tre dage"
    assert event.details["youth_id"] == world.youth.id and event.details["change"] == "add"


def test_a_scan_inside_the_window_is_not_a_correction(staff, world):
    [result] = _batch(staff, {"session_id": world.session_a.id, "token": world.youth.pass_token, "nonce": nonce(),
                              "scanned_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat()})
    assert result["status"] == 201
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "attendance.correct")) == 0


def test_scanner_page_of_a_session_not_happening_says_so(staff, tomorrow):
    page = staff.get(f"/scan/{tomorrow.id}").get_data(as_text=True)
    assert 'id="scan-not-now" class="flash flash-error" role="alert">' in page  # shown, not hidden
    assert services.session_day(tomorrow).strftime("%d.%m.%Y") in page


def test_today_page_offers_scan_only_for_a_session_that_is_happening(staff, world, tomorrow):
    now = local_now()
    later = None
    if now.hour < 20:  # a session later today (its window opens in more than an hour)
        later = make_session(world.activity_a, day=now.date(), start=time(now.hour + 3), end=time(23, 59))
        db.session.commit()
    page = staff.get(f"/institutions/{world.inst_a.id}/today").get_data(as_text=True)
    assert f"/scan/{world.session_a.id}" in page
    assert f"/scan/{tomorrow.id}" not in page
    assert f"/sessions/{tomorrow.id}/rollcall" in page
    if later is not None:
        assert f"/scan/{later.id}" not in page


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(scans=st.lists(st.tuples(st.integers(min_value=0, max_value=60 * 30), st.booleans()), min_size=1, max_size=6),
       start_ago=st.integers(min_value=-120, max_value=60 * 26), length=st.integers(min_value=30, max_value=240))
def test_a_scan_counts_exactly_when_it_is_inside_the_window(world, in_request, scans, start_ago, length):
    """After every scan of a random sequence: an attendance exists iff some accepted scan was in the window."""
    now = datetime.now(UTC).replace(microsecond=0)
    session = make_session(world.activity_a)
    session.starts_at = now - timedelta(minutes=start_ago)
    session.ends_at = session.starts_at + timedelta(minutes=length)
    db.session.flush()
    opens, closes = session.starts_at - timedelta(minutes=60), session.ends_at + timedelta(minutes=60)
    inside_seen = False
    for minutes_ago, with_reason in scans:
        at = now - timedelta(minutes=minutes_ago)
        inside = opens <= at <= closes
        late = at < now - timedelta(hours=24)
        try:
            services.check_in(session, world.youth.pass_token, nonce=nonce(), scanned_at=at, by_user=world.staff_a,
                              offline=True, reason="sent late" if with_reason else None)
            accepted = True
        except services.CheckinError as err:
            accepted = False
            assert err.code in ("session_not_now", "reason_required")
            assert inside_seen or err.code == ("reason_required" if inside else "session_not_now")
        # a scan outside the window, or late without a reason, never makes a first attendance
        if not inside_seen:
            assert accepted == (inside and (with_reason or not late))
        inside_seen = inside_seen or accepted
        count = db.session.scalar(select(func.count(Attendance.id)).where(Attendance.session_id == session.id))
        assert count == (1 if inside_seen else 0)
    db.session.rollback()


# -- anonymous head counts are visits too ------------------------------------------------


def test_a_head_count_is_never_added_to_a_session_that_has_not_begun(staff, world, tomorrow):
    """A mis-tap on next week's session in the head count records nothing, as with a scan or a tick."""
    from youthclub.attendance.models import HeadCount

    url = f"/sessions/{tomorrow.id}/headcount"
    page = staff.get(url).get_data(as_text=True)
    assert 'id="headcount-not-now"' in page and services.session_day(tomorrow).strftime("%d.%m.%Y") in page
    r = staff.post_form(url, {"band": "u13", "gender": "pige", "delta": "1", "seen": "0"})
    assert r.status_code == 302
    assert db.session.scalar(select(func.count(HeadCount.id))) == 0
    # the session that is happening still counts, and an old one with a reason (the correction path)
    staff.post_form(f"/sessions/{world.session_a.id}/headcount", {"band": "u13", "gender": "pige", "delta": "1", "seen": "0"})
    assert db.session.scalar(select(func.sum(HeadCount.count))) == 1


def test_a_head_count_is_never_added_to_a_cancelled_session(staff, world):
    """The scanner refuses a cancelled session ("Gangen er aflyst."); its head count did not, and the
    visitors tapped in vanished from every figure. Now the + is refused and disabled, the − still corrects."""
    from youthclub.attendance.models import HeadCount

    url = f"/sessions/{world.session_a.id}/headcount"
    staff.post_form(url, {"band": "u13", "gender": "pige", "delta": "1", "seen": "0"})
    world.session_a.cancelled_at = datetime.now(UTC)
    db.session.commit()
    page = staff.get(url).get_data(as_text=True)
    assert 'id="headcount-cancelled"' in page and "Gangen er aflyst." in page
    assert 'name="delta" value="1" class="button headcount-btn" disabled' in page
    r = staff.post_form(url, {"band": "u13", "gender": "dreng", "delta": "1", "seen": "0"}, follow_redirects=True)
    assert "Gangen er aflyst." in r.get_data(as_text=True)
    assert db.session.scalar(select(func.sum(HeadCount.count))) == 1
    staff.post_form(url, {"band": "u13", "gender": "pige", "delta": "-1", "seen": "1"})
    assert db.session.scalar(select(func.sum(HeadCount.count))) == 0


# -- moving a session keeps its visits where they happened --------------------------------


def _move(staff, session, start: datetime, end: datetime):
    local_start, local_end = start.astimezone(local_now().tzinfo), end.astimezone(local_now().tzinfo)
    return staff.post_form(f"/sessions/{session.id}/move", {
        "day": local_start.date().isoformat(), "start_time": local_start.strftime("%H:%M"),
        "end_time": local_end.strftime("%H:%M")})


def test_a_session_with_visits_is_not_moved_to_next_week(staff, world):
    """Today's scans would count for next week, and next week the same young people would be 'already
    checked in' at the door: the move is refused, next to its field; without visits it moves."""
    from tests.factories import attend
    from youthclub.activities.models import Session

    session = world.session_a
    attend(world.youth, session)
    db.session.commit()
    session_id, starts_at = session.id, session.starts_at
    week = timedelta(days=7)
    response = _move(staff, session, session.starts_at + week, session.ends_at + week)
    assert response.status_code == 200
    assert "Der er registreret fremmøde på denne gang" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Session, session_id).starts_at == starts_at
    # a time fixed by half an hour, with every scan still inside the window, is fine
    response = _move(staff, session, starts_at - timedelta(minutes=30), session.ends_at - timedelta(minutes=30))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Session, session_id).starts_at == starts_at - timedelta(minutes=30)


def test_a_session_with_a_head_count_is_not_moved_to_a_time_to_come(staff, world):
    from youthclub.activities.models import Session

    session = world.session_a
    staff.post_form(f"/sessions/{session.id}/headcount", {"band": "u13", "gender": "pige", "delta": "1", "seen": "0"})
    db.session.expire_all()
    session = db.session.get(Session, world.session_a.id)
    starts_at = session.starts_at
    assert _move(staff, session, starts_at + timedelta(days=1), session.ends_at + timedelta(days=1)).status_code == 200
    db.session.expire_all()
    assert db.session.get(Session, session.id).starts_at == starts_at
    tomorrow = make_session(world.activity_a, day=local_today() + timedelta(days=1))
    db.session.commit()
    assert _move(staff, tomorrow, tomorrow.starts_at + timedelta(days=1), tomorrow.ends_at + timedelta(days=1)) \
        .status_code == 302


def test_a_queued_scan_from_a_fast_phone_clock_is_kept_for_staff_not_lost(staff, world):
    """A phone whose clock runs 30 minutes fast queues scans 'from the future'. The server refuses them, and
    the scanner drops what the server answered: so the refusal is kept as a conflict, once, like any other."""
    n = nonce()
    later = (datetime.now(UTC) + timedelta(minutes=30)).isoformat()
    item = {"session_id": world.session_a.id, "token": world.youth.pass_token, "nonce": n, "scanned_at": later}
    [result] = _batch(staff, item)
    assert result["status"] == 422 and result["error"]["code"] == "scanned_in_future"
    [again] = _batch(staff, item)
    assert again["error"]["code"] == "scanned_in_future"
    conflicts = db.session.scalars(select(ScanConflict).where(ScanConflict.nonce == n)).all()
    assert [(c.code, c.youth_id, c.session_id) for c in conflicts] == [
        ("scanned_in_future", world.youth.id, world.session_a.id)]
    assert attendances() == 0
    page = staff.get(f"/sessions/{world.session_a.id}/rollcall").get_data(as_text=True)
    assert services.refusal_message("scanned_in_future") in page


def test_a_coordinator_moves_no_session_with_visits_and_learns_no_count_from_the_refusal(client, world):
    """Outside audit: the refusal told a coordinator "2 unge, 1 talt" of one session (a small cell the figures hide),
    and a time fixed by five minutes moved a session with visits for a role that only reads figures."""
    from tests.factories import attend
    from youthclub.activities.models import Session

    session = world.session_a
    attend(world.youth, session)
    db.session.commit()
    session_id, starts_at, ends_at = session.id, session.starts_at, session.ends_at
    client.login_as(world.coordinator)
    for delta in (timedelta(days=7), timedelta(minutes=-5)):
        response = _move(client, session, starts_at + delta, ends_at + delta)
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and "kun institutionens personale kan flytte den" in page
        assert "1 unge" not in page and "talt)" not in page
        db.session.expire_all()
        assert db.session.get(Session, session_id).starts_at == starts_at


def test_a_session_s_head_count_cells_are_the_door_s_not_a_coordinator_s(client, world):
    """Outside audit: the head count page showed a coordinator each cell of one session exactly, and let them change it."""
    from youthclub.attendance.models import HeadCount

    client.login_as(world.coordinator)
    url = f"/sessions/{world.session_a.id}/headcount"
    assert client.get(url).status_code == 403
    assert client.post_form(url, {"band": "u13", "gender": "pige", "delta": "1", "seen": "0"}).status_code == 403
    assert db.session.scalar(select(func.count(HeadCount.id))) == 0


def _ended_three_hours_ago(world):
    """A session that ended three hours ago (its window closed two hours ago), inside the correction window."""
    now = datetime.now(UTC).replace(microsecond=0)
    session = Session(activity=world.activity_a, starts_at=now - timedelta(hours=5), ends_at=now - timedelta(hours=3))
    db.session.add(session)
    db.session.commit()
    return session, now


def test_a_live_scan_with_a_device_time_long_past_is_recorded_as_held_on_the_device(staff, world):
    """The live endpoint records the present. A scan it gets with a device time from before the
    clocks' margin was held on the device: it is an offline scan and is recorded as one, so a
    check-in into a session that is over never passes for a scan at its door."""
    session, now = _ended_three_hours_ago(world)
    r = staff.api("POST", f"/api/v1/sessions/{session.id}/checkins",
                  json={"token": world.youth.pass_token, "nonce": nonce(),
                        "scanned_at": (now - timedelta(hours=4)).isoformat()})
    assert r.status_code == 201, r.json
    assert r.json["attendance"]["method"] == "offline"
    assert db.session.scalar(select(Attendance.method)) == CheckinMethod.OFFLINE
    # without a device time the same scan is the present's, and the session is over
    r = staff.api("POST", f"/api/v1/sessions/{session.id}/checkins",
                  json={"token": make_youth().pass_token, "nonce": nonce()})
    assert r.status_code == 422 and r.json["error"]["code"] == "session_not_now"


def test_a_live_scan_within_the_clocks_margin_is_a_live_scan(staff, world):
    # the negative control: a phone a couple of minutes slow (or a request on the way) scans live
    scanned = datetime.now(UTC) - services.CLOCK_SKEW + timedelta(seconds=30)
    r = staff.api("POST", f"/api/v1/sessions/{world.session_a.id}/checkins",
                  json={"token": world.youth.pass_token, "nonce": nonce(), "scanned_at": scanned.isoformat()})
    assert r.status_code == 201, r.json
    assert r.json["attendance"]["method"] == "qr"
    assert db.session.scalar(select(Attendance.method)) == CheckinMethod.QR


def test_a_held_live_scan_from_outside_the_window_is_refused_as_any_scan_is(staff, world):
    session, now = _ended_three_hours_ago(world)
    r = staff.api("POST", f"/api/v1/sessions/{session.id}/checkins",
                  json={"token": world.youth.pass_token, "nonce": nonce(),
                        "scanned_at": (now - timedelta(hours=8)).isoformat()})
    assert r.status_code == 422 and r.json["error"]["code"] == "session_not_now"
    assert attendances() == 0
