"""Institution admins invite colleagues by e-mail (who accept, choosing their own password if new) and remove those who leave."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from tests.factories import mailed_link, make_user
from youthclub.accounts.models import ApiToken, Role, StaffInvitation, User
from youthclub.db_types import utcnow
from youthclub.extensions import db
from youthclub.mail.models import OutboxMessage
from youthclub.tokens.services import create_token

NEW = {"name": "Ny Kollega", "email": "ny.kollega@example.org", "role": "staff"}


def _invitation_link(email: str, path: str = "/password/reset/") -> str:
    link = mailed_link(email, path)
    assert link, f"no mail with {path} to {email}"
    return link


def _invite(client, world, **data):
    return client.post_form(f"/institutions/{world.inst_a.id}/staff", {**NEW, **data}, follow_redirects=True)


def test_a_new_colleague_is_invited_and_chooses_a_password_nobody_else_knows(client, world):
    client.login_as(world.inst_admin_a)
    form = client.get(f"/institutions/{world.inst_a.id}/staff").get_data(as_text=True)
    assert 'type="password"' not in form
    response = _invite(client, world)
    page = response.get_data(as_text=True)
    assert "Vi har sendt en invitation til ny.kollega@example.org" in page
    # no login and no role until the invitation is accepted; the list shows the address typed
    assert db.session.scalar(select(User).where(User.email == NEW["email"])) is None
    invited = page.split("Inviteret", 1)[1]
    assert "ny.kollega@example.org" in invited and "Venter på svar" in invited
    link = _invitation_link(NEW["email"], "/invitations/")
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == NEW["email"]))
    assert world.inst_a.name in message.body_text and "7 dage" in message.body_text
    assert link.rsplit("/", 1)[1] not in page  # the admin never sees the link

    client.post_form("/logout")
    form = client.get(link).get_data(as_text=True)
    assert 'value="Ny Kollega"' in form and 'type="password"' in form
    assert client.post_form(link, {"name": "Ny Kollega", "password": "mit eget gode kodeord"}).status_code == 302
    user = db.session.scalar(select(User).where(User.email == NEW["email"]))
    assert user.has_role("staff", world.inst_a.id)
    assert client.login(NEW["email"], "mit eget gode kodeord").status_code == 302
    client.post_form("/logout")
    assert client.get(link).status_code == 404  # used once
    assert db.session.scalar(select(StaffInvitation)) is None


def test_an_invitation_expires(client, world):
    client.login_as(world.inst_admin_a)
    _invite(client, world)
    link = _invitation_link(NEW["email"], "/invitations/")
    invitation = db.session.scalar(select(StaffInvitation))
    assert timedelta(days=6) < invitation.expires_at - utcnow() <= timedelta(days=7)
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert "Udløbet" in client.get(f"/institutions/{world.inst_a.id}/staff").get_data(as_text=True)
    client.post_form("/logout")
    response = client.get(link)
    assert response.status_code == 404 and "Invitationen er udløbet" in response.get_data(as_text=True)


def test_purge_deletes_expired_invitations(client, world):
    from youthclub.privacy.services import purge

    client.login_as(world.inst_admin_a)
    _invite(client, world)
    assert purge()["invitations"] == 0
    assert purge(now=utcnow() + timedelta(days=8))["invitations"] == 1
    assert db.session.scalar(select(StaffInvitation)) is None


def _visible_answer(response) -> str:
    """The page as the inviter sees it, with the address typed and the per-session parts taken out."""
    from tests.conftest import CSRF_RE

    html = CSRF_RE.sub("", response.get_data(as_text=True))
    return re.sub(r"/invitations/\d+/", "/invitations/N/", html)


def test_inviting_an_address_tells_nothing_about_who_has_it(app, world):
    """A colleague elsewhere, a young person and a new address: the same answer and list, no name."""
    world.staff_b.name = "Hemmelig Hansen"
    db.session.commit()
    answers = {}
    for email in ("staff.b@example.org", "ung@example.org", "ny.kollega@example.org"):
        client = app.test_client()
        client.login_as(world.inst_admin_a)
        answers[email] = _visible_answer(_invite(client, world, email=email)).replace(email, "EMAIL")
        db.session.execute(delete(StaffInvitation))  # each answer on its own list
        db.session.commit()
    assert len(set(answers.values())) == 1
    page = answers["staff.b@example.org"]
    assert "Hemmelig Hansen" not in page and "Aisha" not in page and "Der findes allerede" not in page
    # nothing is given until the owner says yes
    db.session.expire_all()
    assert not world.staff_b.has_role("staff", world.inst_a.id)
    # the mailbox learns which case it is
    bodies = {m.to_address: m.body_text for m in db.session.scalars(select(OutboxMessage))}
    assert "log ind" in bodies["staff.b@example.org"] and "/invitations/" in bodies["staff.b@example.org"]
    assert "ung persons konto" in bodies["ung@example.org"] and "/invitations/" not in bodies["ung@example.org"]


def test_inviting_does_the_same_work_for_every_address(app, world, monkeypatch):
    from youthclub.accounts import invitations

    counts = {}

    def counting(name, real):
        def wrapper(*args, **kwargs):
            counts[name] = counts.get(name, 0) + 1
            if name == "send_mail":
                counts["after_response"] = kwargs.get("after_response")
            return real(*args, **kwargs)
        return wrapper

    for name in ("hash_secret", "render_message", "send_mail"):
        monkeypatch.setattr(invitations, name, counting(name, getattr(invitations, name)))
    work = []
    for email in ("staff.b@example.org", "ung@example.org", "ny.kollega@example.org"):
        counts.clear()
        client = app.test_client()
        client.login_as(world.inst_admin_a)
        _invite(client, world, email=email)
        work.append(dict(counts))
    assert work[0] == work[1] == work[2] == {"hash_secret": 1, "render_message": 1, "send_mail": 1,
                                             "after_response": True}


def test_a_colleague_with_a_login_logs_in_and_accepts(app, world):
    client = app.test_client()
    client.login_as(world.inst_admin_a)
    _invite(client, world, email="Staff.B@example.org", role="institution_admin")
    link = _invitation_link("staff.b@example.org", "/invitations/")

    someone_else = app.test_client()
    someone_else.login_as(world.staff_a)
    assert someone_else.get(link).status_code == 403  # the link alone gives nothing to another login
    owner = app.test_client()
    assert "/login" in owner.get(link).headers["Location"]
    owner.login("staff.b@example.org")
    assert "Tag imod invitationen" in owner.get(link).get_data(as_text=True)
    assert owner.post_form(link).status_code == 302
    db.session.expire_all()
    assert world.staff_b.has_role("institution_admin", world.inst_a.id)
    # now a member, shown by name
    assert "Personale B" in client.get(f"/institutions/{world.inst_a.id}/staff").get_data(as_text=True)


def test_a_young_persons_address_cannot_accept(app, world):
    client = app.test_client()
    client.login_as(world.inst_admin_a)
    _invite(client, world, email="ung@example.org")
    invitation = db.session.scalar(select(StaffInvitation))
    from youthclub.accounts import invitations

    secret = "a-known-secret"
    invitation.token_hash = invitations.hash_secret(secret)
    db.session.commit()
    young = app.test_client()
    young.login("ung@example.org")
    assert young.get(f"/invitations/{secret}").status_code == 409
    with pytest.raises(invitations.AccountError):
        invitations.accept_invitation(secret, world.youth_user)
    db.session.rollback()
    assert not world.youth_user.memberships


def test_an_invitation_is_withdrawn_and_its_link_stops_working(client, world):
    client.login_as(world.inst_admin_a)
    _invite(client, world)
    link = _invitation_link(NEW["email"], "/invitations/")
    invitation = db.session.scalar(select(StaffInvitation))
    other = client.application.test_client()
    other.login_as(world.staff_b)  # not an admin of institution A
    assert other.post_form(f"/institutions/{world.inst_a.id}/invitations/{invitation.id}/withdraw").status_code == 403
    response = client.post_form(f"/institutions/{world.inst_a.id}/invitations/{invitation.id}/withdraw",
                                follow_redirects=True)
    assert "er trukket tilbage" in response.get_data(as_text=True)
    client.post_form("/logout")
    assert client.get(link).status_code == 404


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
