"""Two-step log-in over HTTP: a password alone opens nothing, setting up, the code step, reset."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pyotp
import pytest
from sqlalchemy import select

from tests import second_factor
from tests.factories import PASSWORD, make_user
from youthclub.accounts.services import grant_role
from youthclub.audit.models import AuditEvent
from youthclub.extensions import db
from youthclub.mfa import services as mfa
from youthclub.mfa.views import OPEN_ENDPOINTS
from youthclub.models import Role

from .conftest import route_url

CODES_RE = re.compile(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>")


def _password_only(client, email):
    response = client.post_form("/login", {"email": email, "password": PASSWORD})
    assert response.status_code == 302
    return urlsplit(response.location).path


def _every_get_route(app, world):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint not in OPEN_ENDPOINTS:
            yield rule.endpoint, route_url(app, rule, world)


def _assert_nothing_opens(app, client, world, step):
    for endpoint, url in _every_get_route(app, world):
        response = client.get(url)
        if url.startswith("/api/"):
            assert response.status_code in (401, 403), (endpoint, url, response.status_code)
            if endpoint != "api.openapi":
                assert response.get_json()["error"]["code"] in ("mfa_required", "mfa_enrollment_required", "unauthorized")
        else:
            assert response.status_code == 302, (endpoint, url, response.status_code)
            assert urlsplit(response.location).path == step, (endpoint, url, response.location)


@pytest.mark.parametrize("role", ["admin", "coordinator"])
def test_a_password_alone_opens_nothing_for_an_enrolled_user(app, client, world, role):
    user = world.user(role)
    assert mfa.confirmed_factor(user) is not None  # the world's admin and coordinator have an app
    assert _password_only(client, user.email) == second_factor.CHALLENGE
    _assert_nothing_opens(app, client, world, second_factor.CHALLENGE)
    assert client.get("/api/v1/me").status_code == 401  # not logged in, for the API either


@pytest.mark.parametrize("role", ["admin", "coordinator"])
def test_a_password_alone_opens_nothing_before_the_app_is_set_up(app, client, world, role):
    user = make_user(Role(role))
    assert _password_only(client, user.email) == second_factor.ENROLL
    _assert_nothing_opens(app, client, world, second_factor.ENROLL)


def test_a_logged_in_session_without_the_app_its_role_needs_opens_nothing(app, client, world):
    user = make_user(Role.ADMIN)
    client.login_as(user, second_factor_done=False)  # e.g. a session from before the role needed it
    _assert_nothing_opens(app, client, world, second_factor.ENROLL)
    assert client.get(second_factor.ENROLL).status_code == 200


def test_a_logged_in_session_that_skipped_the_code_is_sent_back(app, client, world):
    client.login_as(world.admin, second_factor_done=False)
    response = client.get("/admin/users")
    assert response.status_code == 302 and urlsplit(response.location).path == second_factor.CHALLENGE
    assert client.get("/api/v1/me").status_code == 401  # and it is logged out meanwhile
    response = client.post_form(second_factor.CHALLENGE, {"code": second_factor.code_for(world.admin.email)})
    assert response.status_code == 302 and urlsplit(response.location).path == "/admin/users"


def test_a_role_granted_meanwhile_leads_to_setting_up(app, client, world):
    client.login_as(world.staff_a)
    assert client.get("/account").status_code == 200
    grant_role(world.staff_a, Role.COORDINATOR)
    response = client.get("/account")
    assert response.status_code == 302 and urlsplit(response.location).path == second_factor.ENROLL
    response = client.get("/api/v1/me")
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "mfa_enrollment_required"


def test_young_people_are_not_asked(app, client, world):
    response = client.post_form("/login", {"email": world.youth.user.email, "password": PASSWORD})
    assert response.status_code == 302 and urlsplit(response.location).path == "/"
    assert client.get("/me/pass").status_code == 200
    assert client.get(second_factor.ENROLL).status_code == 403
    assert "To-trins-login" not in client.get("/account").get_data(as_text=True)


def test_staff_are_asked_where_configured(app, client, world):
    assert _password_only(client, world.staff_a.email) == "/"
    client.post_form("/logout")
    app.config["MFA_REQUIRED_ROLES"] = ["admin", "coordinator", "staff", "institution_admin"]
    assert _password_only(client, world.staff_a.email) == second_factor.ENROLL


def test_setting_up_then_logging_in_with_a_code_and_a_recovery_code(app, client, world):
    email = make_user(Role.COORDINATOR).email
    assert _password_only(client, email) == second_factor.ENROLL
    page = client.get(second_factor.ENROLL).get_data(as_text=True)
    assert "<svg" in page and "Scan QR-koden" in page
    secret = second_factor.secret_on_page(page)
    assert client.get(second_factor.ENROLL).get_data(as_text=True).count(" ".join(secret[i:i + 4] for i in range(0, 32, 4))) == 1
    wrong = client.post_form(second_factor.ENROLL, {"code": "12345x"})
    assert wrong.status_code == 422 and "Koden er forkert" in wrong.get_data(as_text=True)
    done = client.post_form(second_factor.ENROLL, {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = CODES_RE.findall(done.get_data(as_text=True))
    assert len(codes) == 10
    assert client.get("/reports").status_code == 200  # logged in now
    client.post_form("/logout")

    # the next log-in asks for the code; the one used to set up is not accepted again
    assert _password_only(client, email) == second_factor.CHALLENGE
    factor = second_factor.factor_of(email)
    replay = client.post_form(second_factor.CHALLENGE, {"code": pyotp.TOTP(secret).generate_otp(factor.last_step)})
    assert replay.status_code == 401 and "allerede brugt" in replay.get_data(as_text=True)
    assert client.get("/reports").status_code == 302
    ok = client.post_form(second_factor.CHALLENGE, {"code": second_factor.code_for(email)})
    assert ok.status_code == 302 and client.get("/reports").status_code == 200
    client.post_form("/logout")

    # a lost phone: a recovery code, once
    for expected in (302, 401):
        client.post_form("/logout")
        _password_only(client, email)
        response = client.post_form(second_factor.CHALLENGE, {"code": codes[0]})
        assert response.status_code == expected
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("mfa.%")).order_by(AuditEvent.id)).all()
    assert actions == ["mfa.enroll", "mfa.failure", "mfa.success", "mfa.recovery_code_used", "mfa.failure"]


def test_the_code_step_keeps_where_you_were_going(app, client, world):
    response = client.post_form("/login", {"email": world.admin.email, "password": PASSWORD, "next": "/admin/users"})
    assert urlsplit(response.location).path == second_factor.CHALLENGE
    response = client.post_form(second_factor.CHALLENGE, {"code": second_factor.code_for(world.admin.email)})
    assert response.location == "/admin/users"


def test_the_step_between_password_and_code_expires(app, client, world):
    _password_only(client, world.admin.email)
    with client.session_transaction() as sess:
        state = dict(sess["_mfa_pending"])
        state["at"] -= app.config["MFA_PENDING_TTL"].total_seconds() + 1
        sess["_mfa_pending"] = state
    response = client.post_form(second_factor.CHALLENGE, {"code": second_factor.code_for(world.admin.email)})
    assert response.status_code == 302 and urlsplit(response.location).path == "/login"
    assert client.get("/activities").status_code == 200  # an ordinary visitor again


def test_cancelling_between_password_and_code(app, client, world):
    _password_only(client, world.admin.email)
    assert client.post_form("/logout").status_code == 302
    assert client.get("/activities").status_code == 200


def test_staff_may_set_it_up_from_their_account_page(app, client, world):
    client.login_as(world.staff_a)
    page = client.get("/account").get_data(as_text=True)
    assert "Slå to-trins-login til" in page
    secret = second_factor.secret_on_page(client.get(second_factor.ENROLL).get_data(as_text=True))
    done = client.post_form(second_factor.ENROLL, {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and len(CODES_RE.findall(done.get_data(as_text=True))) == 10
    assert client.get("/account").status_code == 200  # this session goes on
    assert "Gendannelseskoder tilbage: 10" in client.get("/account").get_data(as_text=True)
    client.post_form("/logout")
    assert _password_only(client, world.staff_a.email) == second_factor.CHALLENGE


def test_an_admin_resets_a_lost_phone(app, client, world):
    other = app.test_client()
    other.login_as(world.coordinator)
    assert other.get("/reports").status_code == 200
    client.login_as(world.admin)
    page = client.get(f"/admin/users/{world.coordinator.id}").get_data(as_text=True)
    assert "Nulstil to-trins-login" in page
    response = client.post_form(f"/admin/users/{world.coordinator.id}/two-factor/reset")
    assert response.status_code == 302
    assert mfa.factor_of(world.coordinator) is None
    assert other.get("/reports").status_code == 302  # logged out everywhere
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "mfa.reset")).one()
    assert event.user_id == world.admin.id and event.object_id == world.coordinator.id
    assert _password_only(app.test_client(), world.coordinator.email) == second_factor.ENROLL


def test_the_code_step_is_rate_limited_per_account(world, limited_app):
    app = limited_app(RATELIMITS={"mfa": {"ip": "100 per minute", "account": "3 per minute"}})
    client = app.test_client()
    for n in range(3):
        client.environ_base["REMOTE_ADDR"] = f"10.9.0.{n}"
        _password_only(client, world.admin.email)
        assert client.post_form(second_factor.CHALLENGE, {"code": "000000"}).status_code in (401, 302)
        client.post_form("/logout")
    client.environ_base["REMOTE_ADDR"] = "10.9.0.9"
    _password_only(client, world.admin.email)
    response = client.post_form(second_factor.CHALLENGE, {"code": second_factor.code_for(world.admin.email)})
    assert response.status_code == 429  # the same account from another address waits too
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.9.1.1"
    _password_only(other, world.coordinator.email)
    assert other.post_form(second_factor.CHALLENGE, {"code": second_factor.code_for(world.coordinator.email)}).status_code == 302


def test_a_key_seen_by_someone_with_the_password_before_the_owner_sets_up_the_app_does_not_work(app, world):
    """Someone who has the password (before the owner ever set up an app) opens the set-up page and
    notes the key, without confirming. The owner later sets up their app from their own page: that
    key must not be the one the other person saw, or the password alone would be enough again."""
    app.config["MFA_REQUIRED_ROLES"] = ["admin", "coordinator", "staff"]
    email = "staff.a@example.org"
    other, owner = app.test_client(), app.test_client()
    assert _password_only(other, email) == second_factor.ENROLL
    seen = second_factor.secret_on_page(other.get(second_factor.ENROLL).get_data(as_text=True))

    assert _password_only(owner, email) == second_factor.ENROLL
    owners_key = second_factor.secret_on_page(owner.get(second_factor.ENROLL).get_data(as_text=True))
    assert owners_key != seen, "the set-up page shows a second visitor the key a first one already saw"
    owner.second_factor(email)  # the owner's app is set up with the key on their page
    assert second_factor.factor_of(email).confirmed_at is not None

    later = app.test_client()
    assert _password_only(later, email) == second_factor.CHALLENGE
    code = second_factor.usable_code(seen, second_factor.factor_of(email).last_step)
    assert later.post_form(second_factor.CHALLENGE, {"code": code}).status_code == 401


def test_the_set_up_page_keeps_its_key_on_reload_in_the_same_browser(app, client, world):
    app.config["MFA_REQUIRED_ROLES"] = ["admin", "coordinator", "staff"]
    assert _password_only(client, "staff.a@example.org") == second_factor.ENROLL
    first = second_factor.secret_on_page(client.get(second_factor.ENROLL).get_data(as_text=True))
    assert second_factor.secret_on_page(client.get(second_factor.ENROLL).get_data(as_text=True)) == first


FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize("script", [FULL_WIDTH, ARABIC_INDIC])
def test_a_code_in_another_script_s_digits_is_read_as_those_digits(app, client, world, script):
    """Outside test: "１２３４５６" at the code step and at setting up was a 500 (a phone set to Arabic types "١٢٣٤٥٦")."""
    email = make_user(Role.COORDINATOR).email
    assert _password_only(client, email) == second_factor.ENROLL
    secret = second_factor.secret_on_page(client.get(second_factor.ENROLL).get_data(as_text=True))
    wrong = client.post_form(second_factor.ENROLL, {"code": "123456".translate(script)})
    assert wrong.status_code == 422 and "Koden er forkert" in wrong.get_data(as_text=True)
    assert client.post_form(second_factor.ENROLL, {"code": pyotp.TOTP(secret).now().translate(script)}).status_code == 200
    client.post_form("/logout")
    _password_only(client, email)
    for code in ("²³⁴⁵⁶⁷", "123456".translate(script)):  # not digits at all; digits, but not the code
        response = client.post_form(second_factor.CHALLENGE, {"code": code})
        assert response.status_code == 401, code
    ok = client.post_form(second_factor.CHALLENGE, {"code": second_factor.code_for(email).translate(script)})
    assert ok.status_code == 302 and client.get("/reports").status_code == 200
