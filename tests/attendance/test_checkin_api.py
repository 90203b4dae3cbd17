"""The check-in API over HTTP: status codes, machine codes, repeats, batches, authentication."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import make_youth, sign_up
from youthclub.attendance.models import Attendance, CheckinMethod, ScanConflict
from youthclub.extensions import db
from youthclub.i18n import local_today
from youthclub.models import SignupStatus
from youthclub.tokens.services import create_token


def nonce() -> str:
    return str(uuid.uuid4())


def count() -> int:
    return db.session.scalar(select(func.count(Attendance.id)))


def post(client, session_id, **body):
    return client.api("POST", f"/api/v1/sessions/{session_id}/checkins", json=body)


@pytest.fixture
def staff(client, world):
    client.login_as(world.staff_a)
    return client


def test_new_attendance_is_201_and_names_the_young_person(staff, world):
    r = post(staff, world.session_a.id, token=world.youth.pass_token, nonce=nonce())
    assert r.status_code == 201, r.json
    assert r.json["result"] == "checked_in"
    assert r.json["youth"]["first_name"] == "Aisha" and r.json["youth"]["age"] in (13, 14)
    assert "checked_in_count" not in r.json  # the scanner counts its own (issue 17)
    assert "last_name" not in r.json["youth"]


def test_repeat_with_same_nonce_is_200_and_writes_nothing(staff, world):
    n = nonce()
    first = post(staff, world.session_a.id, token=world.youth.pass_token, nonce=n)
    again = post(staff, world.session_a.id, token=world.youth.pass_token, nonce=n)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["attendance"] == first.json["attendance"]
    assert count() == 1


def test_repeat_scan_is_200_with_the_original_time(staff, world):
    scanned = (datetime.now(UTC) - timedelta(minutes=12)).replace(microsecond=0)
    post(staff, world.session_a.id, token=world.youth.pass_token, nonce=nonce(), scanned_at=scanned.isoformat())
    r = post(staff, world.session_a.id, token=world.youth.pass_token, nonce=nonce())
    assert r.status_code == 200 and r.json["result"] == "already_checked_in"
    assert datetime.fromisoformat(r.json["attendance"]["scanned_at"]) == scanned
    assert count() == 1


def _refusal(staff, session_id, token):
    r = post(staff, session_id, token=token, nonce=nonce())
    assert r.status_code == 422, r.json
    return r.json["error"]["code"]


def test_every_refusal_has_its_code(staff, world, app):
    assert _refusal(staff, world.session_a.id, "not-a-pass") == "unknown_token"

    lost = make_youth(first_name="Mads")
    sign_up(lost, world.activity_a)
    old = lost.pass_token
    staff.post_form(f"/youth/{lost.id}/pass/revoke")
    assert _refusal(staff, world.session_a.id, old) == "revoked_token"

    waiting = make_youth()
    sign_up(waiting, world.activity_a, status=SignupStatus.WAITLISTED, position=1)
    assert _refusal(staff, world.session_a.id, waiting.pass_token) == "waitlisted"

    too_old = make_youth(birth_year=local_today().year - 30)
    sign_up(too_old, world.activity_a)
    assert _refusal(staff, world.session_a.id, too_old.pass_token) == "outside_age"
    r = post(staff, world.session_a.id, token=too_old.pass_token, nonce=nonce(), override_age=True)
    assert r.status_code == 201 and r.json["attendance"]["age_override"] is True

    world.activity_a.allows_drop_in = False
    assert _refusal(staff, world.session_a.id, make_youth().pass_token) == "not_signed_up"

    world.session_a.cancelled_at = datetime.now(UTC)
    assert _refusal(staff, world.session_a.id, world.youth.pass_token) == "session_cancelled"
    assert count() == 1


def test_drop_in_when_the_activity_allows_it(staff, world):
    r = post(staff, world.session_a.id, token=make_youth().pass_token, nonce=nonce())
    assert r.status_code == 201 and r.json["attendance"]["drop_in"] is True


@pytest.mark.parametrize("body", [
    "not json",
    "[1, 2]",
    '{"nonce": "12345678-aaaa"}',
    '{"token": 5, "nonce": "12345678-aaaa"}',
    '{"token": "abc"}',
    '{"token": "abc", "nonce": "short"}',
    '{"token": "abc", "nonce": "12345678-aaaa", "scanned_at": "yesterday"}',
    '{"token": "abc", "nonce": "12345678-aaaa", "scanned_at": "2026-01-01T10:00:00"}',
    '{"token": "abc", "nonce": "12345678-aaaa", "override_age": "yes"}',
])
def test_malformed_input_is_400(staff, world, body):
    r = staff.open(f"/api/v1/sessions/{world.session_a.id}/checkins", method="POST", data=body,
                   headers={"Content-Type": "application/json", "X-CSRFToken": staff.csrf_token()})
    assert r.status_code == 400 and r.json["error"]["code"]
    assert count() == 0


def test_staff_of_another_institution_get_403(client, world):
    client.login_as(world.staff_b)
    r = post(client, world.session_a.id, token=world.youth.pass_token, nonce=nonce())
    assert r.status_code == 403
    assert count() == 0


def test_young_people_cannot_check_in(client, world):
    client.login_as(world.youth_user)
    assert post(client, world.session_a.id, token=world.youth.pass_token, nonce=nonce()).status_code == 403


def test_session_without_csrf_header_is_refused(staff, world):
    r = staff.post(f"/api/v1/sessions/{world.session_a.id}/checkins",
                   json={"token": world.youth.pass_token, "nonce": nonce()})
    assert r.status_code == 400 and r.json["error"]["code"] == "csrf_failed"
    assert count() == 0


def test_bearer_token_works_and_revoked_token_does_not(client, world):
    token, secret = create_token(world.staff_a, "Dørscanner")
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    r = client.open(f"/api/v1/sessions/{world.session_a.id}/checkins", method="POST",
                    json={"token": world.youth.pass_token, "nonce": nonce()}, headers=headers)
    assert r.status_code == 201
    assert "Set-Cookie" not in r.headers  # a bearer request gets no session, and writes none
    token = db.session.merge(token)
    token.revoked_at = datetime.now(UTC)
    db.session.commit()
    r = client.open(f"/api/v1/sessions/{world.session_a.id}/checkins", method="POST",
                    json={"token": world.youth.pass_token, "nonce": nonce()}, headers=headers)
    assert r.status_code == 401


def test_manual_check_in_by_youth_id(staff, world):
    r = post(staff, world.session_a.id, youth_id=world.youth.id, nonce=nonce())
    assert r.status_code == 201 and r.json["attendance"]["method"] == "manual"


def test_manual_check_in_of_someone_staff_cannot_see_is_404(staff, world):
    r = post(staff, world.session_a.id, youth_id=world.other_youth.id, nonce=nonce())
    assert r.status_code == 404 and count() == 0


# -- batch --------------------------------------------------------------------------------


def _batch_items(world, revoked_token, stranger_token):
    earlier = datetime.now(UTC) - timedelta(minutes=20)
    return [
        {"session_id": world.session_a.id, "token": world.youth.pass_token, "nonce": nonce(),
         "scanned_at": earlier.isoformat()},
        {"session_id": world.session_a.id, "token": revoked_token, "nonce": nonce(),
         "scanned_at": earlier.isoformat()},
        {"session_id": world.session_a.id, "token": stranger_token, "nonce": nonce()},
        {"session_id": world.session_b.id, "token": world.other_youth.pass_token, "nonce": nonce()},
        {"session_id": world.session_a.id, "nonce": nonce()},
    ]


def test_batch_answers_each_item_and_is_safe_to_send_twice(staff, world):
    lost = make_youth(first_name="Mads")
    sign_up(lost, world.activity_a)
    old = lost.pass_token
    staff.post_form(f"/youth/{lost.id}/pass/revoke")
    world.activity_a.allows_drop_in = False
    stranger = make_youth()
    items = _batch_items(world, old, stranger.pass_token)

    first = staff.api("POST", "/api/v1/checkins/batch", json={"items": items})
    assert first.status_code == 200
    statuses = [(r["status"], r.get("result") or r["error"]["code"]) for r in first.json["results"]]
    assert statuses == [(201, "checked_in"), (422, "revoked_token"), (422, "not_signed_up"),
                        (403, "forbidden"), (400, "missing_token")]
    assert [r["nonce"] for r in first.json["results"]] == [i["nonce"] for i in items]
    assert first.json["checked_in_counts"] == {str(world.session_a.id): 1}

    second = staff.api("POST", "/api/v1/checkins/batch", json={"items": items})
    assert [(r["status"], r.get("result") or r["error"]["code"]) for r in second.json["results"]] == [
        (200, "already_checked_in"), (422, "revoked_token"), (422, "not_signed_up"), (403, "forbidden"),
        (400, "missing_token")]

    assert count() == 1
    a = db.session.scalar(select(Attendance))
    assert a.method == CheckinMethod.OFFLINE
    assert a.scanned_at == datetime.fromisoformat(items[0]["scanned_at"])
    conflicts = db.session.scalars(select(ScanConflict).order_by(ScanConflict.id)).all()
    assert [(c.code, c.youth_id) for c in conflicts] == [("revoked_token", lost.id), ("not_signed_up", stranger.id)]


def test_batch_accepts_a_bare_list_and_rejects_non_lists(staff, world):
    items = [{"session_id": world.session_a.id, "token": world.youth.pass_token, "nonce": nonce()}]
    assert staff.api("POST", "/api/v1/checkins/batch", json=items).json["results"][0]["status"] == 201
    assert staff.api("POST", "/api/v1/checkins/batch", json={"items": "x"}).status_code == 400
    assert staff.api("POST", "/api/v1/checkins/batch", json={"items": [{}] * 501}).status_code == 400


@pytest.mark.parametrize("session_id,code", [("SID", "invalid_session_id"), (None, "invalid_session_id"),
                                             (1.5, "invalid_session_id"), (True, "invalid_session_id")])
def test_a_batch_item_with_a_session_id_that_is_not_a_number_is_a_400(staff, world, session_id, code):
    """An outside test sent "session_id": "736" (a string) and got 404 "Gangen findes ikke." for a session that exists."""
    item = {"token": world.youth.pass_token, "nonce": nonce()}
    if session_id is not None:
        item["session_id"] = str(world.session_a.id) if session_id == "SID" else session_id
    result = staff.api("POST", "/api/v1/checkins/batch", json=[item]).json["results"][0]
    assert result["status"] == 400 and result["error"]["code"] == code
    assert db.session.scalar(select(func.count(Attendance.id))) == 0


def test_conflicts_show_on_the_session_pages(staff, world, app):
    items = [{"session_id": world.session_a.id, "token": "lost-and-unknown", "nonce": nonce()}]
    staff.api("POST", "/api/v1/checkins/batch", json={"items": items})
    page = staff.get(f"/sessions/{world.session_a.id}/rollcall").get_data(as_text=True)
    assert "Afviste offline-scanninger" in page and "Ukendt pas." in page
    from flask import render_template
    from flask_login import login_user

    with app.test_request_context():
        login_user(world.staff_a)
        actions = render_template("attendance/_session_actions.html", session=world.session_a)
    assert "1 afvist offline-scanning" in actions
    conflict = db.session.scalar(select(ScanConflict))
    staff.post_form(f"/sessions/{world.session_a.id}/conflicts/{conflict.id}/resolve")
    db.session.expire_all()
    assert db.session.get(ScanConflict, conflict.id).resolved_at is not None
    assert "Afviste offline-scanninger" not in staff.get(f"/sessions/{world.session_a.id}/rollcall").get_data(as_text=True)


def test_openapi_documents_both_endpoints(client):
    doc = client.get("/api/v1/openapi.json").json
    post_one = doc["paths"]["/sessions/{session_id}/checkins"]["post"]
    assert {"200", "201", "400", "403", "422"} <= post_one["responses"].keys()
    assert "post" in doc["paths"]["/checkins/batch"]
    assert "CheckinRequest" in doc["components"]["schemas"]


def test_a_bearer_token_is_read_afresh_each_request_revoked_or_role_removed(client, world):
    """The token's user and roles come from one statement per request: nothing stale survives a change."""
    from youthclub.accounts import services as account_services
    from youthclub.accounts.models import Role
    from youthclub.accounts.services import revoke_role
    from youthclub.tokens.services import revoke_token

    token, secret = create_token(world.staff_a, "Dør")
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    url = f"/api/v1/sessions/{world.session_a.id}/checkins"
    assert client.post(url, json={"token": world.youth.pass_token, "nonce": nonce()}, headers=headers).status_code == 201
    # the roles are read afresh: a membership row gone (whatever removed it) is seen at once
    for membership in [m for m in world.staff_a.memberships if m.institution_id == world.inst_a.id]:
        db.session.delete(membership)
    db.session.commit()
    assert client.post(url, json={"token": world.youth.pass_token, "nonce": nonce()}, headers=headers).status_code == 403
    revoke_token(token, world.staff_a)
    db.session.commit()
    assert client.post(url, json={"token": world.youth.pass_token, "nonce": nonce()}, headers=headers).status_code == 401
    # and taking a role away through the rules ends the user's tokens with it
    account_services.grant_role(world.staff_a, Role.STAFF, world.inst_a.id)
    _again, second = create_token(world.staff_a, "Dør 2")
    db.session.commit()
    headers = {"Authorization": f"Bearer {second}"}
    assert client.post(url, json={"token": world.youth.pass_token, "nonce": nonce()}, headers=headers).status_code == 200
    for membership in [m for m in world.staff_a.memberships if m.institution_id == world.inst_a.id]:
        revoke_role(world.staff_a, membership)
    db.session.commit()
    assert client.post(url, json={"token": world.youth.pass_token, "nonce": nonce()}, headers=headers).status_code == 401


def test_a_nonce_sent_again_with_another_pass_is_a_conflict_not_the_first_persons_answer(staff, world):
    """The nonce names one scan. Sent again with another pass, it is not a repeat of that scan:
    the door must not be told that the second person is in, under the first person's name."""
    n = nonce()
    other = make_youth(first_name="Mustafa")
    first = post(staff, world.session_a.id, token=world.youth.pass_token, nonce=n)
    assert first.status_code == 201
    r = post(staff, world.session_a.id, token=other.pass_token, nonce=n)
    assert r.status_code == 409 and r.json["error"]["code"] == "nonce_conflict", r.json
    assert "youth" not in r.json and "Aisha" not in r.get_data(as_text=True)
    assert count() == 1
    # a new nonce checks them in; the first scan's own repeat still answers with it
    assert post(staff, world.session_a.id, token=other.pass_token, nonce=nonce()).status_code == 201
    again = post(staff, world.session_a.id, token=world.youth.pass_token, nonce=n)
    assert again.status_code == 200 and again.json["attendance"] == first.json["attendance"]


def test_a_nonce_of_a_pass_scan_sent_again_for_a_check_in_by_name_of_someone_else_is_a_conflict(staff, world):
    n = nonce()
    other = make_youth(first_name="Mustafa")
    sign_up(other, world.activity_a)
    assert post(staff, world.session_a.id, token=world.youth.pass_token, nonce=n).status_code == 201
    r = post(staff, world.session_a.id, youth_id=other.id, nonce=n)
    assert r.status_code == 409 and r.json["error"]["code"] == "nonce_conflict", r.json
    assert count() == 1


def test_a_kept_refusal_is_not_answered_for_another_pass_under_its_nonce(staff, world):
    world.activity_a.allows_drop_in = False
    stranger, other = make_youth(first_name="Emil"), make_youth(first_name="Mustafa")
    sign_up(other, world.activity_a)
    db.session.commit()
    n = nonce()
    item = {"session_id": world.session_a.id, "token": stranger.pass_token, "nonce": n,
            "scanned_at": datetime.now(UTC).isoformat()}
    [refused] = staff.api("POST", "/api/v1/checkins/batch", json={"items": [item]}).json["results"]
    assert refused["error"]["code"] == "not_signed_up"
    [again] = staff.api("POST", "/api/v1/checkins/batch",
                        json={"items": [{**item, "token": other.pass_token}]}).json["results"]
    assert again["status"] == 409 and again["error"]["code"] == "nonce_conflict", again
    assert "Emil" not in str(again) and count() == 0
    # the same refused scan sent again is answered as before
    [same] = staff.api("POST", "/api/v1/checkins/batch", json={"items": [item]}).json["results"]
    assert same["error"]["code"] == "not_signed_up"


def test_two_items_of_one_batch_under_one_nonce_check_in_only_the_first(staff, world):
    other = make_youth(first_name="Mustafa")
    n, at = nonce(), datetime.now(UTC).isoformat()
    items = [{"session_id": world.session_a.id, "token": world.youth.pass_token, "nonce": n, "scanned_at": at},
             {"session_id": world.session_a.id, "token": other.pass_token, "nonce": n, "scanned_at": at}]
    results = staff.api("POST", "/api/v1/checkins/batch", json={"items": items}).json["results"]
    assert [(r["status"], r.get("result") or r["error"]["code"]) for r in results] == [
        (201, "checked_in"), (409, "nonce_conflict")]
    assert count() == 1


@pytest.mark.parametrize("scanned_at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                                        "1999-12-31T23:59:59+00:00"])
def test_a_device_time_with_no_place_in_time_is_a_400_never_a_500(staff, world, scanned_at):
    """Security test: year 1 at +14:00 has no UTC, and keeping the refused scan as a conflict was a 500."""
    r = post(staff, world.session_a.id, token=world.youth.pass_token, nonce=nonce(), scanned_at=scanned_at)
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_scanned_at", r.json
    assert count() == 0


def test_one_broken_device_time_in_a_batch_leaves_the_rest_recorded(staff, world):
    """Security test: one such item failed the whole batch, so the queue never drained."""
    other = make_youth()
    items = [{"session_id": world.session_a.id, "token": other.pass_token, "nonce": nonce()},
             {"session_id": world.session_a.id, "token": world.youth.pass_token, "nonce": nonce(),
              "scanned_at": "0001-01-01T00:00:00+14:00"}]
    r = staff.api("POST", "/api/v1/checkins/batch", json={"items": items})
    assert r.status_code == 200, r.json
    assert [(x["status"], x.get("result") or x["error"]["code"]) for x in r.json["results"]] == [
        (201, "checked_in"), (400, "invalid_scanned_at")]
    assert count() == 1


def test_a_used_nonce_with_a_token_that_names_nobody_learns_nothing_of_who_used_it(staff, world):
    """Retest: with a garbage token, a used nonce answered "already in" with the first person's name
    (and a kept refusal's nonce with theirs). Only their own pass, revoked since, gets the repeat."""
    n = nonce()
    assert post(staff, world.session_a.id, token=world.youth.pass_token, nonce=n).status_code == 201
    r = post(staff, world.session_a.id, token="garbage-token-xyz", nonce=n)
    assert r.status_code == 409 and r.json["error"]["code"] == "nonce_conflict", r.json
    assert "Aisha" not in r.get_data(as_text=True)
    # a kept refusal under a nonce: a garbage token learns nothing of it either
    world.activity_a.allows_drop_in = False
    stranger = make_youth(first_name="Emil")
    db.session.commit()
    m = nonce()
    [refused] = staff.api("POST", "/api/v1/checkins/batch", json={"items": [
        {"session_id": world.session_a.id, "token": stranger.pass_token, "nonce": m,
         "scanned_at": datetime.now(UTC).isoformat()}]}).json["results"]
    assert refused["error"]["code"] == "not_signed_up"
    r = post(staff, world.session_a.id, token="garbagegarbage", nonce=m)
    assert r.status_code == 409 and "Emil" not in r.get_data(as_text=True), r.json


def test_a_revoked_pass_sent_again_under_its_nonce_is_still_the_same_scan(staff, world):
    n, old = nonce(), world.youth.pass_token
    first = post(staff, world.session_a.id, token=old, nonce=n)
    assert first.status_code == 201
    staff.post_form(f"/youth/{world.youth.id}/pass/revoke")
    again = post(staff, world.session_a.id, token=old, nonce=n)
    assert again.status_code == 200 and again.json["attendance"] == first.json["attendance"], again.json
    # without the nonce it is what it is now: a revoked pass
    assert post(staff, world.session_a.id, token=old, nonce=nonce()).json["error"]["code"] == "revoked_token"


def test_a_refused_live_scan_held_on_the_device_keeps_its_nonce(staff, world):
    """Retest: a live scan dated hours back was refused, its refusal not kept, and its nonce then
    checked in someone else. Refused like a queued scan, it is kept like one."""
    n = nonce()
    past = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    r = post(staff, world.session_a.id, token=world.youth.pass_token, nonce=n, scanned_at=past)
    assert r.status_code == 422 and r.json["error"]["code"] == "session_not_now", r.json
    assert db.session.scalar(select(ScanConflict.code).where(ScanConflict.nonce == n)) == "session_not_now"
    other = make_youth(first_name="Hana")
    r = post(staff, world.session_a.id, token=other.pass_token, nonce=n)
    assert r.status_code == 409 and r.json["error"]["code"] == "nonce_conflict", r.json
    assert count() == 0


@pytest.mark.parametrize("scanned_at", ["9999-12-31T23:59:59+00:00", "2101-01-01T00:00:00+00:00"])
def test_a_device_time_far_ahead_is_refused_as_input_and_never_kept(staff, world, scanned_at):
    """Retest: a refusal kept with 9999-12-31 broke the session's scanner and roll-call pages."""
    items = [{"session_id": world.session_a.id, "token": world.youth.pass_token, "nonce": nonce(),
              "scanned_at": scanned_at}]
    [result] = staff.api("POST", "/api/v1/checkins/batch", json={"items": items}).json["results"]
    assert result["status"] == 400 and result["error"]["code"] == "invalid_scanned_at", result
    assert db.session.scalar(select(func.count(ScanConflict.id))) == 0
    assert staff.get(f"/scan/{world.session_a.id}").status_code == 200
    assert staff.get(f"/sessions/{world.session_a.id}/rollcall").status_code == 200
