"""Personal API tokens: they expire, need the password to be made, end with the user's sessions, and have a scope."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import PASSWORD
from youthclub.accounts import services as account_services
from youthclub.accounts.models import ApiToken
from youthclub.db_types import utcnow
from youthclub.extensions import db
from youthclub.i18n import local_today
from youthclub.tokens.services import TokenScope, create_token


def _bearer(secret):
    return {"Authorization": f"Bearer {secret}"}


def _me(client, secret):
    return client.get("/api/v1/me", headers=_bearer(secret)).status_code


def test_a_personal_token_expires_after_the_configured_days(app, client, world):
    token, secret = create_token(world.staff_a, "scanner")
    assert timedelta(days=89) < token.expires_at - utcnow() <= timedelta(days=90)
    app.config["API_TOKEN_DAYS"] = 7
    short, _secret = create_token(world.staff_a, "kort")
    assert short.expires_at - utcnow() <= timedelta(days=7)
    db.session.commit()
    assert _me(client, secret) == 200
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert _me(client, secret) == 401


def test_creating_a_token_in_the_browser_needs_the_current_password(client, world):
    client.login_as(world.staff_a)
    refused = client.post_form("/account/tokens", {"name": "Telefon", "password": "not my password"})
    assert refused.status_code == 302
    assert db.session.scalars(select(ApiToken)).all() == []
    assert client.post_form("/account/tokens", {"name": "Telefon"}).status_code == 302
    assert db.session.scalars(select(ApiToken)).all() == []
    made = client.post_form("/account/tokens", {"name": "Telefon", "password": PASSWORD, "scope": "checkin"})
    assert made.status_code == 200 and "yc_" in made.get_data(as_text=True)
    (token,) = db.session.scalars(select(ApiToken)).all()
    assert token.scope == TokenScope.CHECKIN and token.expires_at is not None


def test_password_change_deactivation_and_log_out_everywhere_revoke_tokens(client, world):
    _t1, by_password = create_token(world.staff_a, "a")
    _t2, by_deactivation = create_token(world.staff_b, "b")
    _t3, by_everywhere = create_token(world.inst_admin_a, "c")
    db.session.commit()
    for secret in (by_password, by_deactivation, by_everywhere):
        assert _me(client, secret) == 200

    account_services.change_password(world.staff_a, PASSWORD, "a brand new passphrase 77")
    account_services.set_active(world.staff_b, False)
    db.session.commit()
    assert _me(client, by_password) == 401
    assert _me(client, by_deactivation) == 401
    account_services.set_active(world.staff_b, True)
    db.session.commit()
    assert _me(client, by_deactivation) == 401  # reactivating does not bring old tokens back

    client.login_as(world.inst_admin_a)
    client.post_form("/logout", {"everywhere": "1"})
    assert _me(client, by_everywhere) == 401


def test_a_plain_log_out_keeps_the_door_scanners_token(client, world):
    _token, secret = create_token(world.staff_a, "dør")
    db.session.commit()
    client.login_as(world.staff_a)
    client.post_form("/logout")
    assert _me(client, secret) == 200


def test_a_checkin_token_can_only_check_in(client, world):
    _token, secret = create_token(world.staff_a, "dør", scope=TokenScope.CHECKIN)
    db.session.commit()
    checkin = client.post(f"/api/v1/sessions/{world.session_a.id}/checkins", headers=_bearer(secret),
                          json={"token": world.youth.pass_token, "nonce": str(uuid.uuid4())})
    assert checkin.status_code == 201
    batch = client.post("/api/v1/checkins/batch", headers=_bearer(secret), json={"items": []})
    assert batch.status_code == 200
    # the door's offline mode: a scanner with only this token decides scans from today's roster
    roster = client.get("/api/v1/door/roster", headers=_bearer(secret))
    assert roster.status_code == 200 and str(world.session_a.id) in roster.json["sessions"]
    stats = client.get("/api/v1/stats", headers=_bearer(secret))
    assert stats.status_code == 403 and stats.json["error"]["code"] == "insufficient_scope"
    cancel = client.delete(f"/api/v1/signups/{world.signup.id}", headers=_bearer(secret))
    assert cancel.status_code == 403


def test_create_token_command_takes_scope_and_days(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-token", "staff.a@example.org", "--scope", "checkin", "--days", "30"])
    assert result.exit_code == 0, result.output
    token = db.session.scalar(select(ApiToken))
    assert token.scope == TokenScope.CHECKIN
    assert timedelta(days=29) < token.expires_at - utcnow() <= timedelta(days=30)
    assert runner.invoke(args=["create-token", "staff.a@example.org", "--scope", "everything"]).exit_code != 0
    assert runner.invoke(args=["create-token", "staff.a@example.org", "--days", "0"]).exit_code != 0


def test_a_token_made_without_a_second_factor_does_not_work_once_the_role_needs_one(client, world):
    """Staff (no second factor needed) make a token with the password alone; promoted to coordinator
    or admin, that token must not open what their password alone no longer opens."""

    from tests import second_factor
    from youthclub.accounts.models import Role

    _token, secret = create_token(world.staff_a, "laptop")
    db.session.commit()
    url = f"/api/v1/stats?from={local_today().isoformat()}&to={local_today().isoformat()}&institution={world.inst_b.id}"
    assert client.get(url, headers=_bearer(secret)).status_code == 403  # staff: not another institution

    account_services.grant_role(world.staff_a, Role.COORDINATOR)
    db.session.commit()
    refused = client.get(url, headers=_bearer(secret))
    assert refused.status_code in (401, 403), "a password-only token opens a coordinator's API without a second factor"

    second_factor.enroll(world.staff_a)  # setting the app up later does not bless the old token
    db.session.commit()
    assert client.get(url, headers=_bearer(secret)).status_code in (401, 403)
    _new, fresh = create_token(world.staff_a, "efter koden")
    db.session.commit()
    assert client.get(url, headers=_bearer(fresh)).status_code == 200


def test_resetting_a_second_factor_ends_the_tokens_made_under_it(client, world):
    """A lost phone: the admin resets the app; tokens made under the old factor stop with the sessions."""
    from tests import second_factor
    from youthclub.mfa import services as mfa

    if mfa.confirmed_factor(world.coordinator) is None:
        second_factor.enroll(world.coordinator)
    _token, secret = create_token(world.coordinator, "laptop")
    db.session.commit()
    assert _me(client, secret) == 200
    mfa.reset_factor(world.coordinator, world.admin)
    db.session.commit()
    assert _me(client, secret) == 401
    second_factor.enroll(world.coordinator)
    db.session.commit()
    assert _me(client, secret) == 401


def test_an_admin_removing_a_role_ends_the_tokens_and_sessions_like_leaving_an_institution(client, world, app):
    """The admin's user page removes a role too: the token must not outlive it (nor come back with a new role)."""
    from youthclub.accounts.models import Role

    _token, secret = create_token(world.staff_a, "dør")
    db.session.commit()
    staff_client = app.test_client()
    staff_client.login_as(world.staff_a)
    assert staff_client.get("/account").status_code == 200
    (membership,) = world.staff_a.memberships
    client.login_as(world.admin)
    client.post_form(f"/admin/users/{world.staff_a.id}/roles/{membership.id}/delete")
    db.session.expire_all()
    assert world.staff_a.memberships == []
    account_services.grant_role(world.staff_a, Role.STAFF, world.inst_a.id)  # back later, at the same club
    db.session.commit()
    assert _me(client, secret) == 401, "a role removed by an admin leaves the user's API token working"
    assert staff_client.get("/account").status_code == 302, "a role removed by an admin leaves the session working"


def test_a_token_is_not_made_for_a_role_that_needs_a_second_factor_not_yet_set_up(app, world):
    """The CLI (and any caller) is told at once, instead of handing out a token that opens nothing."""
    from youthclub.accounts.models import Role
    from youthclub.tokens.services import TokenError

    account_services.grant_role(world.staff_a, Role.ADMIN)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["create-token", "staff.a@example.org"])
    assert result.exit_code != 0 and "to-trins-login" in result.output
    with pytest.raises(TokenError):
        create_token(world.staff_a, "x")


def test_a_token_last_used_long_ago_is_touched_even_when_another_writer_came_in_between(app, client, world):
    """SQLite: the token is read in a transaction that only reads (a GET, or a check-in before its
    insert). Another writer commits before the token's last use is written; turning that read into a
    write would now fail (SQLITE_BUSY_SNAPSHOT) and the request answer 503. The last use is written in
    its own short transaction instead."""
    from sqlalchemy import event, text

    from youthclub.accounts.models import ApiToken

    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL writes the last use in the request's transaction, under a row lock")
    token, secret = create_token(world.staff_a, "Scanner")
    db.session.commit()
    token_id = token.id
    done = []

    def another_writer(conn, cursor, statement, *args):
        if not done and statement.lstrip().startswith("SELECT api_token.id"):
            done.append(True)
            with db.engine.connect().execution_options(another_writer=True) as other:
                other.execute(text("UPDATE activity SET title = title || '.'"))  # a real change
                other.commit()

    event.listen(db.engine, "after_cursor_execute", another_writer)
    try:
        r = client.get("/api/v1/me", headers=_bearer(secret))
    finally:
        event.remove(db.engine, "after_cursor_execute", another_writer)
    assert done and r.status_code == 200, r.json
    db.session.remove()
    assert db.session.get(ApiToken, token_id).last_used_at is not None
