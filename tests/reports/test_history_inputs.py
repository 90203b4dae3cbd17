"""What the figures read about the past stays true through every change: a sign-up's confirmation
history (``confirmed_at`` .. ``cancelled_at``) and the capacity each session offered.

Random sequences of sign-ups, cancellations, account closures and capacity changes, through the
services every path uses (the views, the API and the CLI call them); the invariants are checked
after every step.
"""
from __future__ import annotations

import contextlib
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories as fx
from tests.conftest import _empty_tables
from youthclub.activities.services import ActivityError, update_activity
from youthclub.db_types import utcnow
from youthclub.extensions import db
from youthclub.i18n import local_today
from youthclub.models import Signup, SignupStatus
from youthclub.privacy.services import anonymise_youth
from youthclub.signups.services import cancel_signup, sign_up


def _check(activity, started: dict) -> None:
    now = utcnow()
    for s in db.session.query(Signup).all():
        if s.status == SignupStatus.CONFIRMED:
            assert s.confirmed_at is not None and s.confirmed_at <= now and s.cancelled_at is None, s
        elif s.status == SignupStatus.WAITLISTED:
            assert s.confirmed_at is None and s.cancelled_at is None, s
        else:
            assert s.cancelled_at is not None and (s.confirmed_at is None or s.confirmed_at <= s.cancelled_at), s
    for session in activity.sessions:
        if session.id in started:
            assert session.capacity == started[session.id], "a held session keeps the places it offered"
        else:
            assert session.capacity == activity.capacity, "a coming session offers the activity's places"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_confirmation_history_and_session_capacity_hold_after_every_step(app, data):
    try:
        district = fx.make_district()
        activity = fx.make_activity(fx.make_institution(district), requires_signup=True, capacity=2, waitlist_enabled=True)
        today = local_today()
        for days in (-14, -7, 7, 14):
            fx.make_session(activity, today + timedelta(days=days))
        db.session.flush()
        started = {s.id: s.capacity for s in activity.sessions if s.starts_at <= utcnow()}
        youths = [fx.make_youth() for _ in range(4)]
        _check(activity, started)
        for _ in range(data.draw(st.integers(1, 10))):
            step = data.draw(st.sampled_from(["sign_up", "cancel", "capacity", "close"]))
            if step == "sign_up":
                youth = data.draw(st.sampled_from(youths))
                if youth.anonymised_at is None and not db.session.query(Signup).filter(
                        Signup.youth_id == youth.id, Signup.status != SignupStatus.CANCELLED).count():
                    sign_up(youth, activity)
            elif step == "cancel":
                active = db.session.query(Signup).filter(Signup.status != SignupStatus.CANCELLED).order_by(Signup.id).all()
                if active:
                    cancel_signup(data.draw(st.sampled_from(active)), by_user=None)
            elif step == "capacity":
                with contextlib.suppress(ActivityError):  # below the confirmed places: refused, nothing changed
                    update_activity(activity, capacity=data.draw(st.sampled_from([None, 1, 2, 3])))
            else:
                # an account closed (or anonymised by the retention purge): its places are freed
                youth = data.draw(st.sampled_from(youths))
                if youth.anonymised_at is None:
                    anonymise_youth(youth, reason="closed_by_user")
            db.session.flush()
            db.session.expire_all()
            _check(activity, started)
    finally:
        db.session.rollback()
        _empty_tables()
