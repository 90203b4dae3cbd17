"""Personal data the outside test found left behind: staff's free text after closure, scan conflicts
missing from my data, e-mails in rate-limit keys (test_ratelimits), search wildcards."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from tests.factories import PASSWORD, attend, make_youth
from youthclub.attendance import services as attendance_services
from youthclub.attendance.models import ScanConflict
from youthclub.audit.models import AuditEvent
from youthclub.extensions import db
from youthclub.privacy.services import anonymise_youth
from youthclub.signups import services as signup_services
from youthclub.signups.models import Signup


def _reasons_about(text):
    return [e for e in db.session.scalars(select(AuditEvent)) if text in json.dumps(e.details, ensure_ascii=False)]


def test_closing_an_account_removes_staffs_free_text_about_the_young_person(client, world):
    attendance = attend(world.youth, world.session_a)
    attendance_services.remove_attendance(attendance, world.staff_a, reason="Aisha gik med Jonas fra 8.b")
    signup_services.cancel_signup(world.signup, by_user=world.staff_a, reason="Aftalt med Aishas mor")
    other = attend(world.other_youth, world.session_b)
    attendance_services.remove_attendance(other, world.staff_b, reason="Bo gik tidligt")
    db.session.commit()
    assert len(_reasons_about("Aisha")) == 2

    client.login_as(world.youth_user)
    response = client.post_form("/account/close", {"password": PASSWORD, "confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert _reasons_about("Aisha") == [] and _reasons_about("Jonas") == []
    assert db.session.get(Signup, world.signup.id).cancel_reason is None
    assert len(_reasons_about("Bo gik tidligt")) == 1  # someone else's stays
    kept = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "attendance.correct")).all()
    assert {e.details["change"] for e in kept} == {"remove"}  # the events themselves stay, as counts


def test_anonymising_by_retention_removes_them_too(world):
    youth = make_youth(first_name="Gammel")
    attendance_services.remove_attendance(attend(youth, world.session_a), world.staff_a, reason="Gammel var syg")
    anonymise_youth(youth, reason="retention")
    db.session.commit()
    assert _reasons_about("Gammel var syg") == []


def test_my_data_holds_my_offline_scan_conflicts(client, world):
    db.session.add(ScanConflict(session_id=world.session_a.id, nonce="conflict-nonce-me", youth_id=world.youth.id,
                                code="waitlisted", scanned_at=world.session_a.starts_at + timedelta(minutes=2)))
    db.session.add(ScanConflict(session_id=world.session_b.id, nonce="conflict-nonce-other",
                                youth_id=world.other_youth.id, code="not_signed_up",
                                scanned_at=world.session_b.starts_at))
    db.session.commit()
    client.login_as(world.youth_user)
    data = client.get("/account/data").json
    assert [(c["activity"], c["code"]) for c in data["scan_conflicts"]] == [("Fodbold i hallen", "waitlisted")]


def test_search_treats_percent_and_underscore_as_letters(client, world):
    client.login_as(world.staff_a)
    url = f"/sessions/{world.session_a.id}/youth-search?q="
    assert client.get(url + "__").json["results"] == []
    assert client.get(url + "%25%25").json["results"] == []
    assert [r["name"] for r in client.get(url + "ai").json["results"]] == ["Aisha"]


def _cookie_payload(client) -> str:
    """What anyone holding the session cookie can read (it is signed, not encrypted)."""
    import base64
    import zlib

    cookie = client.get_cookie("session")
    value = cookie.value if cookie else ""
    compressed = value.startswith(".")
    payload = value.lstrip(".").split(".", 1)[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return (zlib.decompress(raw) if compressed else raw).decode("utf-8", "replace")


def test_registration_step_one_is_kept_on_the_server_not_in_the_cookie(client, world):
    from youthclub.i18n import local_today

    client.post_form("/register", {
        "first_name": "Zyxwaldo", "last_name": "Oddelbrask", "birth_month": "3",
        "birth_year": str(local_today().year - 13), "gender": "dreng", "home_district_id": str(world.district_a.id),
    })
    readable = _cookie_payload(client)
    assert readable and "Zyxwaldo" not in readable and "Oddelbrask" not in readable and "dreng" not in readable
    assert "Hej Zyxwaldo!" in client.get("/register/login").get_data(as_text=True)
    # going back to screen 1 shows what was typed
    assert 'value="Zyxwaldo"' in client.get("/register").get_data(as_text=True)
    # screen 2's address waits on the server too, with the answers, for the mailed link
    client.post_form("/register/login", {"email": "zyx.wal@example.org", "password": "mit hemmelige ord",
                                         "read_notice": "y"})
    readable = _cookie_payload(client)
    assert "zyx.wal" not in readable and "Zyxwaldo" not in readable


def test_closing_an_account_removes_the_mail_that_made_it(client, world):
    """The privacy page: closing the account deletes the name and contact at once. The registration
    mail (sent before there was a login to tie it to) still held the address."""
    from tests.factories import confirm_registration
    from youthclub.i18n import local_today
    from youthclub.mail.models import OutboxMessage

    client.post_form("/register", {
        "first_name": "Sara", "last_name": "", "birth_month": "3", "birth_year": str(local_today().year - 13),
        "gender": "pige", "home_district_id": str(world.district_a.id),
    })
    client.post_form("/register/login", {"email": "sara@example.org", "password": "mit hemmelige ord", "read_notice": "y"})
    assert confirm_registration(client, "sara@example.org").status_code == 302
    assert client.post_form("/account/close", {"password": "mit hemmelige ord", "confirm": "y"}).status_code == 302
    db.session.expire_all()
    left = db.session.scalars(select(OutboxMessage.subject).where(OutboxMessage.to_address == "sara@example.org")).all()
    assert left == [], f"mail to the closed account's address is kept: {left}"
