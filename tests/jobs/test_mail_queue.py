"""Mail on the job queue: a request never waits for the mail server; workers deliver each message once."""
from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests import factories as fx
from tests.jobs.conftest import wait_for
from youthclub.extensions import db
from youthclub.i18n import local_today
from youthclub.mail.models import OutboxMessage
from youthclub.signups import services as signups
from youthclub.signups.models import SignupStatus


def outbox_rows():
    db.session.commit()  # a fresh snapshot: the web instances and workers wrote meanwhile
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_a_mail_server_that_never_answers_slows_no_request_and_the_mail_goes_out_when_it_recovers(
        world, smtp, processes, web):
    activity = fx.make_activity(world.inst_a, title="Klatring", capacity=1)
    fx.make_session(activity, day=local_today() + timedelta(days=5))
    first = fx.make_youth(with_login=True, email="first@example.org")
    waiting = fx.make_youth(with_login=True, email="waiting@example.org")
    newcomer = fx.make_youth(with_login=True, email="newcomer@example.org")
    mine = signups.sign_up(first, activity)
    signups.sign_up(waiting, activity)
    db.session.commit()
    smtp.hang()  # accepts the connection, never says a word
    processes.start("w1")
    # the web instance knows the mail server too (as in production): it just never talks to it
    site = web(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_TIMEOUT=10)
    processes.wait_ready("w1")

    timings = {}

    def timed(what, post):
        started = time.monotonic()
        response = post()
        timings[what] = time.monotonic() - started
        assert response.status_code == 302

    anonymous = site.session()
    timed("password reset", lambda: anonymous.post_form("/password/forgot", {"email": "first@example.org"}))
    as_newcomer = site.session()
    as_newcomer.login("newcomer@example.org")
    timed("sign-up", lambda: as_newcomer.post_form(f"/activities/{activity.id}/signup", {}, page="/me/activities"))
    as_first = site.session()
    as_first.login("first@example.org")
    timed("cancellation that gives the next in line a place",
          lambda: as_first.post_form(f"/signups/{mine.id}/cancel", {}, page="/me/activities"))
    assert all(seconds < 1 for seconds in timings.values()), timings

    expected = {"first@example.org", "waiting@example.org"}  # the reset link, and the place
    assert {m.to_address for m in outbox_rows()} == expected
    # the worker tried while the server hung: it gave up on that attempt and waits to try again
    wait_for(lambda: all(m.last_error for m in outbox_rows()), what="a failed first attempt")
    assert smtp.messages == []
    smtp.recover()
    wait_for(lambda: len(smtp.messages) == 2 and all(m.sent_at for m in outbox_rows()), what="delivery after recovery")
    assert {m["To"] for m in smtp.messages} == expected
    assert all(m.attempts >= 2 and m.last_error is None for m in outbox_rows())
    assert newcomer.id  # signed up too (on the waitlist): that request wrote no mail


def test_two_workers_and_two_web_instances_deliver_200_messages_exactly_once_even_when_a_worker_dies(
        world, smtp, processes, web):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SKIP LOCKED claims under real concurrency (SQLite has one writer)")
    # ten full offers with ten in line each (so the cancellations do not all queue for one offer's lock)
    signup_ids = []
    for a in range(10):
        activity = fx.make_activity(world.inst_a, title=f"Svømning {a}", capacity=10)
        fx.make_session(activity, day=local_today() + timedelta(days=6))
        for i in range(a * 10, a * 10 + 10):
            placed = fx.make_youth(with_login=True, email=f"placed{i}@example.org")
            signup_ids.append(fx.sign_up(placed, activity).id)
        for i in range(a * 10, a * 10 + 10):
            queued = fx.make_youth()
            queued.contact = f"queued{i}@example.org"
            fx.sign_up(queued, activity, status=SignupStatus.WAITLISTED, position=i - a * 10 + 1)
    db.session.commit()
    staff_email = world.staff_a.email
    smtp.start()
    smtp.hold("queued0@example.org")  # its first delivery hangs in DATA until the worker is killed
    # a held DATA must outlast the moment it takes to kill its worker (MAIL_TIMEOUT); the lease is long
    # enough that a worker starved of CPU on a busy machine still finishes inside its claim
    processes.start("w1", MAIL_TIMEOUT="3", OUTBOX_LEASE_SECONDS="30")
    processes.start("w2", MAIL_TIMEOUT="3", OUTBOX_LEASE_SECONDS="30")
    processes.start("beat", kind="scheduler", OUTBOX_SWEEP_SECONDS="1", OUTBOX_LEASE_SECONDS="30")  # the sweep picks up what a dead worker held
    sites = [web(), web()]
    processes.wait_ready("w1", "w2", "beat")

    staff = [site.session() for site in sites]
    for browser in staff:
        browser.login(staff_email)
    tokens = [browser.get("/password/forgot").text for browser in staff]
    from tests.conftest import CSRF_RE

    tokens = [CSRF_RE.search(html).group(1) for html in tokens]

    def promote(i):  # a staff cancellation gives the next in line the place (one mail)
        browser, token = staff[i % 2], tokens[i % 2]
        return browser.post(f"/signups/{signup_ids[i]}/staff-cancel", data={"csrf_token": token, "reason": "Syg"}).status_code

    resetters = [site.session() for site in sites]
    reset_tokens = [CSRF_RE.search(b.get("/password/forgot").text).group(1) for b in resetters]

    def reset(i):  # a reset link to each of the young people who got a place (one mail)
        browser, token = resetters[i % 2], reset_tokens[i % 2]
        return browser.post("/password/forgot", data={"csrf_token": token, "email": f"placed{i}@example.org"}).status_code

    engine, killed, in_flight = db.engine, [], set()

    def kill_the_sender():  # the worker that is sending queued0's place dies in the middle of the conversation
        assert smtp.holding.wait(30), "queued0's mail never reached the server"
        with engine.connect() as conn:
            holder = conn.scalar(select(OutboxMessage.claimed_by).where(OutboxMessage.to_address == "queued0@example.org"))
        pids = {name: processes.pid_of(name) for name in ("w1", "w2")}
        dead = [name for name, pid in pids.items() if holder and holder.startswith(f"{pid}-")]
        assert len(dead) == 1, (holder, pids)
        processes.kill(dead[0])
        # what the dead worker still held: the held message, and any its other threads were sending
        # (a message the server took an instant before the kill, not yet marked sent, goes out again
        # with the same Message-ID, which receiving mail systems drop; that is the one copy allowed)
        with engine.connect() as conn:
            in_flight.update(conn.scalars(select(OutboxMessage.id).where(
                OutboxMessage.claimed_by.startswith(f"{pids[dead[0]]}-"))))
        killed.append(dead[0])
        smtp.release()

    with ThreadPoolExecutor(9) as pool:
        killer = pool.submit(kill_the_sender)
        statuses = list(pool.map(promote, range(100))) + list(pool.map(reset, range(100)))
        killer.result(timeout=40)
    assert statuses == [302] * 200

    wait_for(lambda: len(smtp.messages) >= 200 and db.session.scalar(
        select(func.count(OutboxMessage.id)).where(OutboxMessage.sent_at.is_(None))) == 0,
        timeout=120, what="200 deliveries")
    time.sleep(1.5)  # a second sweep, and any straggler, has had its chance to send one twice
    assert len(outbox_rows()) == 200
    copies = Counter(smtp.ids())
    twice = {message_id for message_id, n in copies.items() if n > 1}
    assert max(copies.values()) <= 2, copies.most_common(3)
    assert all(message_id.split(".")[0].removeprefix("<outbox-") in {str(i) for i in in_flight} for message_id in twice), (
        "a message no dying worker was sending was delivered twice", twice, in_flight)
    assert len(copies) == 200
    expected = {f"placed{i}@example.org" for i in range(100)} | {f"queued{i}@example.org" for i in range(100)}
    assert {m["To"] for m in smtp.messages} == expected
    killed = next(m for m in outbox_rows() if m.to_address == "queued0@example.org")
    assert killed.sent_at is not None and killed.attempts == 2  # the attempt that died counted


def test_the_numbers_for_monitoring_follow_the_queue_and_the_outbox(app, web):
    """queue_depth() counts jobs no worker took yet; the outbox numbers count what waits and what failed."""
    from youthclub.jobs import stats
    from youthclub.mail.services import send_mail

    site = web()
    with site.app.app_context():
        assert stats.queue_depth() == 0
        send_mail("ung@example.org", "Hej", "tekst")
        send_mail("ung2@example.org", "Hej", "tekst")
        db.session.commit()  # one job for the two messages, and no worker runs
        assert stats.queue_depth() == 1
        assert stats.mail_waiting_count() == 2 and stats.failed_count() == 0
        assert 0 <= stats.oldest_mail_age_seconds() < 60
        assert stats.failed_scheduled_runs() == 0
    assert stats.queue_depth() is None  # the test app runs its jobs in-process
