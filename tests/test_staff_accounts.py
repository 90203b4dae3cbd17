"""Institution admins invite new colleagues (who choose their own password) and remove those who leave."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from tests.factories import make_user
from youthclub.accounts.models import ApiToken, OneTimeToken, Role, User
from youthclub.db_types import utcnow
from youthclub.extensions import db
from youthclub.mail.models import OutboxMessage
from youthclub.tokens.services import create_token

NEW = {"name": "Ny Kollega", "email": "ny.kollega@example.org", "role": "staff"}


def _invitation_link(email: str) -> str:
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == email))
    assert message is not None, "no invitation mail"
    match = re.search(r"https?://\S+/password/reset/(\S+)", message.body_text)
    assert match, message.body_text
    return "/password/reset/" + match.group(1)


def test_a_new_colleague_is_invited_and_chooses_a_password_nobody_else_knows(client, world):
    client.login_as(world.inst_admin_a)
    form = client.get(f"/institutions/{world.inst_a.id}/staff").get_data(as_text=True)
    assert 'type="password"' not in form
    response = client.post_form(f"/institutions/{world.inst_a.id}/staff", NEW, follow_redirects=True)
    assert "har fået en mail med et link" in response.get_data(as_text=True)
    user = db.session.scalar(select(User).where(User.email == NEW["email"]))
    assert user.password_hash is None and user.has_role("staff", world.inst_a.id)
    link = _invitation_link(NEW["email"])
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == NEW["email"]))
    assert world.inst_a.name in message.body_text and "7 dage" in message.body_text
    assert link.rsplit("/", 1)[1] not in response.get_data(as_text=True)  # the admin never sees the link

    client.post_form("/logout")
    page = client.get(link).get_data(as_text=True)
    assert "Vælg din adgangskode" in page
    assert client.post_form(link, {"password": "mit eget gode kodeord"}).status_code == 302
    assert client.login(NEW["email"], "mit eget gode kodeord").status_code == 302
    client.post_form("/logout")
    assert client.get(link).status_code == 404  # used once


def test_an_invitation_expires(client, world):
    client.login_as(world.inst_admin_a)
    client.post_form(f"/institutions/{world.inst_a.id}/staff", NEW)
    link = _invitation_link(NEW["email"])
    token = db.session.scalar(select(OneTimeToken).order_by(OneTimeToken.id.desc()))
    assert timedelta(days=6) < token.expires_at - utcnow() <= timedelta(days=7)
    token.expires_at = utcnow() - timedelta(minutes=1)
    client.post_form("/logout")
    response = client.get(link)
    assert response.status_code == 404 and "Bed om et nyt link" in response.get_data(as_text=True)


def test_an_admin_may_leave_the_password_to_the_new_user(client, world):
    client.login_as(world.admin)
    response = client.post_form("/admin/users/new", {**NEW, "institution_id": str(world.inst_a.id), "password": ""})
    assert response.status_code == 302
    assert db.session.scalar(select(User).where(User.email == NEW["email"])).password_hash is None
    assert _invitation_link(NEW["email"])


def test_removing_someone_who_left_ends_their_sessions_and_tokens_at_once(app, world):
    leaver, admin = app.test_client(), app.test_client()
    assert leaver.login("staff.a@example.org").status_code == 302
    assert leaver.get("/account").status_code == 200
    _token, secret = create_token(world.staff_a, "scanner")
    db.session.commit()
    assert leaver.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200

    admin.login_as(world.inst_admin_a)
    response = admin.post_form(f"/institutions/{world.inst_a.id}/staff/{world.staff_a.id}/remove", follow_redirects=True)
    assert "er fjernet fra" in response.get_data(as_text=True)

    assert leaver.get("/account").status_code == 302  # logged out
    assert leaver.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    db.session.expire_all()
    assert world.staff_a.memberships == [] and not world.staff_a.active
    assert all(t.revoked_at is not None for t in db.session.scalars(select(ApiToken)))
    assert leaver.login("staff.a@example.org").status_code == 401


def test_someone_who_also_works_elsewhere_keeps_that_role(client, world):
    both = make_user(Role.STAFF, world.inst_a, email="begge@example.org", name="Begge Steder")
    both.memberships[0].user.memberships.append(type(both.memberships[0])(role=Role.STAFF, institution_id=world.inst_b.id))
    db.session.commit()
    client.login_as(world.inst_admin_a)
    client.post_form(f"/institutions/{world.inst_a.id}/staff/{both.id}/remove")
    db.session.expire_all()
    assert both.active and [m.institution_id for m in both.memberships] == [world.inst_b.id]


def test_an_admin_removes_only_their_own_institutions_staff_and_not_themselves(client, world):
    client.login_as(world.inst_admin_a)
    assert client.post_form(f"/institutions/{world.inst_a.id}/staff/{world.staff_b.id}/remove").status_code == 404
    assert client.post_form(f"/institutions/{world.inst_b.id}/staff/{world.staff_b.id}/remove").status_code == 403
    response = client.post_form(f"/institutions/{world.inst_a.id}/staff/{world.inst_admin_a.id}/remove",
                                follow_redirects=True)
    assert "Du kan ikke fjerne dig selv" in response.get_data(as_text=True)
    db.session.expire_all()
    assert world.staff_b.active and world.inst_admin_a.memberships
