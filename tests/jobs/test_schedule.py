"""The schedule: with the clock moved forward, two schedulers and two workers run each job once per slot."""
from __future__ import annotations

import shutil
import time as clock
from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from tests import factories as fx
from tests.jobs.conftest import wait_for
from youthclub.extensions import db
from youthclub.i18n import LOCAL_TZ, local_today
from youthclub.jobs.models import ScheduledRun
from youthclub.mail.models import OutboxMessage
from youthclub.signups import services as signups

pytestmark = pytest.mark.skipif(shutil.which("faketime") is None,
                                reason="needs faketime (apt-get install faketime; .ci/run installs it)")


def runs():
    db.session.commit()  # a fresh snapshot
    return db.session.scalars(select(ScheduledRun).order_by(ScheduledRun.id)).all()


def start_cluster(processes, at: datetime, phase: str):
    """Two schedulers and two workers whose clocks read ``at`` (and run on from there)."""
    stamp = "@" + at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")  # the processes run with TZ=UTC
    names = [f"{phase}-w1", f"{phase}-w2", f"{phase}-beat1", f"{phase}-beat2"]
    for name in names:
        processes.start(name, "scheduler" if "beat" in name else "worker", faketime=stamp, JOBS_SCHEDULE_SECONDS="0.5")
    processes.wait_ready(*names)
    return names


def test_reminders_go_out_once_per_session_and_young_person_and_purge_once_across_two_schedulers(
        world, smtp, processes):
    day = local_today() + timedelta(days=3)  # the day the clock is moved to
    activity = fx.make_activity(world.inst_a, title="Madklub", capacity=5)
    fx.make_session(activity, day=day + timedelta(days=1))
    fx.make_session(activity, day=day + timedelta(days=1), start=time(19, 0), end=time(20, 0))
    fx.make_session(activity, day=day + timedelta(days=2))  # not tomorrow: no reminder yet
    people = [fx.make_youth(with_login=True, email=f"mad{i}@example.org") for i in range(3)]
    for youth in people:
        signups.sign_up(youth, activity)
    db.session.commit()
    smtp.start()

    ten = datetime.combine(day, time(10, 0), LOCAL_TZ)
    phase = start_cluster(processes, ten, "ten")
    wait_for(lambda: len(smtp.messages) >= 6 and {r.job for r in runs() if r.finished_at} >= {
        "send-reminders", "purge", "expire-tokens", "visit-counts-check"}, timeout=30, what="the first runs")
    clock.sleep(1.5)  # both schedulers send every job several times more in the same slots
    for name in phase:
        processes.stop(name)

    # an hour later: a new slot for the hourly jobs, the same day for purge
    phase = start_cluster(processes, ten + timedelta(hours=1), "eleven")
    wait_for(lambda: Counter(r.job for r in runs() if r.finished_at)["send-reminders"] == 2, timeout=30,
             what="the next hour's reminder run")
    clock.sleep(1.5)
    for name in phase:
        processes.stop(name)

    # what the workers did, from their own logs: each job's work started once per slot
    logs = "".join(processes.logs())
    assert logs.count("scheduled job purge runs for") == 1
    assert logs.count("scheduled job visit-counts-check runs for") == 1
    assert logs.count("scheduled job send-reminders runs for") == 2
    assert logs.count("scheduled job purge already ran for") >= 2  # the other sends found the slot taken
    slots = Counter((r.job, r.slot) for r in runs())
    assert all(n == 1 for n in slots.values()), slots
    by_job = Counter(r.job for r in runs())
    assert by_job["send-reminders"] == 2 and by_job["expire-tokens"] == 2  # hourly: two slots
    assert by_job["purge"] == 1 and by_job["visit-counts-check"] == 1  # daily: one
    assert [r.outcome for r in runs() if r.job == "send-reminders"] == ["6 reminder(s)", "0 reminder(s)"]
    reminders = Counter((m["To"], m["Subject"]) for m in smtp.messages)
    assert len(smtp.messages) == 6  # 3 young people × 2 sessions tomorrow
    keys = db.session.scalars(select(OutboxMessage.dedupe_key)).all()
    assert len(set(keys)) == 6 and all(k.startswith("reminder:") for k in keys)
    assert Counter(m["Message-ID"] for m in smtp.messages).most_common(1)[0][1] == 1
    assert sum(reminders.values()) == 6
