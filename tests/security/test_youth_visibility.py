"""Who may see what of a young person, over random worlds.

After every step of a random sequence (sign-ups, cancellations, visits, registrations by staff,
anonymisation), for every user × young person: the young person's page and the scanner's
name search show them iff a plain-Python reading of the rule says so, the page lists only
the viewer's institutions' sign-ups, and a manual check-in of someone not visible is a 404.
"""
from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

import tests.factories as fx
from tests.conftest import _empty_tables
from youthclub.accounts.access import can_see_youth
from youthclub.accounts.models import Role, YouthProfile
from youthclub.attendance.models import Attendance
from youthclub.db_types import utcnow
from youthclub.extensions import db
from youthclub.signups.models import Signup, SignupStatus

OPERATIONS = ("sign_up", "waitlist", "cancel", "attend", "register", "anonymise")


def expected_visible(user, youth) -> bool:
    """The rule in words: admins see everyone; staff see who takes part in, or was registered at, their institutions."""
    if youth.anonymised_at is not None:
        return False
    if user.is_admin:
        return True
    mine = user.institution_ids()
    places = {youth.registered_by_institution_id}
    places |= {s.activity.institution_id for s in db.session.scalars(select(Signup).where(Signup.youth_id == youth.id))}
    places |= {a.session.activity.institution_id
               for a in db.session.scalars(select(Attendance).where(Attendance.youth_id == youth.id))}
    return bool(mine & places)


def expected_signups(user, youth) -> set[str]:
    """The active sign-ups a viewer sees on the young person's page: their own institutions' only."""
    mine = None if user.is_admin else user.institution_ids()
    return {s.activity.title for s in db.session.scalars(select(Signup).where(Signup.youth_id == youth.id))
            if s.status != SignupStatus.CANCELLED and (mine is None or s.activity.institution_id in mine)}


class Town:
    def __init__(self):
        district = fx.make_district(code="8")
        self.institutions = [fx.make_institution(district, name=f"Klub {i}") for i in range(3)]
        self.activities = [fx.make_activity(inst, title=f"Tilbud-{i}-{j}")
                           for i, inst in enumerate(self.institutions) for j in range(2)]
        self.sessions = [fx.make_session(activity) for activity in self.activities]
        self.youths = [fx.make_youth(first_name=f"Ungnavn{k}") for k in range(4)]
        self.staff = [fx.make_user(Role.STAFF, self.institutions[0]), fx.make_user(Role.INSTITUTION_ADMIN, self.institutions[1])]
        both = fx.make_user(Role.STAFF, self.institutions[1])
        both.memberships.append(fx.Membership(role=Role.STAFF, institution_id=self.institutions[2].id))
        self.staff.append(both)
        self.users = [*self.staff, fx.make_user(Role.COORDINATOR), fx.make_user(Role.ADMIN)]
        db.session.commit()


def _apply(town: Town, data, op: str) -> None:
    youth = data.draw(st.sampled_from(town.youths))
    if op in ("sign_up", "waitlist"):
        activity = data.draw(st.sampled_from(town.activities))
        if db.session.scalar(select(Signup).where(Signup.youth_id == youth.id, Signup.activity_id == activity.id)) is None:
            status = SignupStatus.CONFIRMED if op == "sign_up" else SignupStatus.WAITLISTED
            fx.sign_up(youth, activity, status=status, position=None if op == "sign_up" else 1)
    elif op == "cancel":
        signups = db.session.scalars(select(Signup).where(Signup.youth_id == youth.id)).all()
        if signups:
            signup = data.draw(st.sampled_from(signups))
            signup.status, signup.position, signup.cancelled_at = SignupStatus.CANCELLED, None, utcnow()
    elif op == "attend":
        session = data.draw(st.sampled_from(town.sessions))
        if db.session.scalar(select(Attendance).where(Attendance.youth_id == youth.id,
                                                      Attendance.session_id == session.id)) is None:
            fx.attend(youth, session)
    elif op == "register":
        youth.registered_by_institution_id = data.draw(st.sampled_from(town.institutions)).id
    elif op == "anonymise":
        youth.anonymised_at = utcnow()
    db.session.commit()


def _check(app, town: Town) -> None:
    client = app.test_client()
    for user in town.users:
        client.login_as(user)
        door = next((s for s in town.sessions if s.activity.institution_id in user.institution_ids()), None)
        found = None
        if door is not None:
            answer = client.get(f"/sessions/{door.id}/youth-search?q=ungnavn")
            assert answer.status_code == 200
            found = {row["id"] for row in answer.json["results"]}
        for youth in db.session.scalars(select(YouthProfile)).all():
            visible = expected_visible(user, youth)
            assert can_see_youth(user, youth) == visible
            page = client.get(f"/youths/{youth.id}")
            assert page.status_code == (200 if visible else 404), (user.email, youth.id)
            if visible:
                text = page.get_data(as_text=True)
                shown = {a.title for a in town.activities if a.title in text}
                assert shown == expected_signups(user, youth), (user.email, youth.id)
            if found is not None:
                assert (youth.id in found) == visible
            if door is not None and not visible:
                answer = client.api("POST", f"/api/v1/sessions/{door.id}/checkins",
                                    json={"youth_id": youth.id, "nonce": str(uuid.uuid4())})
                assert answer.status_code == 404 and answer.json["error"]["code"] == "not_found"
        db.session.expire_all()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_pages_and_api_show_a_young_person_iff_the_policy_does(app, data):
    try:
        town = Town()
        for op in data.draw(st.lists(st.sampled_from(OPERATIONS), min_size=1, max_size=8)):
            _apply(town, data, op)
            _check(app, town)
    finally:
        db.session.rollback()
        _empty_tables()


def test_staff_see_only_their_own_institutions_part_of_a_young_person(client, world):
    """The outside test's case: staff A saw "Pigeklub" at institution B on the young person's page."""
    fx.sign_up(world.youth, fx.make_activity(world.inst_b, title="Pigeklub"))
    client.login_as(world.staff_a)
    page = client.get(f"/youths/{world.youth.id}").get_data(as_text=True)
    assert world.activity_a.title in page and "Pigeklub" not in page
    client.login_as(world.admin)
    assert "Pigeklub" in client.get(f"/youths/{world.youth.id}").get_data(as_text=True)
    client.login_as(world.coordinator)
    assert client.get(f"/youths/{world.youth.id}").status_code == 404


def test_staff_cannot_make_a_claim_code_for_a_profile_another_institution_registered(client, world):
    """A claim code attaches a login to a staff-made profile; whoever claims it reads the whole profile
    (every institution's sign-ups and visits, in "my data"). Staff of A see a young person registered
    by B who came to A once: a code made by A would hand A all of B's part (and void B's printed code)."""
    from tests.factories import attend, make_youth, sign_up

    youth = make_youth(first_name="Nadia")
    youth.registered_by_institution_id = world.inst_b.id
    sign_up(youth, world.activity_b)
    attend(youth, world.session_a, recorded_by=world.staff_a)
    db.session.commit()
    client.login_as(world.staff_a)
    assert client.get(f"/youths/{youth.id}").status_code == 200  # A sees its own part of her
    response = client.post_form(f"/youths/{youth.id}/claim-code")
    assert response.status_code in (403, 404), "staff of A made a claim code for a profile B registered"
    client.login_as(world.staff_b)
    assert client.post_form(f"/youths/{youth.id}/claim-code").status_code == 200  # B, who registered her, may
