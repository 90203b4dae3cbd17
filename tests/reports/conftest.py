"""Figures with known small cells: institution A has 2 young people, C has 7, B has 12."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

import pytest

from tests import factories as fx
from youthclub.extensions import db
from youthclub.i18n import local_today, to_utc
from youthclub.models import Gender


@dataclass
class Figures:
    world: object
    inst_c: object
    activity_c: object
    year: int


def started_today(*sessions) -> None:
    """Start ``sessions`` at midnight today (local time): held by now whatever the hour the test runs at."""
    for session in sessions:
        session.starts_at = to_utc(local_today(), time(0, 0))
        session.ends_at = session.starts_at + timedelta(hours=2)


@pytest.fixture
def figures(world):
    """Visits this year: A 2 girls (the world's young people), B 12 (boys and girls), C 7 girls; a formula-shaped name on C."""
    w = world
    today = local_today()
    year = today.year
    inst_c = fx.make_institution(w.district_b, name="=HYPERLINK(\"http://evil.example\",\"Klik\")")
    activity_c = fx.make_activity(inst_c, title="@SUM(1+1)", requires_signup=False, capacity=None)
    session_c = fx.make_session(activity_c, today)
    started_today(w.session_a, w.session_b, session_c)
    fx.attend(w.youth, w.session_a)
    fx.attend(w.other_youth, w.session_a)
    for i in range(12):
        youth = fx.make_youth(birth_year=year - 14, gender=Gender.DRENG if i % 2 else Gender.PIGE, district=w.district_b)
        fx.attend(youth, w.session_b)
    for _ in range(7):
        youth = fx.make_youth(birth_year=year - 14, gender=Gender.PIGE, first_name="Hemmelignavn")
        fx.attend(youth, session_c)
    db.session.commit()
    return Figures(w, inst_c, activity_c, year)


def year_args(year: int) -> dict:
    return {"from": date(year, 1, 1).isoformat(), "to": date(year, 12, 31).isoformat()}



def _visits(**where):
    from sqlalchemy import select

    from youthclub.models import Activity, Attendance, Session, YouthProfile

    stmt = (select(Attendance.id, YouthProfile.id.label("youth_id"), YouthProfile.record_key).select_from(Attendance)
            .join(YouthProfile, YouthProfile.id == Attendance.youth_id).join(Session, Session.id == Attendance.session_id)
            .join(Activity, Activity.id == Session.activity_id))
    if "district" in where:
        stmt = stmt.where(Activity.district_id == where["district"].id)
    return db.session.execute(stmt).all()


def visits_cell_key(**where) -> int:
    """The cell key of a count of visits computed the plain way: each visit adds its young person's record key."""
    return sum(v.record_key for v in _visits(**where)) % 256


def people_cell_key(**where) -> int:
    """The cell key of a count of young people: the record keys of the distinct visitors added up."""
    return sum(dict((v.youth_id, v.record_key) for v in _visits(**where)).values()) % 256
