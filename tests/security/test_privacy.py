"""GDPR: my data, closing an account, the retention schedule, the privacy page and the audit log."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import attend, make_session, make_youth, sign_up
from youthclub.accounts.models import (
    ApiToken,
    ConsentKind,
    ConsentRecord,
    ConsentStatus,
    OneTimeToken,
    TokenPurpose,
    User,
    YouthProfile,
)
from youthclub.attendance.models import Attendance
from youthclub.audit.models import AuditEvent
from youthclub.extensions import db
from youthclub.mail.models import OutboxMessage
from youthclub.privacy import services
from youthclub.signups.models import Signup, SignupStatus


def _token(purpose=TokenPurpose.PASSWORD_RESET, *, expires_in=timedelta(hours=1), now=None, **owner):
    import secrets

    now = now or datetime.now(UTC)
    token = OneTimeToken(purpose=purpose, token_hash=secrets.token_hex(32), expires_at=now + expires_in,
                         created_at=now, **owner)
    db.session.add(token)
    return token


def _mail(*, created_at=None, **owner):
    message = OutboxMessage(to_address="ung@example.org", subject="Påmindelse", body_text="Hej Aisha",
                            created_at=created_at or datetime.now(UTC), **owner)
    db.session.add(message)
    return message


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# -- my data -------------------------------------------------------------------------

def test_my_data_holds_everything_about_me_and_nothing_about_others(client, world):
    attend(world.youth, world.session_a)
    attend(world.other_youth, world.session_b)
    db.session.add(ConsentRecord(youth_id=world.youth.id, kind=ConsentKind.PHOTOS, status=ConsentStatus.GRANTED,
                                 given_by="guardian", guardian_email="mor@example.org", notice_version="1"))
    db.session.add(ConsentRecord(youth_id=world.other_youth.id, kind=ConsentKind.PHOTOS,
                                 guardian_email="bos.far@example.org", notice_version="1"))
    _mail(youth_id=world.youth.id)
    _mail(youth_id=world.other_youth.id).subject = "Til Bo"
    db.session.commit()
    client.login_as(world.youth_user)
    response = client.get("/account/data")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "ung@example.org"
    assert data["profile"]["first_name"] == "Aisha"
    assert data["profile"]["pass_token"] == world.youth.pass_token
    assert data["profile"]["home_district"] == "Indre Nørrebro"
    assert [s["activity"] for s in data["signups"]] == ["Fodbold i hallen"]
    assert [a["activity"] for a in data["attendance"]] == ["Fodbold i hallen"]
    assert data["consents"][0]["guardian_email"] == "mor@example.org"
    assert [m["subject"] for m in data["messages"]] == ["Påmindelse"]
    text = json.dumps(data, ensure_ascii=False)
    for other in ("Bo", "Musikværksted", "bos.far@example.org", "Til Bo", world.other_youth.pass_token,
                  "Personale", "staff.a@example.org", "password_hash", "$argon2"):
        assert other not in text.replace("Bo\u0000", ""), other
    assert _count(AuditEvent, AuditEvent.action == "privacy.data_download") == 1


def test_my_data_holds_the_corrections_of_my_attendance_and_their_reasons(client, world):
    """An outside test found staff's reasons for correcting a visit (kept in the session's audit events,
    naming the young person by id) missing from "download my data", though a cancelled sign-up's reason was there."""
    from youthclub.attendance import services as attendance
    from youthclub.i18n import local_today

    old = make_session(world.activity_a, local_today() - timedelta(days=3))
    other = make_session(world.activity_a, local_today() - timedelta(days=4))
    attendance.mark_present(old, world.youth, world.staff_a, reason="Glemte sit kort, sad i hjørnet")
    attendance.mark_present(other, world.other_youth, world.staff_a, reason="Om en anden ung")
    db.session.flush()
    visit = db.session.scalar(select(Attendance).where(Attendance.session_id == old.id, Attendance.youth_id == world.youth.id))
    attendance.remove_attendance(visit, world.staff_a, reason="Var her alligevel ikke")
    db.session.commit()
    client.login_as(world.youth_user)
    data = json.loads(client.get("/account/data").get_data(as_text=True))
    assert [(c["change"], c["reason"], c["activity"]) for c in data["attendance_corrections"]] == [
        ("add", "Glemte sit kort, sad i hjørnet", "Fodbold i hallen"),
        ("remove", "Var her alligevel ikke", "Fodbold i hallen"),
    ]
    text = json.dumps(data, ensure_ascii=False)
    assert "Om en anden ung" not in text and "staff.a@example.org" not in text and "Personale" not in text
    page = client.get("/account/data/view").get_data(as_text=True)
    assert "Rettelser af dit fremmøde" in page and "Var her alligevel ikke" in page


def test_staff_also_get_their_own_data(client, world):
    client.login_as(world.staff_a)
    data = client.get("/account/data").get_json()
    assert data["account"]["email"] == "staff.a@example.org"
    assert data["profile"] is None and data["signups"] == []
    assert data["account"]["roles"] == [{"role": "staff", "institution": "Klub A"}]


def test_account_page_links_to_privacy_tools(client, world):
    client.login_as(world.youth_user)
    page = client.get("/account").get_data(as_text=True)
    assert "/account/data" in page and "/account/close" in page and "/privacy" in page
    client.login_as(world.staff_a)
    page = client.get("/account").get_data(as_text=True)
    assert "/account/data" in page and "/account/close" not in page


# -- closing an account --------------------------------------------------------------

def _anonymised_correctly(youth: YouthProfile, *, birth_year, gender, district_id, old_pass):
    assert youth.anonymised_at is not None
    assert youth.first_name == services.ANONYMOUS_NAME and youth.last_name is None and youth.contact is None
    assert youth.calendar_token is None and youth.pass_token != old_pass
    assert (youth.birth_year, youth.gender, youth.home_district_id) == (birth_year, gender, district_id)
    assert youth.user_id is None


def test_closing_my_account_ends_the_login_at_once_and_anonymises(app, client, world):
    youth = world.youth
    youth.last_name, youth.contact, youth.calendar_token = "Hansen", "+45 12 34 56 78", "cal-secret"
    attend(youth, world.session_a)
    db.session.add(ConsentRecord(youth_id=youth.id, kind=ConsentKind.NEWSLETTER, notice_version="1",
                                 guardian_email="mor@example.org"))
    _token(TokenPurpose.CLAIM, youth_id=youth.id)
    _mail(youth_id=youth.id)
    db.session.commit()
    facts = dict(birth_year=youth.birth_year, gender=youth.gender, district_id=youth.home_district_id,
                 old_pass=youth.pass_token)
    user_id, youth_id = world.youth_user.id, youth.id
    other_device = app.test_client()
    other_device.login("ung@example.org")

    client.login("ung@example.org")
    assert client.get("/account/close").status_code == 200
    wrong = client.post_form("/account/close", {"password": "wrong password here", "confirm": "y"})
    assert wrong.status_code == 200 and "forkert" in wrong.get_data(as_text=True)
    unconfirmed = client.post_form("/account/close", {"password": "correct horse battery"})
    assert unconfirmed.status_code == 200
    assert db.session.get(User, user_id) is not None
    response = client.post_form("/account/close", {"password": "correct horse battery", "confirm": "y"})
    assert response.status_code == 302

    db.session.expire_all()
    assert db.session.get(User, user_id) is None
    assert client.get("/account").status_code == 302
    assert other_device.get("/account").status_code == 302  # every session, not just this one
    assert client.login("ung@example.org").status_code == 401
    youth = db.session.get(YouthProfile, youth_id)
    _anonymised_correctly(youth, **facts)
    assert _count(ConsentRecord, ConsentRecord.youth_id == youth_id) == 0
    assert _count(OneTimeToken, OneTimeToken.youth_id == youth_id) == 0
    assert _count(OutboxMessage, OutboxMessage.youth_id == youth_id) == 0
    # the statistics keep the visit and the sign-up (now cancelled, the place freed)
    assert _count(db.metadata.tables["attendance"].c.id.table) == 1
    signup = db.session.scalar(select(Signup).where(Signup.youth_id == youth_id))
    assert signup.status == SignupStatus.CANCELLED
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "youth.anonymise"))
    assert event.details == {"reason": "closed_by_user"} and event.user_id is None


def test_staff_cannot_use_the_close_page(client, world):
    client.login_as(world.staff_a)
    assert client.post_form("/account/close", {"password": "correct horse battery", "confirm": "y"}).status_code == 403
    assert db.session.get(User, world.staff_a.id).active


def test_closing_keeps_staff_records_that_point_at_the_login(app, world):
    """Rows that name the young person's login as actor (e.g. who cancelled) survive its deletion."""
    signup = world.signup
    signup.status, signup.cancelled_by_id = SignupStatus.CANCELLED, world.youth_user.id
    db.session.commit()
    with app.test_request_context():
        services.anonymise_youth(world.youth, reason="test")
        db.session.commit()
    assert db.session.get(Signup, signup.id).cancelled_by_id is None


# -- retention -----------------------------------------------------------------------

def test_months_before_clamps_to_the_end_of_month():
    assert services.months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert services.months_before(datetime(2026, 1, 15, tzinfo=UTC), 24) == datetime(2024, 1, 15, tzinfo=UTC)


def test_purge_moves_time_forward(app, world):
    now = datetime.now(UTC)
    staff_made = make_youth(first_name="Karla", district=world.district_b)
    staff_made.contact = "karla@example.org"
    sign_up(staff_made, world.activity_b)
    _token(youth_id=world.youth.id, expires_in=timedelta(hours=1))
    _token(TokenPurpose.CLAIM, youth_id=staff_made.id, expires_in=timedelta(days=14))
    _mail(youth_id=world.youth.id)
    db.session.add(ApiToken(user_id=world.coordinator.id, name="old", token_hash="a" * 64, prefix="yc_a",
                            expires_at=now + timedelta(days=30)))
    db.session.commit()

    # today: nothing is old enough
    with app.test_request_context():
        assert services.purge(now=now) == {"anonymised": 0, "tokens": 0, "invitations": 0, "api_tokens": 0, "outbox": 0}

    # 25 months on, Aisha has been back in the meantime (a visit 13 months from now): Karla and Bo go
    later = now + timedelta(days=25 * 31)
    visit = make_session(world.activity_a, day=(now + timedelta(days=13 * 31)).date())
    attend(world.youth, visit)
    db.session.commit()
    with app.test_request_context():
        counts = services.purge(now=later, retention_months=24)
        db.session.commit()
    # Karla's claim code went with her profile; Aisha's expired reset link is deleted as expired
    assert counts == {"anonymised": 2, "tokens": 1, "invitations": 0, "api_tokens": 1, "outbox": 1}
    assert _count(OneTimeToken) == 0
    db.session.expire_all()
    karla = db.session.get(YouthProfile, staff_made.id)
    assert karla.anonymised_at is not None and karla.first_name == services.ANONYMOUS_NAME and karla.contact is None
    assert karla.home_district_id == world.district_b.id
    assert db.session.get(YouthProfile, world.youth.id).anonymised_at is None
    assert db.session.get(YouthProfile, world.other_youth.id).anonymised_at is not None

    # running it again the same day changes nothing (safe to run daily)
    with app.test_request_context():
        assert services.purge(now=later, retention_months=24) == {"anonymised": 0, "tokens": 0, "invitations": 0, "api_tokens": 0, "outbox": 0}


def test_purge_counts_other_youth_by_last_activity(app, world):
    """Bo signed up today: 23 months on he is kept, 25 months on he is anonymised."""
    now = datetime.now(UTC)
    with app.test_request_context():
        assert services.purge(now=now + timedelta(days=23 * 30))["anonymised"] == 0
        assert services.purge(now=now + timedelta(days=25 * 31))["anonymised"] == 2  # Aisha and Bo
        db.session.commit()
    assert db.session.get(User, world.youth_user.id) is None  # Aisha's login is gone too


def test_purge_command(app, world):
    long_ago = datetime.now(UTC) - timedelta(days=3 * 365)
    old = make_youth(first_name="Gammel")
    old.created_at = old.last_active_at = long_ago
    _mail(created_at=long_ago)
    db.session.commit()
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Would purge: anonymised=1" in dry.output
    db.session.expire_all()
    assert db.session.get(YouthProfile, old.id).anonymised_at is None
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0 and "anonymised=1" in result.output and "outbox=1" in result.output
    db.session.expire_all()
    assert db.session.get(YouthProfile, old.id).first_name == services.ANONYMOUS_NAME
    again = runner.invoke(args=["purge"])
    assert "anonymised=0" in again.output and "outbox=0" in again.output
    assert runner.invoke(args=["purge", "--months", "0"]).exit_code != 0


def test_retention_months_is_configurable(app, world):
    old = make_youth(first_name="Halvgammel")
    old.created_at = old.last_active_at = datetime.now(UTC) - timedelta(days=200)
    db.session.commit()
    app.config["RETENTION_MONTHS"] = 6
    result = app.test_cli_runner().invoke(args=["purge"])
    assert "anonymised=1" in result.output


# -- the privacy page ----------------------------------------------------------------

def test_privacy_page_in_danish_and_english(client):
    page = client.get("/privacy").get_data(as_text=True)
    for words in ("Hvad gemmer vi?", "offentlig opgave", "24 måneder", "Hvem kan se det?", "Lukke din konto", "Datatilsynet"):
        assert words in page, words
    client.post_form("/language", {"lang": "en", "next": "/privacy"})
    page = client.get("/privacy").get_data(as_text=True)
    for words in ("What do we store?", "public task", "24 months", "Who can see it?", "Datatilsynet"):
        assert words in page, words


def test_every_page_links_to_the_privacy_page(client):
    assert 'href="/privacy"' in client.get("/login").get_data(as_text=True)


# -- audit ---------------------------------------------------------------------------

def test_user_creation_and_role_changes_are_audited_without_personal_data(client, world):
    client.login_as(world.admin)
    client.post_form("/admin/users/new", {"name": "Ny Koordinator", "email": "ny.k@example.org",
                                          "password": "lang nok adgangskode", "role": "coordinator"})
    user = db.session.scalar(select(User).where(User.email == "ny.k@example.org"))
    client.post_form(f"/admin/users/{user.id}", {"role": "staff", "institution_id": str(world.inst_a.id)})
    membership = next(m for m in db.session.get(User, user.id).memberships if m.role == "staff")
    client.post_form(f"/admin/users/{user.id}/roles/{membership.id}/delete")
    client.post_form(f"/admin/users/{user.id}/active")
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.object_id == user.id,
                                                         AuditEvent.object_type == "user")).all()
    actions = [e.action for e in events]
    for action in ("user.create", "role.grant", "role.revoke", "user.deactivate"):
        assert action in actions, actions
    assert all(e.user_id == world.admin.id for e in events)
    dumped = json.dumps([e.details for e in events])
    assert "Ny Koordinator" not in dumped and "ny.k@example.org" not in dumped


@pytest.fixture
def audit_trail(world):
    from youthclub.audit.services import record_event

    base = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
    for n, (action, who) in enumerate([("roster.view", world.staff_a), ("stats.export", world.coordinator),
                                       ("attendance.correct", world.staff_a), ("roster.view", world.staff_b)]):
        event = record_event(action, world.session_a, user=who, n=n)
        event.created_at = base + timedelta(days=n)
    db.session.commit()
    return base


def test_every_audited_action_has_words_in_the_log():
    """Each code the app records (record_event / audited_page with a literal) has a label, in both languages."""
    import re
    from pathlib import Path

    from youthclub.audit.labels import ACTION_LABELS

    package = Path(__file__).parents[2] / "youthclub"
    codes = set()
    for path in package.rglob("*.py"):
        for call in re.finditer(r'(?:record_event|audited_page)\(\s*((?:"[a-z_.]+"(?:\s+if\s+[^"]+\s+else\s+)?)+)', path.read_text()):
            codes.update(re.findall(r'"([a-z_]+\.[a-z_.]+)"', call.group(1)))
    assert len(codes) > 40
    assert codes - set(ACTION_LABELS) == set()


def test_audit_log_filters(client, world, audit_trail):
    client.login_as(world.coordinator)
    page = client.get("/audit").get_data(as_text=True)
    assert page.count("roster.view</code>") == 2 and "stats.export</code>" in page
    # in words, and the filters offer the words
    assert page.count("Deltagerliste set<br>") == 2 and "Statistik eksporteret<br>" in page
    assert '<option value="roster.view">Deltagerliste set</option>' in page and '<option value="session">gang</option>' in page
    page = client.get("/audit?action=roster.view").get_data(as_text=True)
    assert page.count("roster.view</code>") == 2 and "stats.export</code>" not in page
    page = client.get(f"/audit?user={world.staff_a.id}").get_data(as_text=True)
    assert "attendance.correct</code>" in page and "stats.export</code>" not in page
    page = client.get("/audit?user=staff.b@example.org").get_data(as_text=True)
    assert page.count("roster.view</code>") == 1 and "attendance.correct</code>" not in page
    page = client.get("/audit?date_from=2026-05-11&date_to=2026-05-12").get_data(as_text=True)
    assert "stats.export</code>" in page and "attendance.correct</code>" in page and "roster.view</code>" not in page
    page = client.get("/audit?object_type=session").get_data(as_text=True)
    assert page.count("</code>") >= 4
    # nonsense filters are ignored or match nothing, never an error
    for query in ("date_from=yesterday", "user=%27;DROP", "page=-3", "action=<script>"):
        assert client.get(f"/audit?{query}").status_code == 200, query
    # a user id no row can have is a clear refusal (the outside test got a 500 for it)
    assert client.get("/audit?user=99999999999999999999").status_code == 400
    assert client.get("/audit?user=%00%27;DROP").status_code == 400


def test_audit_log_is_for_coordinators_and_admins(client, world, audit_trail):
    for user in (world.staff_a, world.inst_admin_a, world.youth_user):
        client.login_as(user)
        assert client.get("/audit").status_code == 403
    client.login_as(world.admin)
    assert client.get("/audit").status_code == 200


WHAT_STAYS = ("Tilbage bliver kun, uden navn: dit fødselsår og -måned, dit køn, dit område, hvornår du blev "
              "oprettet og sidst var aktiv, hvad du var tilmeldt, og hvornår og hvor du kom. Så passer tallene stadig.")


def test_every_page_that_says_what_is_left_of_you_says_the_same_and_it_is_what_is_left(client, world, app):
    """Outside audit: the registration notice promised "we delete your information" after two years,
    the privacy page only name and contact, keeping birth month, gender and area, and neither said that
    the visits stay. Each page now says the same sentence, with the configured retention period, and
    closing an account leaves exactly what it names."""
    from tests.factories import PASSWORD
    from youthclub.i18n import local_today

    app.config["RETENTION_MONTHS"] = 18  # the period is the configured one, never a fixed "two years"
    client.post_form("/register", {"first_name": "Sara", "last_name": "", "birth_month": "3",
                                   "birth_year": str(local_today().year - 13), "gender": "pige",
                                   "home_district_id": str(world.district_a.id)})
    pages = {"registration": client.get("/register/login").get_data(as_text=True),
             "privacy": client.get("/privacy").get_data(as_text=True)}
    client.login_as(world.youth_user)
    pages["closing"] = client.get("/account/close").get_data(as_text=True)
    for name, page in pages.items():
        assert WHAT_STAYS in " ".join(page.split()), name
        assert "i to år" not in page and "sletter vi dine oplysninger" not in page, name
    for name in ("registration", "privacy"):
        assert "Har du ikke brugt os i 18 måneder" in pages[name], name

    youth = world.youth
    attend(youth, world.session_a)
    db.session.commit()
    kept = (youth.birth_year, youth.birth_month, youth.gender, youth.home_district_id)
    r = client.post_form("/account/close", {"password": PASSWORD, "confirm": "y"})
    assert r.status_code in (200, 302), r.status_code
    db.session.expire_all()
    youth = db.session.get(YouthProfile, youth.id)
    assert youth.anonymised_at is not None
    # what the sentence names is left, without a name ...
    assert (youth.birth_year, youth.birth_month, youth.gender, youth.home_district_id) == kept
    assert db.session.scalar(select(func.count(Attendance.id)).where(Attendance.youth_id == youth.id)) == 1
    # "hvad du var tilmeldt": the sign-ups stay, cancelled, without anything that names the person
    kept_signups = db.session.scalars(select(Signup).where(Signup.youth_id == youth.id)).all()
    assert kept_signups and all(s.status == SignupStatus.CANCELLED for s in kept_signups)
    assert youth.created_at is not None  # "hvornår du blev oprettet"
    # ... and nothing else that points at the person
    assert (youth.last_name, youth.contact, youth.calendar_token, youth.user_id) == (None, None, None, None)
    assert youth.first_name == services.ANONYMOUS_NAME
