"""A synthetic data set for load tests and benchmarks (``youthclub generate-load``), up to a whole city.

Institutions, offers with a weekly rhythm, young people who are an offer's regulars in the
years they are 10–24 (a third of each offer's regulars change every year), their visits,
anonymous head counts, and sign-ups that follow the regulars (a leaver's is cancelled).

The visits go in in bulk: PostgreSQL's COPY (SQLite: batched inserts) with the visit
counts' insert trigger suspended, then the counts of the new sessions are added to
``visit_month`` with one INSERT … SELECT (``visit_counts.add_visit_counts``), so the counts
end exact without a trigger firing per batch. On PostgreSQL a load at least as large as
what a table already holds drops the table's secondary indexes and constraints first and
builds them again after (one sort each instead of 20 million index insertions); the
whole load is one transaction, so a failed load leaves nothing behind.
"""
from __future__ import annotations

import io
import math
import random
import secrets
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select, text

from ..accounts.models import Gender, YouthProfile
from ..activities.models import Activity, ActivityStatus, Category, Session, activity_focus_area, activity_initiative
from ..attendance.models import AgeBand, Attendance, HeadCount
from ..extensions import db
from ..i18n import local_today, to_utc
from ..programme.models import ActionPlan, District, FocusArea, Initiative, Institution, InstitutionKind, Programme
from ..signups.models import Signup, SignupStatus
from .bulk import secondary_indexes_dropped
from .models import VisitMonth
from .visit_counts import add_visit_counts, visit_counts_suspended

#: registered visits per session on average
VISITS_PER_SESSION = 25
#: sessions a week for each generated activity
SESSIONS_PER_WEEK = 2
#: the share of an offer's regulars that stay from one year to the next
STAYING = 2 / 3
#: rows per batched insert (and per progress step of the visits)
BATCH = 5000
#: youngest and oldest age of a regular
AGES = (10, 24)


class Quiet:
    """Progress reporting that says nothing (the command line passes one that draws bars)."""

    @contextmanager
    def bar(self, label: str, length: int):
        yield lambda n: None

    def note(self, message: str) -> None:
        pass


def _ensure_geography(rng, years):
    """The programme, both districts, the three focus areas, and each district's action plan for each of ``years``."""
    programme = db.session.scalar(select(Programme).order_by(Programme.id).limit(1))
    if programme is None:
        programme = Programme(name="Hotspot Nørrebro", starts_on=date(2011, 3, 1), ends_on=date(local_today().year + 2, 12, 31))
        db.session.add(programme)
        db.session.flush()
    districts = {}
    for code, name in (("8", "Indre Nørrebro"), ("12", "Ydre Nørrebro")):
        district = db.session.scalar(select(District).where(District.code == code))
        if district is None:
            district = District(programme=programme, code=code, name=name, note="inkl. rode 157" if code == "12" else None)
            db.session.add(district)
        districts[code] = district
    areas = {a.number: a for a in db.session.scalars(select(FocusArea))}
    titles = {1: "Styrket samordning af den kriminalpræventive indsats",
              2: "Børn og unge med uroskabende adfærd og inklusion",
              3: "Sammenhængskraft i lokalområdet"}
    for number, title in titles.items():
        if number not in areas:
            areas[number] = FocusArea(number=number, title=title)
            db.session.add(areas[number])
    db.session.flush()
    initiatives = []
    for year in years:
        for district in districts.values():
            plan = db.session.scalar(select(ActionPlan).where(ActionPlan.district_id == district.id, ActionPlan.year == year))
            if plan is None:
                plan = ActionPlan(district=district, year=year, title=f"Handlingsplan {year}")
                db.session.add(plan)
                for title, number in (("Flere unge i klubberne", 2), ("Aftenåbent i weekenden", 2), ("Trygge gårdmiljøer", 3)):
                    plan.initiatives.append(Initiative(focus_area=areas[number], title=title,
                                                       target_unique_youths=rng.choice([150, 300, 500]),
                                                       target_visits=rng.choice([5000, 20000, 60000])))
            initiatives.extend(plan.initiatives)
    db.session.flush()
    return list(districts.values()), areas, initiatives


def _postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _count(table: str) -> int:
    return db.session.scalar(text(f"SELECT count(*) FROM {table}")) or 0


def _copy_visits(visits, total: int, update) -> int:
    """Write ``visits`` ((youth_id, session_id, at as text) tuples) into ``attendance``; answers how many."""
    columns = "youth_id, session_id, method, scanned_at, recorded_at, drop_in, age_override"
    made = 0
    if _postgresql():
        raw = db.session.connection().connection.driver_connection
        if raw is None:
            raise RuntimeError("the database connection has no driver connection to COPY through")
        buffer = io.StringIO()
        with raw.cursor() as cursor, cursor.copy(f"COPY attendance ({columns}) FROM STDIN") as copy:
            for youth_id, session_id, at in visits:
                buffer.write(f"{youth_id}\t{session_id}\tqr\t{at}\t{at}\tf\tf\n")
                made += 1
                if made % 50_000 == 0:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
                    update(50_000)
            copy.write(buffer.getvalue())
        update(made % 50_000)
        return made
    batch = []
    table = Attendance.__table__
    for youth_id, session_id, at in visits:
        batch.append({"youth_id": youth_id, "session_id": session_id, "method": "qr", "scanned_at": at,
                      "recorded_at": at, "drop_in": False, "age_override": False})
        if len(batch) == BATCH:
            db.session.execute(insert(table), batch)
            made += len(batch)
            update(len(batch))
            batch = []
    if batch:
        db.session.execute(insert(table), batch)
        made += len(batch)
        update(len(batch))
    return made


def _insert_returning_ids(model, rows, progress, label) -> list[int]:
    ids: list[int] = []
    with progress.bar(label, len(rows)) as update:
        for i in range(0, len(rows), BATCH):
            ids.extend(db.session.scalars(
                insert(model).returning(model.id, sort_by_parameter_order=True), rows[i:i + BATCH]
            ).all())
            update(len(rows[i:i + BATCH]))
    return ids


#: rows per multi-row INSERT (SQLite allows 32,766 parameters a statement; these tables have at most 7 columns)
INSERT_ROWS = 1000


def _insert_all(table, rows) -> None:
    """``rows`` as multi-row INSERT statements: one statement per thousand rows, not per row (each
    statement fires the tables' statement triggers once: see migration ``b8d4f0e2a6c3``)."""
    for i in range(0, len(rows), INSERT_ROWS):
        db.session.execute(insert(table).values(rows[i:i + INSERT_ROWS]))


def generate_load(youths: int, attendances: int, *, seed: int = 1, start: date | None = None, end: date | None = None,
                  institutions: int | None = None, progress=None) -> dict:
    """Add ``youths`` young people and about ``attendances`` visits, with the institutions, offers and sessions they need.

    Flushes; the caller commits (one transaction). ``progress``: a ``Quiet``-like reporter.
    """
    progress = progress or Quiet()
    rng = random.Random(seed)
    today = local_today()
    start = start or date(today.year - 1, 1, 1)
    end = end or today
    years = range(start.year, end.year + 1)
    districts, areas, initiatives = _ensure_geography(rng, years)
    now = datetime.now(UTC)

    # enough sessions for the visits, also when there are few young people to share them
    n_sessions = max(math.ceil(attendances / VISITS_PER_SESSION), math.ceil(attendances * 1.25 / max(youths, 1)), 1)
    weeks = max((end - start).days // 7, 1)
    n_activities = max(math.ceil(n_sessions / (SESSIONS_PER_WEEK * weeks)), 1)
    n_institutions = institutions or max(min(n_activities // 4, 40), 2)

    made_institutions = [
        Institution(name=f"Klub {i + 1} ({districts[i % 2].name})", kind=rng.choice(list(InstitutionKind)),
                    district_id=districts[i % 2].id, address=f"Nørrebrogade {i + 1}")
        for i in range(n_institutions)
    ]
    db.session.add_all(made_institutions)
    db.session.flush()
    categories = list(Category)
    activities = []
    for i in range(n_activities):
        inst = made_institutions[i % n_institutions]
        requires_signup = rng.random() < 0.4
        activities.append(Activity(
            institution_id=inst.id, district_id=inst.district_id if rng.random() < 0.9 else rng.choice(districts).id,
            title=f"Tilbud {i + 1}", description="", category=rng.choice(categories), min_age=AGES[0], max_age=AGES[1],
            requires_signup=requires_signup, capacity=rng.choice([20, 30, 40]) if requires_signup else None,
            status=ActivityStatus.PUBLISHED, search_text=f"tilbud {i + 1}",
        ))
    db.session.add_all(activities)
    db.session.flush()
    tags_fa, tags_in = [], []
    for activity in activities:
        for number in ([2] if rng.random() < 0.7 else []) + ([3] if rng.random() < 0.3 else []):
            tags_fa.append({"activity_id": activity.id, "focus_area_id": areas[number].id})
        # in each year of its district's action plan, none, one or two of that plan's initiatives
        for year in years:
            local = [i for i in initiatives if i.action_plan.district_id == activity.district_id and i.action_plan.year == year]
            for initiative in rng.sample(local, k=min(len(local), rng.choice([0, 1, 2]))):
                tags_in.append({"activity_id": activity.id, "initiative_id": initiative.id})
    if tags_fa:
        db.session.execute(insert(activity_focus_area), tags_fa)
    if tags_in:
        db.session.execute(insert(activity_initiative), tags_in)

    # sessions: a weekly pattern per activity (two weekdays), some cancelled; in order of time per activity
    session_rows: list[dict[str, Any]] = []
    session_activity: list[Activity] = []
    for activity in activities:
        days = rng.sample(range(7), SESSIONS_PER_WEEK)
        day = start + timedelta(days=rng.randrange(7))
        while day <= end:
            if day.weekday() in days:
                starts = to_utc(day, time(rng.choice([15, 16, 17, 18]), 0))
                session_rows.append({"activity_id": activity.id, "capacity": activity.capacity,
                                     "starts_at": starts, "ends_at": starts + timedelta(hours=2),
                                     "cancelled_at": now if rng.random() < 0.03 else None, "created_at": now})
                session_activity.append(activity)
            day += timedelta(days=1)
    session_ids = _insert_returning_ids(Session, session_rows, progress, "Mødegange")

    # young people: each 10-24 in some years of the period, most living in the hotspot
    genders = [Gender.PIGE, Gender.DRENG, Gender.ANDET, Gender.UOPLYST]
    youth_rows = [{
        "first_name": f"Ung{n}", "birth_year": rng.randint(start.year - AGES[1], max(end.year - AGES[0], start.year - AGES[1])),
        "birth_month": rng.randint(1, 12), "gender": rng.choices(genders, weights=[45, 45, 3, 7])[0],
        "home_district_id": rng.choices([districts[0].id, districts[1].id, None], weights=[40, 40, 20])[0],
        "pass_token": secrets.token_urlsafe(20), "pass_issued_at": now, "created_at": now, "last_active_at": now,
    } for n in range(youths)]
    youth_ids = _insert_returning_ids(YouthProfile, youth_rows, progress, "Unge")
    # who can be a regular in each year: aged 10-24 then (everyone, when nobody is)
    of_age = {year: [y for y, row in zip(youth_ids, youth_rows, strict=True) if AGES[0] <= year - row["birth_year"] <= AGES[1]] or youth_ids
              for year in years}

    # held: not cancelled, and begun by now (a session later today has no visits yet; the figures would not count them)
    held = [(sid, row, act) for sid, row, act in zip(session_ids, session_rows, session_activity, strict=True)
            if row["cancelled_at"] is None and row["starts_at"] <= now]
    per_session = attendances / max(len(held), 1)
    pool_size = max(int(per_session * 3), 10)
    pools: dict[int, list[int]] = {}
    pool_year: dict[int, int] = {}
    signups: list[dict] = []
    active_signups: dict[int, dict[int, dict]] = {}
    counts: list[dict] = []

    def regulars(activity, year):
        """The activity's regulars in ``year``: two thirds of last year's who are still of age, the rest new."""
        if pool_year.get(activity.id) == year:
            return pools[activity.id]
        eligible = of_age[year]
        eligible_set = set(eligible)
        kept = [y for y in pools.get(activity.id, []) if y in eligible_set and rng.random() < STAYING]
        kept_set = set(kept)
        fresh = [y for y in rng.sample(eligible, k=min(len(eligible), pool_size + len(kept))) if y not in kept_set]
        pool = kept + fresh[:max(min(pool_size, len(eligible)) - len(kept), 0)]
        pools[activity.id], pool_year[activity.id] = pool, year
        if activity.requires_signup:
            _follow_regulars(activity, pool, to_utc(date(year, 1, 1), time(0, 0)) if year > start.year else
                             to_utc(start, time(12, 0)) + timedelta(days=rng.randrange(30)))
        return pool

    def _follow_regulars(activity, pool, at):
        """Sign-ups follow the regulars: a leaver's is cancelled, a newcomer takes a free place."""
        active = active_signups.setdefault(activity.id, {})
        staying = set(pool)
        for youth_id in [y for y in active if y not in staying]:
            active.pop(youth_id).update(status=SignupStatus.CANCELLED.value, cancelled_at=at)
        for youth_id in pool:
            if len(active) >= (activity.capacity or 0):
                break
            if youth_id not in active:
                active[youth_id] = {"youth_id": youth_id, "activity_id": activity.id, "status": SignupStatus.CONFIRMED.value,
                                    "position": None, "created_at": at, "confirmed_at": at, "cancelled_at": None}
                signups.append(active[youth_id])

    def visits():
        """Each held session's visitors, drawn from the regulars of its activity that year (and its head counts)."""
        made, remaining = 0, len(held)
        for sid, row, activity in held:
            want = round((attendances - made) / remaining) if remaining else 0
            remaining -= 1
            pool = regulars(activity, row["starts_at"].year) if youth_ids else []
            at = row["starts_at"].isoformat(" ") if _pg else row["starts_at"]
            for youth_id in rng.sample(pool, k=min(want, len(pool))):
                made += 1
                yield youth_id, sid, at
            if rng.random() < 0.3:
                for band in rng.sample(list(AgeBand), 2):
                    counts.append({"session_id": sid, "age_band": band, "gender": rng.choice(genders[:2]),
                                   "count": rng.randint(1, 12), "updated_at": now})

    _pg = _postgresql()
    with visit_counts_suspended():
        with secondary_indexes_dropped("attendance", attendances, progress.note), progress.bar("Fremmøder", attendances) as update:
            made = _copy_visits(visits(), attendances, update)
        progress.note("visit_month")
        with secondary_indexes_dropped("visit_month", made // 3, progress.note):
            if session_ids:
                add_visit_counts(min(session_ids), max(session_ids))
    _insert_all(HeadCount.__table__, counts)

    # the waitlist at the end: five more of the last regulars of each offer with places
    for activity in activities:
        if not activity.requires_signup:
            continue
        active = active_signups.get(activity.id, {})
        waiting = [y for y in pools.get(activity.id, []) if y not in active][:5]
        for position, youth_id in enumerate(waiting, start=1):
            created = to_utc(end, time(12, 0)) - timedelta(days=rng.randrange(30))
            signups.append({"youth_id": youth_id, "activity_id": activity.id, "status": SignupStatus.WAITLISTED.value,
                            "position": position, "created_at": created, "confirmed_at": None, "cancelled_at": None})
    _insert_all(Signup.__table__, signups)
    if _pg:
        # every table: the planner must know the offers and institutions too (it took 768 published
        # offers for one, and the catalogue recomputed each offer's next session 768 times: 30 s a page)
        progress.note("ANALYZE")
        db.session.execute(text("ANALYZE"))
    db.session.flush()
    return {"institutions": len(made_institutions), "activities": len(activities), "sessions": len(session_ids),
            "youths": len(youth_ids), "attendances": made, "head_counts": len(counts), "signups": len(signups),
            "visit_counts": _count(VisitMonth.__tablename__)}
