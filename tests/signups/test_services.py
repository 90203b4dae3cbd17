"""Sign-up rules, the waitlist, the signal receivers and reminders (service level)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import make_activity, make_session, make_youth
from youthclub import signals
from youthclub.activities import services as activities
from youthclub.activities.models import ActivityStatus
from youthclub.db_types import utcnow
from youthclub.extensions import db
from youthclub.i18n import local_today
from youthclub.mail.models import OutboxMessage
from youthclub.signups import services
from youthclub.signups.models import SignupStatus


def _youths(n, **kw):
    return [make_youth(with_login=True, email=f"ung{i}-{id(kw)}@example.org", **kw) for i in range(n)]


@pytest.fixture
def small(world):
    """An activity with 2 places and a waitlist."""
    return make_activity(world.inst_a, title="Klatring", capacity=2)


def test_confirmed_until_full_then_waitlist_in_order(world, small):
    people = _youths(5)
    results = [services.sign_up(y, small) for y in people]
    assert [r.status for r in results] == [SignupStatus.CONFIRMED] * 2 + [SignupStatus.WAITLISTED] * 3
    assert [r.position for r in results] == [None, None, 1, 2, 3]


@pytest.mark.parametrize(
    "change, code, status",
    [
        (dict(status=ActivityStatus.DRAFT), "not_open", 422),
        (dict(status=ActivityStatus.CANCELLED), "not_open", 422),
        (dict(requires_signup=False), "signup_not_required", 422),
        (dict(min_age=18, max_age=24), "outside_age", 422),
        (dict(signup_opens_at=utcnow() + timedelta(days=1)), "window_closed", 422),
        (dict(signup_closes_at=utcnow() - timedelta(minutes=1)), "window_closed", 422),
        (dict(capacity=0, waitlist_enabled=False), "full_waitlist_closed", 409),
    ],
)
def test_refusals_have_codes(world, change, code, status):
    activity = make_activity(world.inst_a, **change)
    with pytest.raises(services.SignupError) as err:
        services.sign_up(world.other_youth, activity)
    assert err.value.code == code and err.value.status == status
    assert err.value.message


def test_age_is_checked_by_birth_month(world):
    today = local_today()
    activity = make_activity(world.inst_a, min_age=13, max_age=13)
    # 13 this month (born on the 1st of this month 13 years ago), 12 when born next month
    thirteen = make_youth(birth_year=today.year - 13, birth_month=today.month)
    assert services.sign_up(thirteen, activity).status == SignupStatus.CONFIRMED
    if today.month < 12:
        twelve = make_youth(birth_year=today.year - 13, birth_month=today.month + 1)
        with pytest.raises(services.SignupError, match="aldersgruppe"):
            services.sign_up(twelve, activity)


def test_twice_is_refused_even_when_waitlisted(world, small):
    services.sign_up(world.other_youth, small)
    with pytest.raises(services.SignupError) as err:
        services.sign_up(world.other_youth, small)
    assert err.value.code == "already_signed_up"


def test_cancel_promotes_next_and_renumbers(world, small):
    a, b, c, d, e = _youths(5)
    first = services.sign_up(a, small)
    services.sign_up(b, small)
    w1, w2, w3 = (services.sign_up(y, small) for y in (c, d, e))
    received = []
    signals.signup_promoted.connect(lambda s: received.append(s.id), weak=False)
    try:
        promoted = services.cancel_signup(first, by_user=a.user, reason="Syg")
    finally:
        signals.signup_promoted.receivers.clear()
    assert [p.id for p in promoted] == [w1.id] == received
    assert w1.status == SignupStatus.CONFIRMED and w1.position is None
    assert (w2.position, w3.position) == (1, 2)
    assert first.status == SignupStatus.CANCELLED and first.cancel_reason == "Syg"
    # a retried cancel changes nothing
    assert services.cancel_signup(first, by_user=a.user) == []
    assert services.count_confirmed(small.id) == 2


def test_leave_waitlist_moves_others_up(world, small):
    people = _youths(5)
    signups = [services.sign_up(y, small) for y in people]
    services.leave_waitlist(signups[2], by_user=people[2].user)
    assert [s.position for s in signups[3:]] == [1, 2]
    assert services.count_confirmed(small.id) == 2
    with pytest.raises(services.SignupError) as err:
        services.leave_waitlist(signups[0], by_user=people[0].user)
    assert err.value.code == "not_waitlisted"


def test_capacity_raise_promotes_and_a_capacity_below_the_confirmed_is_refused(world, small):
    people = _youths(5)
    signups = [services.sign_up(y, small) for y in people]
    activities.update_activity(small, capacity=4)
    assert [s.status for s in signups] == [SignupStatus.CONFIRMED] * 4 + [SignupStatus.WAITLISTED]
    assert signups[4].position == 1
    # a lowered capacity demotes nobody: below the confirmed places it is refused
    with pytest.raises(activities.ActivityError) as err:
        activities.update_activity(small, capacity=3)
    assert err.value.code == "capacity_below_confirmed" and err.value.field == "capacity"
    assert small.capacity == 4 and services.count_confirmed(small.id) == 4
    # an unlimited offer takes everyone who waits
    activities.update_activity(small, capacity=None)
    assert all(s.status == SignupStatus.CONFIRMED for s in signups)


def test_promotion_writes_one_mail_in_the_recipients_language(world, small):
    a, b, c = _youths(3)
    c.user.locale = "en"
    first = services.sign_up(a, small)
    services.sign_up(b, small)
    services.sign_up(c, small)
    make_session(small, day=local_today() + timedelta(days=3))
    services.cancel_signup(first, by_user=a.user)
    services.promote_waitlist(small)  # nothing more to promote; no second mail
    mails = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.to_address == c.user.email)).all()
    assert len(mails) == 1
    assert "Klatring" in mails[0].subject and "place" in mails[0].subject.lower()
    assert "/me/activities" in mails[0].body_text


def test_session_cancelled_signal_mails_confirmed_people_only(world, small):
    a, b, c = _youths(3)
    for y in (a, b, c):
        services.sign_up(y, small)
    session = make_session(small, day=local_today() + timedelta(days=2))
    session.cancelled_at = utcnow()
    session.cancel_reason = "Hallen er lukket"
    signals.session_changed.send(session, change="cancelled")
    signals.session_changed.send(session, change="cancelled")  # sent twice: mailed once
    mails = db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.to_address)).all()
    assert sorted(m.to_address for m in mails) == sorted([a.user.email, b.user.email])
    assert all("Hallen er lukket" in m.body_text and m.subject.startswith("Aflyst") for m in mails)


def test_session_moved_and_activity_cancelled_signals(world, small):
    a, b = _youths(2)
    services.sign_up(a, small)
    services.sign_up(b, small)
    session = make_session(small, day=local_today() + timedelta(days=2))
    session.moved_from = session.starts_at
    session.starts_at += timedelta(hours=2)
    session.ends_at += timedelta(hours=2)
    signals.session_changed.send(session, change="moved")
    small.status = ActivityStatus.CANCELLED
    signals.activity_cancelled.send(small)
    subjects = db.session.scalars(db.select(OutboxMessage.subject).where(OutboxMessage.to_address == a.user.email)).all()
    assert sorted(subjects) == sorted(["Nyt tidspunkt: Klatring", "Aflyst: Klatring"])


def test_reminders_go_once_to_tomorrows_participants(world, small):
    a, b, c = _youths(3)
    services.sign_up(a, small)
    services.sign_up(b, small)
    services.sign_up(c, small)  # waitlisted: no reminder
    tomorrow = make_session(small, day=local_today() + timedelta(days=1))
    make_session(small, day=local_today() + timedelta(days=2))  # not tomorrow
    cancelled = make_session(small, day=local_today() + timedelta(days=1))
    cancelled.cancelled_at = utcnow()
    assert services.send_reminders() == 2
    assert services.send_reminders() == 0
    keys = db.session.scalars(db.select(OutboxMessage.dedupe_key)).all()
    assert sorted(keys) == sorted(f"reminder:{tomorrow.id}:{y.id}" for y in (a, b))


def test_staff_cancel_records_who_and_why(world, small):
    signup = services.sign_up(world.other_youth, small)
    services.cancel_signup(signup, by_user=world.staff_a, reason="Holdet er lavet om")
    assert signup.cancelled_by_id == world.staff_a.id
    assert signup.cancel_reason == "Holdet er lavet om"


def test_a_young_persons_sign_up_is_found_by_the_partial_unique_index(app, world):
    """The active sign-up of a young person for an offer (asked before every sign-up, under the offer's
    lock) is one probe of ``uq_signup_active``, not a walk through all the offer's sign-ups."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite plans without statistics: the index it can use is the one it takes")
    from sqlalchemy import event

    activity = make_activity(world.inst_a, title="Koncert", capacity=3)
    youth = make_youth()
    db.session.commit()
    seen = []

    def keep(_conn, _cursor, sql, params, *_args):
        seen.append((sql, params))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        services.active_signup(youth.id, activity.id)
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    sql, params = next((s, p) for s, p in seen if "FROM signup" in s)
    plan = " ".join(row[3] for row in db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params))
    assert "uq_signup_active" in plan, plan
