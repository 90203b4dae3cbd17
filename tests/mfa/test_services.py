"""The second-factor rules: window, replay, recovery codes, who must use one, reset."""
from __future__ import annotations

import pyotp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.factories import make_user, make_youth
from youthclub.audit.models import AuditEvent
from youthclub.extensions import db
from youthclub.mfa import services as mfa
from youthclub.mfa.models import RecoveryCode
from youthclub.models import Role

T0 = 1_800_000_000.0  # a fixed moment, on a step boundary (1_800_000_000 / 30 is whole)


def _enrolled(user, at=T0):
    factor = mfa.begin_enrollment(user)
    codes = mfa.confirm_enrollment(user, pyotp.TOTP(factor.secret).at(at), at=at)
    return factor.secret, codes


def _actions(user):
    return [e.action for e in db.session.scalars(select(AuditEvent).where(AuditEvent.object_id == user.id,
                                                                          AuditEvent.action.like("mfa.%"))
                                                 .order_by(AuditEvent.id))]


def test_a_wrong_code_does_not_confirm_the_app(app):
    user = make_user(Role.ADMIN)
    right = pyotp.TOTP(mfa.begin_enrollment(user).secret).at(T0)
    with pytest.raises(mfa.MfaError) as err:
        mfa.confirm_enrollment(user, str((int(right) + 1) % 10**6).zfill(6), at=T0)
    assert err.value.code == "invalid_code"
    assert mfa.confirmed_factor(user) is None


def test_setting_up_gives_ten_recovery_codes_stored_hashed(app):
    user = make_user(Role.ADMIN)
    secret, codes = _enrolled(user)
    assert len(codes) == mfa.RECOVERY_CODE_COUNT == len(set(codes))
    stored = db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)
    assert mfa.confirmed_factor(user) is not None and _actions(user) == ["mfa.enroll"]
    # the app cannot be set up a second time over the first
    with pytest.raises(mfa.MfaError) as err:
        mfa.begin_enrollment(user)
    assert err.value.code == "already_enrolled"


def test_a_valid_code_is_accepted_once(app):
    user = make_user(Role.ADMIN)
    secret, _ = _enrolled(user, at=T0 - 60)
    code = pyotp.TOTP(secret).at(T0)
    assert mfa.verify_second_factor(user, code, at=T0) == "totp"
    with pytest.raises(mfa.MfaError):
        mfa.verify_second_factor(user, code, at=T0 + 5)  # replayed within its step
    with pytest.raises(mfa.MfaError):
        mfa.verify_second_factor(user, code, at=T0 + 30)  # replayed within the window
    assert mfa.verify_second_factor(user, pyotp.TOTP(secret).at(T0 + 30), at=T0 + 30) == "totp"
    assert _actions(user) == ["mfa.enroll", "mfa.success", "mfa.failure", "mfa.failure", "mfa.success"]


@pytest.mark.parametrize("offset,accepted", [(-60, False), (-30, True), (0, True), (30, True), (60, False)])
def test_the_window_is_one_step_either_way(app, offset, accepted):
    user = make_user(Role.COORDINATOR)
    secret, _ = _enrolled(user, at=T0 - 3600)
    code = pyotp.TOTP(secret).at(T0 + offset)
    if accepted:
        assert mfa.verify_second_factor(user, code, at=T0) == "totp"
    else:
        with pytest.raises(mfa.MfaError):
            mfa.verify_second_factor(user, code, at=T0)


def test_an_older_code_after_a_newer_one_is_refused(app):
    user = make_user(Role.ADMIN)
    secret, _ = _enrolled(user, at=T0 - 3600)
    totp = pyotp.TOTP(secret)
    assert mfa.verify_second_factor(user, totp.at(T0 + 30), at=T0) == "totp"  # the next step's code, a fast clock
    with pytest.raises(mfa.MfaError):
        mfa.verify_second_factor(user, totp.at(T0), at=T0)


def test_a_recovery_code_works_once(app):
    user = make_user(Role.ADMIN)
    _, codes = _enrolled(user)
    assert mfa.verify_second_factor(user, codes[0].upper().replace("-", " "), at=T0 + 300) == "recovery"
    assert mfa.remaining_recovery_codes(user) == 9
    with pytest.raises(mfa.MfaError):
        mfa.verify_second_factor(user, codes[0], at=T0 + 330)
    assert mfa.verify_second_factor(user, codes[1], at=T0 + 360) == "recovery"
    assert _actions(user) == ["mfa.enroll", "mfa.recovery_code_used", "mfa.failure", "mfa.recovery_code_used"]


def test_another_users_recovery_code_does_not_work(app):
    alice, bob = make_user(Role.ADMIN), make_user(Role.ADMIN)
    _enrolled(alice)
    _, bobs = _enrolled(bob)
    with pytest.raises(mfa.MfaError):
        mfa.verify_second_factor(alice, bobs[0], at=T0 + 60)


def test_who_must_use_a_second_factor(app):
    app.config["MFA_REQUIRED_ROLES"] = ["admin", "coordinator"]
    admin, coordinator = make_user(Role.ADMIN), make_user(Role.COORDINATOR)
    staff, youth = make_user(Role.STAFF, institution=None), make_youth(with_login=True).user
    assert mfa.is_required(admin) and mfa.is_required(coordinator)
    assert not mfa.is_required(staff) and not mfa.needs_second_factor(staff)
    app.config["MFA_REQUIRED_ROLES"] = ["admin", "coordinator", "staff", "institution_admin"]
    assert mfa.is_required(staff)
    assert not mfa.is_required(youth) and not mfa.needs_second_factor(youth)  # young people are never asked
    with pytest.raises(mfa.MfaError) as err:
        mfa.begin_enrollment(youth)
    assert err.value.code == "not_allowed"


def test_someone_who_set_it_up_voluntarily_is_asked_too(app):
    staff = make_user(Role.STAFF)
    assert not mfa.needs_second_factor(staff)
    _enrolled(staff)
    assert mfa.needs_second_factor(staff)


def test_reset_removes_the_app_and_ends_sessions(app):
    admin, user = make_user(Role.ADMIN), make_user(Role.COORDINATOR)
    _enrolled(user)
    version = user.session_version
    mfa.reset_factor(user, admin)
    assert mfa.factor_of(user) is None and mfa.remaining_recovery_codes(user) == 0
    assert user.session_version == version + 1
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "mfa.reset")).one()
    assert event.user_id == admin.id and event.object_id == user.id
    assert mfa.needs_second_factor(user)  # and at the next log-in the app is set up again
    assert mfa.begin_enrollment(user).confirmed_at is None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(-2, 2)), min_size=1, max_size=12))
def test_no_code_is_ever_accepted_twice(app, attempts):
    """Random sequences of (steps the clock moves on, which step's code is typed): after every
    attempt, a code was accepted exactly when its step lies within one step of the clock and is
    later than every step accepted before (a plain-Python reference of the rule)."""
    user = make_user(Role.ADMIN)
    secret, _ = _enrolled(user, at=T0 - 3600)
    totp, now, last = pyotp.TOTP(secret), T0, int((T0 - 3600) // 30)
    for advance, typed in attempts:
        now += advance * 30
        step = int(now // 30) + typed
        expected = abs(typed) <= 1 and step > last
        try:
            mfa.verify_second_factor(user, totp.generate_otp(step), at=now)
            accepted = True
        except mfa.MfaError:
            accepted = False
        assert accepted == expected, (step, last)
        last = step if accepted else last
        assert mfa.factor_of(user).last_step == last
