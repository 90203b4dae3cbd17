"""The pass, the pass card, roll-call, head counts, corrections and personal API tokens over HTTP."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask_login import login_user
from sqlalchemy import func, select

from tests.factories import PASSWORD, make_session, make_youth, sign_up, tap_head_count
from youthclub.attendance.models import AgeBand, Attendance, CheckinMethod, HeadCount
from youthclub.extensions import db
from youthclub.i18n import local_today
from youthclub.models import ApiToken, AuditEvent, Gender


def audit(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


# -- the pass -----------------------------------------------------------------------------


def test_my_pass_shows_first_name_and_a_qr_of_the_token_only(client, world):
    client.login_as(world.youth_user)
    r = client.get("/me/pass")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "Aisha" in page and "<svg" in page
    assert 'rel="manifest"' in page and "pass.js" in page
    assert "style=" not in page.split("<svg")[0] and "<script>" not in page
    assert "worker-src 'self' blob:" in r.headers["Content-Security-Policy"]
    svg = client.get("/me/pass.svg")
    assert svg.mimetype == "image/svg+xml" and b"<path" in svg.data and b"Aisha" not in svg.data
    assert "attachment" in svg.headers["Content-Disposition"]


def test_pass_svg_decodes_to_the_token(client, world):
    """The QR drawn by the app carries exactly the token: compare its modules with the qrcode package's matrix."""
    import qrcode

    from youthclub.attendance.views import qr_svg

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    qr.add_data(world.youth.pass_token)
    qr.make(fit=True)
    dark = sum(sum(row) for row in qr.get_matrix())
    svg = qr_svg(world.youth.pass_token).decode()
    # the path factory draws each dark module as one "M x y h1 v1 h-1 z"-style square
    assert len(re.findall(r"M", svg.split(' d="', 1)[1])) == dark


def test_manifest_and_service_worker_cover_the_pass(client):
    manifest = client.get("/me/pass.webmanifest")
    assert manifest.json["start_url"] == "/me/pass" and manifest.json["scope"] == "/me/"
    sw = client.get("/me/pass-sw.js")
    assert sw.status_code == 200 and sw.mimetype == "text/javascript"
    assert sw.headers["Service-Worker-Allowed"] == "/me/"
    assert b"/me/pass" in sw.data


def test_young_person_revokes_their_own_pass(client, world):
    client.login_as(world.youth_user)
    old = world.youth.pass_token
    r = client.post_form("/me/pass/revoke")
    assert r.status_code == 302
    db.session.expire_all()
    assert world.youth.pass_token != old
    assert old not in client.get("/me/pass").get_data(as_text=True)


def test_staff_print_a_pass_card_for_a_young_person_they_may_see(client, world):
    client.login_as(world.staff_a)
    page = client.get(f"/youth/{world.youth.id}/pass-card").get_data(as_text=True)
    assert "Aisha" in page and "<svg" in page and "data-print" in page
    client.login_as(world.staff_b)
    # a young person the policy does not show is not there at all
    assert client.get(f"/youth/{world.youth.id}/pass-card").status_code == 404


def test_pass_card_link_partial_is_registered_for_the_youth_slot(app, world):
    from flask import render_template_string

    from youthclub.nav import slot_templates

    assert "attendance/_youth_pass_card_link.html" in slot_templates("youth")
    assert "attendance/_session_actions.html" in slot_templates("session_actions")
    def actions(user):
        with app.test_request_context():
            login_user(user)
            return render_template_string(
                "{% for t in slot_templates('session_actions') %}{% include t %}{% endfor %}", session=world.session_a)

    for path in ("rollcall", "headcount"):
        assert f"/sessions/{world.session_a.id}/{path}" in actions(world.staff_a)
    assert f"/scan/{world.session_a.id}" in actions(world.staff_a)
    # a coordinator is offered none of them: the names are the institution's, and so is the head
    # count of one session (a cell of drop-ins under the threshold)
    coordinator = actions(world.coordinator)
    assert "/headcount" not in coordinator and "/scan" not in coordinator and "/rollcall" not in coordinator


def test_youth_nav_has_my_pass(client, world):
    client.login_as(world.youth_user)
    assert 'href="/me/pass"' in client.get("/me/pass").get_data(as_text=True)


# -- scanner page -------------------------------------------------------------------------


def test_scanner_page_passes_data_without_inline_script(client, world):
    client.login_as(world.staff_a)
    r = client.get(f"/scan/{world.session_a.id}")
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    assert f'data-session-id="{world.session_a.id}"' in page and "data-texts=" in page
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) is None
    assert "style=" not in page
    assert "worker-src 'self' blob:" in r.headers["Content-Security-Policy"]


def test_name_search_finds_only_young_people_staff_may_see(client, world):
    client.login_as(world.staff_a)
    found = client.get(f"/sessions/{world.session_a.id}/youth-search?q=ais").json["results"]
    assert [y["name"] for y in found] == ["Aisha"] and found[0]["checked_in"] is False
    assert client.get(f"/sessions/{world.session_a.id}/youth-search?q=bo").json["results"] == []
    client.login_as(world.coordinator)
    assert client.get(f"/sessions/{world.session_a.id}/youth-search?q=bo").status_code == 403


# -- roll-call ----------------------------------------------------------------------------


def test_roll_call_tick_tick_all_and_undo_the_same_day(client, world):
    second = make_youth(first_name="Carl")
    sign_up(second, world.activity_a)
    client.login_as(world.staff_a)
    url = f"/sessions/{world.session_a.id}/rollcall"
    page = client.get(url).get_data(as_text=True)
    assert "Aisha" in page and "Carl" in page and 'aria-checked="false"' in page

    client.post_form(url, {"action": "present", "youth_id": world.youth.id})
    client.post_form(url, {"action": "all"})
    rows = db.session.scalars(select(Attendance)).all()
    assert sorted(a.youth_id for a in rows) == sorted([world.youth.id, second.id])
    assert {a.method for a in rows} == {CheckinMethod.MANUAL}

    undo = next(a for a in rows if a.youth_id == second.id)
    client.post_form(url, {"action": "absent", "attendance_id": undo.id})
    assert [a.youth_id for a in db.session.scalars(select(Attendance))] == [world.youth.id]
    events = audit("attendance.correct")
    assert len(events) == 1 and events[0].details["change"] == "remove" and events[0].details["youth_id"] == second.id
    assert "Carl" not in str(events[0].details)


def test_add_a_drop_in_by_name(client, world):
    client.login_as(world.staff_a)
    visitor = make_youth(first_name="Zeynep")
    visitor.registered_by_institution_id = world.inst_a.id
    url = f"/sessions/{world.session_a.id}/rollcall"
    page = client.get(url + "?q=zey").get_data(as_text=True)
    assert "Tjek ind: Zeynep" in page
    client.post_form(url, {"action": "present", "youth_id": visitor.id})
    a = db.session.scalar(select(Attendance).where(Attendance.youth_id == visitor.id))
    assert a.drop_in and a.method == CheckinMethod.MANUAL


def test_roll_call_cannot_tick_someone_staff_may_not_see(client, world):
    client.login_as(world.staff_a)
    r = client.post_form(f"/sessions/{world.session_a.id}/rollcall", {"action": "present", "youth_id": world.other_youth.id})
    assert r.status_code == 404
    assert db.session.scalar(select(func.count(Attendance.id))) == 0


def test_correction_older_than_24_hours_needs_a_reason(client, world):
    last_week = make_session(world.activity_a, day=local_today() - timedelta(days=7))
    # signed up before that session, so on its roll-call (a sign-up made since is not)
    world.signup.created_at = world.signup.confirmed_at = last_week.starts_at - timedelta(days=1)
    db.session.commit()
    client.login_as(world.staff_a)
    url = f"/sessions/{last_week.id}/rollcall"
    assert "Begrundelse" in client.get(url).get_data(as_text=True)
    client.post_form(url, {"action": "present", "youth_id": world.youth.id})
    assert db.session.scalar(select(func.count(Attendance.id))) == 0
    client.post_form(url, {"action": "present", "youth_id": world.youth.id, "reason": "Glemt at scanne"})
    a = db.session.scalar(select(Attendance))
    assert a is not None
    added = audit("attendance.correct")
    assert added[-1].details == {"change": "add", "youth_id": world.youth.id, "reason": "Glemt at scanne"}

    a.recorded_at = datetime.now(UTC) - timedelta(days=2)
    db.session.commit()
    client.post_form(url, {"action": "absent", "attendance_id": a.id})
    assert db.session.scalar(select(func.count(Attendance.id))) == 1
    client.post_form(url, {"action": "absent", "attendance_id": a.id, "reason": "Var der ikke"})
    assert db.session.scalar(select(func.count(Attendance.id))) == 0
    assert audit("attendance.correct")[-1].details["reason"] == "Var der ikke"


# -- head counts --------------------------------------------------------------------------


def test_head_count_plus_and_minus(client, world):
    client.login_as(world.staff_a)
    sid = world.session_a.id
    url = f"/sessions/{sid}/headcount"
    cell = (AgeBand.AGE_13_15.value, Gender.DRENG.value)
    for _ in range(3):
        tap_head_count(client, sid, *cell, "1")
    tap_head_count(client, sid, *cell, "-1")
    tap_head_count(client, sid, "u13", "pige", "-1")  # cannot go below zero
    counts = {(h.age_band, h.gender): h.count for h in db.session.scalars(select(HeadCount))}
    assert counts == {(AgeBand.AGE_13_15, Gender.DRENG): 2}
    page = client.get(url).get_data(as_text=True)
    assert 'id="headcount-total">2<' in page
    assert tap_head_count(client, sid, *cell, "5").status_code == 302
    assert db.session.scalar(select(HeadCount.count).where(HeadCount.gender == Gender.DRENG)) == 2
    assert client.post_form(url, {"band": "old", "gender": "x", "delta": "1", "seen": "0"}).status_code == 400
    assert client.post_form(url, {"band": "u13", "gender": "pige", "delta": "1"}).status_code == 400  # no count seen
    assert client.post_form(url, {"band": "u13", "gender": "pige", "delta": "1", "seen": "x"}).status_code == 400


def test_a_head_count_tap_sent_twice_counts_one_visitor(client, world):
    """A double press, or the same POST sent again by a weak connection, adds one, not two."""
    client.login_as(world.staff_a)
    url = f"/sessions/{world.session_a.id}/headcount"
    tap = {"band": "u13", "gender": "pige", "delta": "1", "seen": "0"}
    assert client.post_form(url, tap).status_code == 302
    assert client.post_form(url, tap).status_code == 302  # the same tap again
    assert db.session.scalar(select(func.sum(HeadCount.count))) == 1
    assert "Tallet var allerede ændret" in client.get(url).get_data(as_text=True)
    undo = {**tap, "delta": "-1", "seen": "1"}
    client.post_form(url, undo)
    client.post_form(url, undo)
    assert db.session.scalar(select(func.sum(HeadCount.count))) == 0
    assert client.post_form(url, {**tap, "seen": "0"}).status_code == 302  # a new tap on what the page shows now
    assert db.session.scalar(select(func.sum(HeadCount.count))) == 1


def test_head_count_of_an_old_session_needs_a_reason(client, world):
    old = make_session(world.activity_a, day=local_today() - timedelta(days=3))
    client.login_as(world.staff_a)
    tap_head_count(client, old.id, "u13", "pige", "1")
    assert db.session.scalar(select(func.count(HeadCount.id))) == 0
    tap_head_count(client, old.id, "u13", "pige", "1", reason="Talt på papir")
    assert db.session.scalar(select(HeadCount.count)) == 1
    assert audit("headcount.correct")[0].details["reason"] == "Talt på papir"


# -- personal API tokens ------------------------------------------------------------------


def test_create_use_and_revoke_a_token_on_the_account_page(client, world):
    client.login_as(world.staff_a)
    r = client.post_form("/account/tokens", {"name": "Telefon ved døren", "password": PASSWORD})
    secret = re.search(r'<code id="token-secret">([^<]+)</code>', r.get_data(as_text=True)).group(1)
    stored = db.session.scalar(select(ApiToken))
    assert stored.token_hash != secret and secret.startswith(stored.prefix)
    account = client.get("/account").get_data(as_text=True)
    assert "Telefon ved døren" in account and secret not in account

    me = client.open("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.json["id"] == world.staff_a.id

    client.login_as(world.staff_b)
    assert client.post_form(f"/account/tokens/{stored.id}/revoke").status_code == 404
    client.login_as(world.staff_a)
    client.post_form(f"/account/tokens/{stored.id}/revoke")
    assert client.open("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_token_needs_a_name(client, world):
    client.login_as(world.staff_a)
    client.post_form("/account/tokens", {"name": "  ", "password": PASSWORD})
    assert db.session.scalar(select(func.count(ApiToken.id))) == 0


def test_create_token_command(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-token", "staff.a@example.org", "--name", "Scanner"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    from youthclub.api.core import hash_token

    db.session.expire_all()
    token = db.session.scalar(select(ApiToken))
    assert token.name == "Scanner" and token.token_hash == hash_token(secret)
    assert runner.invoke(args=["create-token", "nobody@example.org"]).exit_code != 0
