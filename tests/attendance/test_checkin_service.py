"""The check-in service: every outcome, repeats, revoked passes, offline conflicts."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import make_activity, make_session, make_session_now, make_youth, sign_up
from youthclub.attendance import services
from youthclub.attendance.models import Attendance, CheckinMethod, ScanConflict
from youthclub.extensions import db
from youthclub.i18n import local_today
from youthclub.models import AuditEvent, RevokedPass, SignupStatus
from youthclub.signals import pass_revoked


@pytest.fixture(autouse=True)
def _request(in_request):
    pass


def nonce() -> str:
    return str(uuid.uuid4())


def attendances() -> int:
    return db.session.scalar(select(func.count(Attendance.id)))


def test_pass_token_is_opaque_and_long(world):
    token = world.youth.pass_token
    assert len(token) >= 22  # 160 random bits, URL-safe
    assert world.youth.first_name not in token and str(world.youth.id) != token


def test_signed_up_youth_is_checked_in(world):
    result = services.check_in(world.session_a, world.youth.pass_token, nonce=nonce(), by_user=world.staff_a)
    assert result.created
    a = result.attendance
    assert (a.youth_id, a.session_id, a.method, a.drop_in, a.age_override) == (
        world.youth.id, world.session_a.id, CheckinMethod.QR, False, False)
    assert a.recorded_by_id == world.staff_a.id


def test_same_nonce_is_a_harmless_retry(world):
    n = nonce()
    first = services.check_in(world.session_a, world.youth.pass_token, nonce=n, by_user=world.staff_a)
    again = services.check_in(world.session_a, world.youth.pass_token, nonce=n, by_user=world.staff_a)
    assert not again.created and again.attendance.id == first.attendance.id
    assert attendances() == 1


def test_second_scan_answers_with_the_original_time(world):
    t0 = datetime.now(UTC) - timedelta(minutes=30)
    first = services.check_in(world.session_a, world.youth.pass_token, nonce=nonce(), scanned_at=t0,
                              by_user=world.staff_a)
    second = services.check_in(world.session_a, world.youth.pass_token, nonce=nonce(), by_user=world.staff_a)
    assert not second.created and second.attendance.id == first.attendance.id
    assert second.attendance.scanned_at == t0
    assert attendances() == 1


def test_nonce_reused_for_another_session_is_refused(world):
    n = nonce()
    services.check_in(world.session_a, world.youth.pass_token, nonce=n, by_user=world.staff_a)
    other = make_session(world.activity_a, day=local_today() + timedelta(days=7))
    with pytest.raises(services.CheckinError) as err:
        services.check_in(other, world.youth.pass_token, nonce=n, by_user=world.staff_a)
    assert err.value.code == "nonce_conflict" and err.value.status == 409


@pytest.mark.parametrize("token", ["", "nope", "x" * 300])
def test_unknown_token(world, token):
    with pytest.raises(services.CheckinError) as err:
        services.check_in(world.session_a, token, nonce=nonce(), by_user=world.staff_a)
    assert err.value.code == "unknown_token"
    assert attendances() == 0


def test_revoked_pass_is_refused_at_once_with_its_own_reason(world):
    received = []
    pass_revoked.connect(lambda sender, **kw: received.append(sender), weak=False)
    old = world.youth.pass_token
    new = services.revoke_pass(world.youth, world.staff_a)
    assert new != old and world.youth.pass_token == new
    assert received and received[-1] is world.youth
    stored = db.session.scalar(select(RevokedPass))
    assert stored.token_hash != old and len(stored.token_hash) == 64  # hashed, never the token
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "pass.revoke")) is not None
    with pytest.raises(services.CheckinError) as err:
        services.check_in(world.session_a, old, nonce=nonce(), by_user=world.staff_a)
    assert err.value.code == "revoked_token"
    assert services.check_in(world.session_a, new, nonce=nonce(), by_user=world.staff_a).created


def test_not_signed_up_becomes_drop_in_when_allowed(world):
    stranger = make_youth(first_name="Emil")
    result = services.check_in(world.session_a, stranger.pass_token, nonce=nonce(), by_user=world.staff_a)
    assert result.created and result.attendance.drop_in


def test_not_signed_up_is_refused_without_drop_in(world):
    world.activity_a.allows_drop_in = False
    stranger = make_youth(first_name="Emil")
    with pytest.raises(services.CheckinError) as err:
        services.check_in(world.session_a, stranger.pass_token, nonce=nonce(), by_user=world.staff_a)
    assert err.value.code == "not_signed_up"
    assert err.value.details["youth"]["first_name"] == "Emil"


def test_cancelled_signup_counts_as_not_signed_up(world):
    world.activity_a.allows_drop_in = False
    world.signup.status = SignupStatus.CANCELLED
    with pytest.raises(services.CheckinError) as err:
        services.check_in(world.session_a, world.youth.pass_token, nonce=nonce(), by_user=world.staff_a)
    assert err.value.code == "not_signed_up"


def test_waitlisted_is_refused(world):
    waiting = make_youth(first_name="Ida")
    sign_up(waiting, world.activity_a, status=SignupStatus.WAITLISTED, position=1)
    with pytest.raises(services.CheckinError) as err:
        services.check_in(world.session_a, waiting.pass_token, nonce=nonce(), by_user=world.staff_a)
    assert err.value.code == "waitlisted"


def test_outside_age_is_refused_then_overridden_with_one_tap(world):
    teen_club = make_activity(world.inst_a, min_age=13, max_age=15)
    session = make_session_now(teen_club)
    young = make_youth(first_name="Liv", birth_year=local_today().year - 11)
    sign_up(young, teen_club)
    with pytest.raises(services.CheckinError) as err:
        services.check_in(session, young.pass_token, nonce=nonce(), by_user=world.staff_a)
    assert err.value.code == "outside_age" and err.value.details["youth"]["age"] in (10, 11)
    result = services.check_in(session, young.pass_token, nonce=nonce(), by_user=world.staff_a, override_age=True)
    assert result.created and result.attendance.age_override


def test_age_is_taken_on_the_sessions_date(world):
    # born in December 13 years before the session's year: 12 in June, 13 in December
    club = make_activity(world.inst_a, min_age=13, max_age=15)
    year = local_today().year - 1
    june, december = make_session(club, day=date(year, 6, 10)), make_session(club, day=date(year, 12, 20))
    youth = make_youth(birth_year=year - 13, birth_month=12)
    sign_up(youth, club)
    # scans from back then, recorded late (with a reason, as every late correction)
    late = dict(by_user=world.staff_a, offline=True, reason="synkroniseret sent")
    with pytest.raises(services.CheckinError) as err:
        services.check_in(june, youth.pass_token, nonce=nonce(), scanned_at=june.starts_at, **late)
    assert err.value.code == "outside_age"
    assert services.check_in(december, youth.pass_token, nonce=nonce(), scanned_at=december.starts_at, **late).created


def test_cancelled_session_is_refused(world):
    world.session_a.cancelled_at = datetime.now(UTC)
    with pytest.raises(services.CheckinError) as err:
        services.check_in(world.session_a, world.youth.pass_token, nonce=nonce(), by_user=world.staff_a)
    assert err.value.code == "session_cancelled"


def test_offline_scan_is_accepted_as_it_happened_and_flagged(world):
    when = datetime.now(UTC) - timedelta(minutes=40)
    result = services.check_in(world.session_a, world.youth.pass_token, nonce=nonce(), scanned_at=when,
                               by_user=world.staff_a, offline=True)
    assert result.attendance.method == CheckinMethod.OFFLINE and result.attendance.scanned_at == when


def test_offline_refusal_is_kept_once_as_a_conflict(world):
    old = world.youth.pass_token
    services.revoke_pass(world.youth, world.staff_a)
    n = nonce()
    for _ in range(2):
        with pytest.raises(services.CheckinError) as err:
            services.check_in(world.session_a, old, nonce=n, by_user=world.staff_a, offline=True)
        assert err.value.code == "revoked_token"
    conflicts = db.session.scalars(select(ScanConflict)).all()
    assert len(conflicts) == 1
    assert (conflicts[0].code, conflicts[0].youth_id) == ("revoked_token", world.youth.id)
    assert services.open_conflicts(world.session_a) == conflicts
    services.resolve_conflict(conflicts[0], world.staff_a)
    assert services.open_conflicts(world.session_a) == []


def test_online_refusal_leaves_no_conflict(world):
    with pytest.raises(services.CheckinError):
        services.check_in(world.session_a, "unknown", nonce=nonce(), by_user=world.staff_a)
    assert db.session.scalar(select(func.count(ScanConflict.id))) == 0


def test_device_clock_far_in_the_future_is_refused(world):
    future = datetime.now(UTC) + timedelta(days=2)
    with pytest.raises(services.CheckinError) as err:
        services.check_in(world.session_a, world.youth.pass_token, nonce=nonce(), scanned_at=future,
                          by_user=world.staff_a, offline=True)
    assert err.value.code == "scanned_in_future"
    assert db.session.scalar(select(func.count(Attendance.id))) == 0


def test_device_clock_a_little_ahead_is_taken_as_now(world):
    ahead = datetime.now(UTC) + timedelta(minutes=2)
    result = services.check_in(world.session_a, world.youth.pass_token, nonce=nonce(), scanned_at=ahead,
                               by_user=world.staff_a, offline=True)
    assert result.attendance.scanned_at <= datetime.now(UTC)
