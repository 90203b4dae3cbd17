"""The door roster: today's sessions of the staff member's institution, passes only as salted hashes."""
from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from tests.factories import attend, make_activity, make_session, make_session_now, make_youth, sign_up
from youthclub.activities.models import Session
from youthclub.attendance import services
from youthclub.audit.models import AuditEvent
from youthclub.extensions import db
from youthclub.i18n import local_now, local_today, to_utc
from youthclub.models import SignupStatus


def h(salt: str, token: str) -> str:
    return hashlib.sha256((salt + hashlib.sha256(token.encode()).hexdigest()).encode()).hexdigest()


def roster(client):
    r = client.get("/api/v1/door/roster")
    assert r.status_code == 200, r.json
    assert "no-store" in r.headers["Cache-Control"]
    return r.json


def test_roster_holds_todays_sessions_of_my_institution_only(client, world):
    tomorrow = make_session(world.activity_a, day=local_today() + timedelta(days=1))
    db.session.commit()
    client.login_as(world.staff_a)
    data = roster(client)
    assert set(data["sessions"]) == {str(world.session_a.id)}
    assert str(tomorrow.id) not in data["sessions"] and str(world.session_b.id) not in data["sessions"]
    session = data["sessions"][str(world.session_a.id)]
    assert session["cancelled"] is False and session["activity_id"] == world.activity_a.id
    assert data["day"] == local_today().isoformat()
    # Bo goes to institution B only: not on A's roster
    assert all(p["first_name"] != "Bo" for p in data["passes"].values())


def test_passes_are_salted_hashes_never_tokens(client, world):
    waiting = make_youth(first_name="Ida")
    sign_up(waiting, world.activity_a, status=SignupStatus.WAITLISTED, position=1)
    inside = make_youth(first_name="Omar")
    sign_up(inside, world.activity_a)
    attend(inside, world.session_a)
    lost = make_youth(first_name="Mads")
    sign_up(lost, world.activity_a)
    old = lost.pass_token
    services.revoke_pass(lost, world.staff_a)
    db.session.commit()
    client.login_as(world.staff_a)
    data = roster(client)
    text = json.dumps(data)
    for youth in (world.youth, waiting, inside, lost):
        assert youth.pass_token not in text
        assert hashlib.sha256(youth.pass_token.encode()).hexdigest() not in text
    assert old not in text
    salt = data["salt"]
    assert data["passes"][h(salt, world.youth.pass_token)]["first_name"] == "Aisha"
    assert "last_name" not in data["passes"][h(salt, world.youth.pass_token)]
    signups = data["activities"][str(world.activity_a.id)]["signups"]
    assert signups[h(salt, waiting.pass_token)] == "waitlisted"
    assert signups[h(salt, world.youth.pass_token)] == "confirmed"
    assert h(salt, inside.pass_token) in data["sessions"][str(world.session_a.id)]["checked_in"]
    assert h(salt, old) in data["revoked"]
    # a new salt on every download: hashes from two rosters cannot be matched
    assert roster(client)["salt"] != salt


def test_drop_in_sessions_include_young_people_the_institution_knows(client, world):
    open_club = make_activity(world.inst_a, requires_signup=False)
    make_session_now(open_club)
    regular = make_youth(first_name="Nour")
    attend(regular, make_session(world.activity_a, day=local_today() - timedelta(days=10)))
    stranger = make_youth(first_name="Ukendt")
    db.session.commit()
    client.login_as(world.staff_a)
    names = {p["first_name"] for p in roster(client)["passes"].values()}
    assert "Nour" in names and "Ukendt" not in names and stranger.id


def test_roster_download_is_audited(client, world):
    client.login_as(world.staff_a)
    roster(client)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "roster.view"))
    assert event.details["page"] == "door-roster" and event.details["sessions"] == [world.session_a.id]


def test_coordinators_get_no_names(client, world):
    client.login_as(world.coordinator)
    assert client.get("/api/v1/door/roster").status_code == 403


def test_a_fresh_csrf_token_after_a_new_log_in(client, world):
    client.login_as(world.staff_a)
    token = client.get("/api/v1/csrf-token").json["csrf_token"]
    r = client.open("/api/v1/checkins/batch", method="POST", json={"items": []}, headers={"X-CSRFToken": token})
    assert r.status_code == 200


def test_log_out_clears_the_site_data(client, world):
    client.login_as(world.staff_a)
    r = client.post_form("/logout")
    assert r.headers["Clear-Site-Data"] == '"cache", "storage"'


def test_the_door_page_leads_only_into_a_session_that_is_happening(client, world):
    tomorrow = make_session(world.activity_a, day=local_today() + timedelta(days=1))
    db.session.commit()
    client.login_as(world.staff_a)
    page = client.get("/scan/").get_data(as_text=True)
    assert f'href="/scan/{world.session_a.id}"' in page and f"/scan/{tomorrow.id}" not in page
    assert "/scan/manifest.webmanifest" in page
    worker = client.get("/scan/sw.js")
    assert worker.headers["Service-Worker-Allowed"] == "/scan/"
    manifest = client.get("/scan/manifest.webmanifest").json
    assert manifest["scope"] == "/scan/" and manifest["start_url"] == "/scan/"
    # the old address of the scanner still works
    assert client.get(f"/sessions/{world.session_a.id}/scan").headers["Location"].endswith(f"/scan/{world.session_a.id}")


# -- an evening club that runs past midnight ---------------------------------------------


def _first_of_next_month():
    today = local_today()
    return (today.replace(day=28) + timedelta(days=4)).replace(day=1)


def test_a_session_past_midnight_stays_at_the_door_after_midnight(world, in_request):
    """At 00:30 the 22:00–01:00 club of the day before is on the door list and its roster; one that
    starts at 00:30 tomorrow is there once its window can open; an ended one of yesterday is not."""
    from youthclub.attendance.roster import door_roster, todays_sessions

    day = _first_of_next_month()
    late = make_session(world.activity_a, day=day - timedelta(days=1), start=time(22, 0), end=time(1, 0))
    ended = make_session(world.activity_a, day=day - timedelta(days=1), start=time(16, 0), end=time(18, 0))
    early = make_session(world.activity_a, day=day + timedelta(days=1), start=time(0, 30), end=time(2, 0))
    at_half_past_midnight = to_utc(day, time(0, 30))
    assert services.is_happening(late, at_half_past_midnight)
    ids = {s.id for s in todays_sessions({world.inst_a.id}, at_half_past_midnight)}
    assert late.id in ids and early.id in ids and ended.id not in ids
    # born in the month that begins at midnight: 13 at yesterday's club, 14 from today
    turning = make_youth(first_name="Nour", birth_year=day.year - 14, birth_month=day.month)
    sign_up(turning, world.activity_a)
    data = door_roster(world.staff_a, at_half_past_midnight)
    assert str(late.id) in data["sessions"] and str(ended.id) not in data["sessions"]
    digest = h(data["salt"], turning.pass_token)
    assert data["passes"][digest]["age"] == 14
    assert data["sessions"][str(late.id)]["ages"] == {digest: 13}
    assert turning.age_on(services.session_day(late)) == 13  # what the server's rule reads
    # a roster fetched in the evening is still good while the club runs past midnight
    evening = door_roster(world.staff_a, to_utc(day - timedelta(days=1), time(21, 0)))
    assert str(late.id) in evening["sessions"]
    assert datetime.fromisoformat(evening["expires_at"]) == services.checkin_window(late)[1]


def test_the_door_page_and_roster_keep_a_session_that_began_yesterday(client, world):
    """Over HTTP, now: a session that started yesterday evening and is still on is at the door."""
    now = local_now()
    running = Session(activity=world.activity_a, starts_at=to_utc(now.date() - timedelta(days=1), time(23, 0)),
                      ends_at=(now + timedelta(hours=1)).astimezone(UTC))
    db.session.add(running)
    db.session.commit()
    client.login_as(world.staff_a)
    page = client.get("/scan/").get_data(as_text=True)
    assert f'href="/scan/{running.id}"' in page
    assert str(running.id) in roster(client)["sessions"]


def test_the_today_page_keeps_a_late_session_while_its_window_is_open(world, in_request):
    """At 00:10 the 22:00–23:30 club of the day before still takes scans until 00:30: Today lists it, as /scan/ does."""
    from youthclub.activities.services import today_sessions
    from youthclub.attendance.roster import todays_sessions

    day = _first_of_next_month()
    late = make_session(world.activity_a, day=day - timedelta(days=1), start=time(22, 0), end=time(23, 30))
    at_ten_past = to_utc(day, time(0, 10))
    assert services.is_happening(late, at_ten_past)
    listed = {s.id for _day, sessions in today_sessions(world.inst_a, now=at_ten_past) for s in sessions}
    assert late.id in listed and late.id in {s.id for s in todays_sessions({world.inst_a.id}, at_ten_past)}
    # at 01:00 its window is closed: gone from both
    at_one = to_utc(day, time(1, 0))
    assert late.id not in {s.id for _day, sessions in today_sessions(world.inst_a, now=at_one) for s in sessions}
    assert late.id not in {s.id for s in todays_sessions({world.inst_a.id}, at_one)}
