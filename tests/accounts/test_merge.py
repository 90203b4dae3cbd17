"""Merging two profiles of one young person: everything moves, nothing is counted twice, nothing leaks."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests import factories as fx
from youthclub.accounts import youth_services
from youthclub.accounts.merge import MOVED_TABLES, MergeError, merge_youths
from youthclub.accounts.models import ConsentKind, ConsentRecord, OneTimeToken, TokenPurpose, YouthProfile
from youthclub.attendance import services as attendance
from youthclub.attendance.models import Attendance
from youthclub.audit.models import AuditEvent
from youthclub.extensions import db
from youthclub.i18n import local_today
from youthclub.reports.visit_counts import find_differences
from youthclub.signups.models import Signup, SignupStatus


def _staff_made(world, institution=None, last_name=None, **kw) -> YouthProfile:
    youth = fx.make_youth(first_name=kw.pop("first_name", "Zara"), **kw)
    youth.registered_by_institution_id = (institution or world.inst_a).id
    youth.last_name = last_name
    db.session.flush()
    return youth


def _sessions(youth) -> list[int]:
    return sorted(db.session.scalars(select(Attendance.session_id).where(Attendance.youth_id == youth.id)))


def _signups(activity) -> list[tuple]:
    return [(s.youth_id, str(s.status), s.position) for s in db.session.scalars(
        select(Signup).where(Signup.activity_id == activity.id, Signup.status != SignupStatus.CANCELLED)
        .order_by(Signup.status, Signup.position, Signup.youth_id))]


def test_attendances_move_and_a_shared_session_counts_once(app, world):
    keep, remove = _staff_made(world), _staff_made(world)
    earlier = fx.make_session(world.activity_a, local_today() - timedelta(days=40))
    fx.attend(keep, world.session_a)
    fx.attend(remove, world.session_a)
    fx.attend(remove, earlier)
    db.session.commit()
    keep_id, remove_id = keep.id, remove.id

    merge_youths(keep, remove, world.staff_a)
    db.session.commit()

    keep = db.session.get(YouthProfile, keep_id)
    assert db.session.get(YouthProfile, remove_id) is None
    assert _sessions(keep) == sorted([world.session_a.id, earlier.id])
    assert find_differences() == (0, [])
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "youth.merge"))
    assert event.object_id == keep_id and event.details["removed_youth_id"] == remove_id
    assert event.details["duplicate_visits"] == 1 and event.user_id == world.staff_a.id


def test_a_place_beats_the_waitlist_and_the_line_closes_up(app, world):
    activity = fx.make_activity(world.inst_a, capacity=2)
    keep, remove, first, behind = (_staff_made(world) for _ in range(4))
    fx.sign_up(remove, activity)
    fx.sign_up(first, activity)
    fx.sign_up(keep, activity, SignupStatus.WAITLISTED, position=1)
    fx.sign_up(behind, activity, SignupStatus.WAITLISTED, position=2)
    db.session.commit()

    merge_youths(keep, remove, world.staff_a)
    db.session.commit()
    assert sorted(_signups(activity)) == sorted([
        (keep.id, "confirmed", None), (first.id, "confirmed", None), (behind.id, "waitlisted", 1)])


def test_two_places_become_one_and_the_freed_place_goes_to_the_next_in_line(app, world):
    activity = fx.make_activity(world.inst_a, capacity=2)
    keep, remove, waiting, behind = (_staff_made(world) for _ in range(4))
    fx.sign_up(keep, activity)
    fx.sign_up(remove, activity)
    fx.sign_up(waiting, activity, SignupStatus.WAITLISTED, position=1)
    fx.sign_up(behind, activity, SignupStatus.WAITLISTED, position=2)
    db.session.commit()

    merge_youths(keep, remove, world.staff_a)
    db.session.commit()
    assert sorted(_signups(activity)) == sorted([
        (keep.id, "confirmed", None), (waiting.id, "confirmed", None), (behind.id, "waitlisted", 1)])


def test_two_waitlist_places_keep_the_earlier(app, world):
    activity = fx.make_activity(world.inst_a, capacity=0)
    keep, remove, middle = (_staff_made(world) for _ in range(3))
    fx.sign_up(remove, activity, SignupStatus.WAITLISTED, position=1)
    fx.sign_up(middle, activity, SignupStatus.WAITLISTED, position=2)
    fx.sign_up(keep, activity, SignupStatus.WAITLISTED, position=3)
    db.session.commit()

    merge_youths(keep, remove, world.staff_a)
    db.session.commit()
    assert _signups(activity) == [(keep.id, "waitlisted", 1), (middle.id, "waitlisted", 2)]


def test_the_removed_pass_is_revoked_and_points_at_the_kept_profile(app, world):
    keep, remove = _staff_made(world), _staff_made(world)
    old_token, kept_token = remove.pass_token, keep.pass_token
    merge_youths(keep, remove, world.staff_a)
    db.session.commit()
    assert attendance.resolve_token(kept_token).id == keep.id
    with pytest.raises(attendance.CheckinError) as refused:
        attendance.resolve_token(old_token)
    assert refused.value.code == "revoked_token" and refused.value.details["youth_id"] == keep.id


def test_consents_claim_codes_and_the_login_move(app, world):
    keep = _staff_made(world)
    remove = _staff_made(world, with_login=True, email="zara@example.org")
    remove.last_name, remove.contact = "Hansen", "zara@example.org"
    db.session.add(ConsentRecord(youth_id=remove.id, kind=ConsentKind.PHOTOS, notice_version="1"))
    code = youth_services.issue_claim_code(keep)
    db.session.commit()
    login_id = remove.user_id

    merge_youths(keep, remove, world.staff_a)
    db.session.commit()
    assert keep.user_id == login_id and keep.last_name == "Hansen" and keep.contact == "zara@example.org"
    assert db.session.scalar(select(func.count(ConsentRecord.id)).where(ConsentRecord.youth_id == keep.id)) == 1
    # the kept profile now has a login: its claim code is spent
    assert youth_services.find_token(TokenPurpose.CLAIM, code) is None
    assert db.session.scalar(select(func.count(OneTimeToken.id)).where(OneTimeToken.youth_id == keep.id)) == 1


def test_a_claim_code_moves_to_a_kept_profile_without_login(app, world):
    keep, remove = _staff_made(world), _staff_made(world)
    code = youth_services.issue_claim_code(remove)
    merge_youths(keep, remove, world.staff_a)
    db.session.commit()
    assert youth_services.claim_profile(code, "zara@example.org", "fodbold er fedt").id == keep.id


def test_two_logins_are_not_merged(app, world):
    keep = _staff_made(world, with_login=True)
    remove = _staff_made(world, with_login=True)
    with pytest.raises(MergeError) as refused:
        merge_youths(keep, remove, world.staff_a)
    assert refused.value.code == "both_have_login"


@pytest.mark.parametrize("who", ["staff_b", "coordinator"])
def test_only_the_registering_institution_or_an_admin_merges(app, world, who):
    keep, remove = _staff_made(world), _staff_made(world)
    with pytest.raises(MergeError) as refused:
        merge_youths(keep, remove, world.user(who))
    assert refused.value.code == "forbidden"
    mixed = _staff_made(world, world.inst_b)
    with pytest.raises(MergeError):
        merge_youths(keep, mixed, world.staff_a)
    with pytest.raises(MergeError):
        merge_youths(keep, world.youth, world.staff_a)  # self-registered
    merge_youths(keep, mixed, world.admin)


def test_every_table_that_points_at_a_young_person_is_moved(app):
    pointing = {fk.parent.table.name for table in db.metadata.tables.values() for fk in table.foreign_keys
                if fk.column.table.name == "youth_profile"}
    assert pointing == MOVED_TABLES, "a new table holds young people: move its rows in merge_youths"


def test_the_confirm_page_shows_both_and_merges_on_post(client, world):
    keep, remove = _staff_made(world, last_name="Ali"), _staff_made(world, last_name="Berg")
    fx.attend(remove, world.session_b)  # at institution B: not for A's staff to see
    fx.attend(remove, world.session_a)
    db.session.commit()
    remove_id = remove.id
    client.login_as(world.staff_a)
    youth_page = client.get(f"/youths/{keep.id}").get_data(as_text=True)
    assert f"/youths/{keep.id}/merge/{remove.id}" in youth_page and "Samme unge to gange?" in youth_page
    page = client.get(f"/youths/{keep.id}/merge/{remove.id}").get_data(as_text=True)
    assert "Zara Ali" in page and "Zara Berg" in page and "Slettes" in page
    assert "<dt>Fremmøder</dt><dd>1</dd>" in page and "<dt>Fremmøder</dt><dd>0</dd>" in page
    assert client.post(f"/youths/{keep.id}/merge/{remove.id}").status_code == 400  # no CSRF token
    done = client.post_form(f"/youths/{keep.id}/merge/{remove.id}")
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/youths/{keep.id}")
    assert db.session.get(YouthProfile, remove_id) is None
    assert find_differences() == (0, [])
