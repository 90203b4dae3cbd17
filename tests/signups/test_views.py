"""Sign-up pages, "Mine aktiviteter", the iCal feed, staff lists, the outbox and the API."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import render_template

from tests.factories import make_activity, make_session, make_youth
from youthclub.api.openapi import build_document
from youthclub.db_types import utcnow
from youthclub.extensions import db
from youthclub.i18n import local_today
from youthclub.mail.services import send_mail
from youthclub.signups import services
from youthclub.signups.models import Signup, SignupStatus


@pytest.fixture
def full(world):
    """Activity with one place, taken by another young person."""
    activity = make_activity(world.inst_a, title="Parkour", capacity=1)
    make_session(activity, day=local_today() + timedelta(days=2))
    services.sign_up(make_youth(), activity)
    db.session.commit()
    return activity


def _box(client, user, activity):
    """Render the sign-up box as the activity page's slot does, for ``user`` (None: anonymous)."""
    if user is not None:
        client.login_as(user)
    with client:
        client.get("/__csrf__")
        return render_template("signups/_signup_box.html", activity=activity)


def test_signup_box_for_each_visitor(client, world, full):
    anonymous = _box(client, None, full)
    assert "Log ind for at tilmelde dig" in anonymous and "Der er fuldt." in anonymous
    youth = _box(client, world.youth_user, full)
    assert "Skriv mig på ventelisten" in youth and "1 på venteliste" not in youth
    staff = _box(client, world.staff_a, world.activity_a)
    assert "Unge tilmelder sig med deres egen konto." in staff
    signed_up = _box(client, world.youth_user, world.activity_a)
    assert "Du er tilmeldt" in signed_up and "Meld mig fra" in signed_up
    assert "19 ledige pladser" in signed_up


def test_an_offer_s_page_says_nothing_of_how_many_wait(client, world, full):
    """Outside audit: the statistics hide a waitlist of 0 to 4 as "<5", and the offer's public page
    gave the exact number to anyone, so a group of one offer was read off it. The page reads the
    same whether nobody or many wait; how many wait is the offer's staff's to see, and each young
    person's own place is theirs."""
    def page_text(user):
        with client.session_transaction() as cookie:
            cookie.clear()  # each visitor from a fresh start (None: nobody logged in)
        return _box(client, user, full)

    visitors = (("anonymous", None), ("staff_b", world.staff_b), ("coordinator", world.coordinator))
    before = {name: page_text(user) for name, user in visitors}
    assert "Der er fuldt." in before["anonymous"] and "Du kan skrive dig på ventelisten." in before["anonymous"]
    waiting = [services.sign_up(make_youth(first_name="Venter"), full), services.sign_up(world.youth, full)]
    db.session.commit()
    assert [w.status for w in waiting] == [SignupStatus.WAITLISTED] * 2
    for name, user in visitors:
        after = page_text(user)
        assert not re.search(r"\d+ på venteliste", after), name
        assert _without_csrf(after) == _without_csrf(before[name]), name
    # the one waiting sees their own place; the offer's staff see how many wait
    assert "Du er nummer 2 på ventelisten" in page_text(world.youth_user)
    client.login_as(world.staff_a)
    assert "2 på venteliste" in client.get(f"/activities/{full.id}/signups").get_data(as_text=True)


def _without_csrf(html: str) -> str:
    return re.sub(r'name="csrf_token"[^>]*value="[^"]*"|value="[^"]*"\s+name="csrf_token"', "", html)


def test_signup_box_is_in_the_activity_detail_slot():
    from youthclub.nav import slot_templates

    assert "signups/_signup_box.html" in slot_templates("activity_detail")


def test_sign_up_form_waitlists_and_shows_position(client, world, full):
    client.login_as(world.youth_user)
    response = client.post_form(f"/activities/{full.id}/signup", {"next": "/me/activities"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/me/activities")
    page = client.get("/me/activities").get_data(as_text=True)
    assert "Der er fuldt. Du er nummer 1 på ventelisten." in page
    assert "Nummer 1 på ventelisten" in page
    assert f'<a href="/activities/{full.id}">Parkour</a>' in page  # back to the offer's page
    # an outside "next" is ignored
    again = client.post_form(f"/activities/{full.id}/signup", {"next": "https://evil.example/"})
    assert again.headers["Location"].endswith("/me/activities")
    assert "Du er allerede tilmeldt." in client.get("/me/activities").get_data(as_text=True)


def test_refusal_is_explained(client, world):
    old = make_activity(world.inst_a, title="Seniorklub", min_age=20, max_age=24)
    db.session.commit()
    client.login_as(world.youth_user)
    client.post_form(f"/activities/{old.id}/signup")
    assert "Tilbuddet er for en anden aldersgruppe." in client.get("/me/activities").get_data(as_text=True)


def test_youth_cancels_and_cannot_touch_others(client, world, full):
    client.login_as(world.youth_user)
    other = db.session.scalar(db.select(Signup).where(Signup.activity_id == full.id))
    assert client.post_form(f"/signups/{other.id}/cancel").status_code == 404
    response = client.post_form(f"/signups/{world.signup.id}/cancel")
    assert response.status_code == 302
    db.session.expire_all()
    assert world.signup.status == SignupStatus.CANCELLED and world.signup.cancelled_by_id == world.youth_user.id


def test_my_activities_is_the_youth_start_page_and_marks_cancelled_sessions(client, world):
    later = make_session(world.activity_a, day=local_today() + timedelta(days=7))
    later.cancelled_at = utcnow()
    later.cancel_reason = "Hallen males"
    db.session.commit()
    client.login_as(world.youth_user)
    assert client.get("/").headers["Location"].endswith("/me/activities")
    page = client.get("/me/activities").get_data(as_text=True)
    assert "Fodbold i hallen" in page and "Aflyst" in page and "Hallen males" in page
    assert 'aria-current="page"' in page


def test_calendar_feed_secret_and_revocable(client, world):
    cancelled = make_session(world.activity_a, day=local_today() + timedelta(days=3))
    cancelled.cancelled_at = utcnow()
    db.session.commit()
    client.login_as(world.youth_user)
    client.post_form("/me/calendar")
    db.session.expire_all()
    token = world.youth.calendar_token
    assert token and len(token) >= 30
    page = client.get("/me/activities").get_data(as_text=True)
    assert f"http://localhost/calendar/{token}.ics" in page

    feed = client.get(f"/calendar/{token}.ics")
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    body = feed.get_data(as_text=True)
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.count("BEGIN:VEVENT") == 2
    assert "SUMMARY:Fodbold i hallen" in body and "STATUS:CANCELLED" in body
    assert client.get("/calendar/not-the-token.ics").status_code == 404

    client.post_form("/me/calendar/revoke")
    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_staff_see_signups_and_waitlist_and_cancel_with_reason(client, world):
    activity = make_activity(world.inst_a, title="Dans", capacity=1)
    first, second = make_youth(first_name="Aya"), make_youth(first_name="Omar")
    s1 = services.sign_up(first, activity)
    s2 = services.sign_up(second, activity)
    db.session.commit()
    client.login_as(world.staff_a)
    # staff get there from the offer's own page (and back)
    manage = client.get(f"/activities/{activity.id}/manage").get_data(as_text=True)
    assert f'href="/activities/{activity.id}/signups"' in manage
    page = client.get(f"/activities/{activity.id}/signups").get_data(as_text=True)
    assert "Aya" in page and "Omar" in page and "1 af 1 pladser optaget" in page
    # each cancel form (reason + button) stays folded until asked for, so the list fits a phone
    assert page.count('<details class="staff-cancel-details">') == 2
    assert f'href="/activities/{activity.id}/manage"' in page
    response = client.post_form(f"/signups/{s1.id}/staff-cancel", {"reason": "Holdet er flyttet"})
    assert response.status_code == 302
    db.session.expire_all()
    assert s1.status == SignupStatus.CANCELLED and s1.cancel_reason == "Holdet er flyttet"
    assert s2.status == SignupStatus.CONFIRMED
    client.login_as(world.staff_b)
    assert client.get(f"/activities/{activity.id}/signups").status_code == 403
    assert client.post_form(f"/signups/{s2.id}/staff-cancel").status_code == 403


def test_outbox_page_shows_unsent_mail_to_admins(client, world):
    send_mail("ung@example.org", "Velkommen til Klub A", "Tekst i mailen")
    db.session.commit()
    client.login_as(world.admin)
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "Velkommen til Klub A" in page and "Tekst i mailen" in page and "Ikke sendt" in page
    assert "MAIL_SERVER" in page


# -- API ------------------------------------------------------------------------------------


def test_api_sign_up_confirmed_then_waitlisted_then_conflict(client, world, full):
    client.login_as(world.youth_user)
    response = client.api("POST", f"/api/v1/activities/{full.id}/signups")
    assert response.status_code == 201
    assert response.json["status"] == "waitlisted" and response.json["position"] == 1
    again = client.api("POST", f"/api/v1/activities/{full.id}/signups")
    assert again.status_code == 409 and again.json["error"]["code"] == "already_signed_up"


@pytest.mark.parametrize(
    "change, code, status",
    [
        (dict(min_age=20, max_age=24), "outside_age", 422),
        (dict(signup_closes_at=utcnow() - timedelta(hours=1)), "window_closed", 422),
        (dict(capacity=0, waitlist_enabled=False), "full_waitlist_closed", 409),
    ],
)
def test_api_refusals(client, world, change, code, status):
    activity = make_activity(world.inst_a, **change)
    db.session.commit()
    client.login_as(world.youth_user)
    response = client.api("POST", f"/api/v1/activities/{activity.id}/signups")
    assert response.status_code == status and response.json["error"]["code"] == code


def test_api_needs_csrf_header_or_token(client, world, full):
    client.login_as(world.youth_user)
    response = client.post(f"/api/v1/activities/{full.id}/signups", json={})
    assert response.status_code == 400
    assert db.session.scalar(db.select(db.func.count(Signup.id)).where(Signup.activity_id == full.id)) == 1


def test_api_bearer_token(client, world, full):
    from youthclub.accounts.models import ApiToken
    from youthclub.api.core import hash_token

    db.session.add(ApiToken(user_id=world.youth_user.id, name="app", token_hash=hash_token("s3cret-token"), prefix="s3cr"))
    db.session.commit()
    response = client.post(f"/api/v1/activities/{full.id}/signups", headers={"Authorization": "Bearer s3cret-token"})
    assert response.status_code == 201 and response.json["position"] == 1


def test_api_delete_promotes_and_is_idempotent(client, world, full):
    taken = db.session.scalar(db.select(Signup).where(Signup.activity_id == full.id))
    waiting = services.sign_up(world.youth, full)
    db.session.commit()
    client.login_as(world.youth_user)
    assert client.api("DELETE", f"/api/v1/signups/{taken.id}").status_code == 404  # not theirs
    client.login_as(world.staff_a)
    response = client.api("DELETE", f"/api/v1/signups/{taken.id}", json={"reason": "Dobbeltbooket"})
    assert response.status_code == 200 and response.json["status"] == "cancelled"
    assert client.api("DELETE", f"/api/v1/signups/{taken.id}").status_code == 200
    db.session.expire_all()
    assert waiting.status == SignupStatus.CONFIRMED and taken.cancel_reason == "Dobbeltbooket"


def test_api_staff_cannot_sign_up(client, world, full):
    client.login_as(world.staff_a)
    response = client.api("POST", f"/api/v1/activities/{full.id}/signups")
    assert response.status_code == 403 and response.json["error"]["code"] == "not_a_youth"


def test_openapi_describes_the_signup_endpoints(client):
    doc = client.get("/api/v1/openapi.json").json
    post = doc["paths"]["/activities/{activity_id}/signups"]["post"]
    assert {"201", "409", "422"} <= post["responses"].keys()
    assert "delete" in doc["paths"]["/signups/{signup_id}"]
    assert doc["components"]["schemas"]["Signup"]["properties"]["status"]["enum"] == ["confirmed", "waitlisted", "cancelled"]
    assert build_document()["paths"].keys() == doc["paths"].keys()


def test_my_activities_when_empty_points_to_the_catalogue(client, world):
    services.cancel_signup(world.signup, by_user=world.youth_user)
    db.session.commit()
    client.login_as(world.youth_user)
    page = client.get("/me/activities").get_data(as_text=True)
    assert "Du er ikke tilmeldt noget endnu." in page
    assert 'href="/activities">Find et tilbud</a>' in page
