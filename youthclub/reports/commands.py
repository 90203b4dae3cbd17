"""``youthclub generate-load`` (a realistic synthetic data set, built with bulk inserts) and ``youthclub visit-counts``."""
from __future__ import annotations

import math
import random
import secrets
from datetime import UTC, date, datetime, time, timedelta

import click
from flask.cli import with_appcontext
from sqlalchemy import Table, insert, select

from ..extensions import db

#: registered visits per session on average
VISITS_PER_SESSION = 25
#: sessions a week for each generated activity
SESSIONS_PER_WEEK = 2
BATCH = 5000


def _table(model) -> Table:
    """A model's Core table: the bulk inserts here skip the ORM."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _ensure_geography(rng):
    from ..activities.models import Category  # noqa: F401
    from ..programme.models import ActionPlan, District, FocusArea, Initiative, Programme

    programme = db.session.scalar(select(Programme).order_by(Programme.id).limit(1))
    if programme is None:
        programme = Programme(name="Hotspot Nørrebro", starts_on=date(2011, 3, 1), ends_on=date(date.today().year + 2, 12, 31))
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
    for year in (date.today().year - 1, date.today().year):
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


def generate_load(youths: int, attendances: int, *, seed: int = 1, start: date | None = None, end: date | None = None,
                  progress=None) -> dict:
    """Add ``youths`` young people and about ``attendances`` visits, with the offers and sessions they need."""
    from ..accounts.models import Gender, YouthProfile
    from ..activities.models import Activity, ActivityStatus, Category, Session, activity_focus_area, activity_initiative
    from ..attendance.models import AgeBand, Attendance, HeadCount
    from ..i18n import to_utc
    from ..programme.models import Institution, InstitutionKind
    from ..signups.models import Signup

    rng = random.Random(seed)
    today = date.today()
    start = start or date(today.year - 1, 1, 1)
    end = end or today
    districts, areas, initiatives = _ensure_geography(rng)
    now = datetime.now(UTC)

    # enough sessions for the visits, also when there are few young people to share them
    n_sessions = max(math.ceil(attendances / VISITS_PER_SESSION), math.ceil(attendances * 1.25 / max(youths, 1)), 1)
    weeks = max((end - start).days // 7, 1)
    n_activities = max(math.ceil(n_sessions / (SESSIONS_PER_WEEK * weeks)), 1)
    n_institutions = max(min(n_activities // 4, 40), 2)

    institutions = [
        Institution(name=f"Klub {i + 1} ({districts[i % 2].name})", kind=rng.choice(list(InstitutionKind)),
                    district_id=districts[i % 2].id, address=f"Nørrebrogade {i + 1}")
        for i in range(n_institutions)
    ]
    db.session.add_all(institutions)
    db.session.flush()
    categories = list(Category)
    activities = []
    for i in range(n_activities):
        inst = institutions[i % n_institutions]
        requires_signup = rng.random() < 0.4
        activity = Activity(
            institution_id=inst.id, district_id=inst.district_id if rng.random() < 0.9 else rng.choice(districts).id,
            title=f"Tilbud {i + 1}", description="", category=rng.choice(categories), min_age=10, max_age=24,
            requires_signup=requires_signup, capacity=rng.choice([20, 30, 40]) if requires_signup else None,
            status=ActivityStatus.PUBLISHED, search_text=f"tilbud {i + 1}",
        )
        activities.append(activity)
    db.session.add_all(activities)
    db.session.flush()
    tags_fa, tags_in = [], []
    for activity in activities:
        for number in ([2] if rng.random() < 0.7 else []) + ([3] if rng.random() < 0.3 else []):
            tags_fa.append({"activity_id": activity.id, "focus_area_id": areas[number].id})
        local = [i for i in initiatives if i.action_plan.district_id == activity.district_id]
        for initiative in rng.sample(local, k=min(len(local), rng.choice([0, 1, 2]))):
            tags_in.append({"activity_id": activity.id, "initiative_id": initiative.id})
    if tags_fa:
        db.session.execute(insert(activity_focus_area), tags_fa)
    if tags_in:
        db.session.execute(insert(activity_initiative), tags_in)

    # sessions: a weekly pattern per activity (two weekdays), some cancelled
    session_rows: list[dict] = []
    session_activity: list[Activity] = []
    for activity in activities:
        days = rng.sample(range(7), SESSIONS_PER_WEEK)
        first = start + timedelta(days=rng.randrange(7))
        day = first
        while day <= end and len(session_rows) < n_sessions * 2:
            if day.weekday() in days:
                starts = to_utc(day, time(rng.choice([15, 16, 17, 18]), 0))
                session_rows.append({"activity_id": activity.id, "capacity": activity.capacity,
                                     "starts_at": starts, "ends_at": starts + timedelta(hours=2),
                                     "cancelled_at": now if rng.random() < 0.03 else None, "created_at": now})
                session_activity.append(activity)
            day += timedelta(days=1)
    session_ids: list[int] = []
    for i in range(0, len(session_rows), BATCH):
        session_ids.extend(db.session.scalars(
            insert(Session).returning(Session.id, sort_by_parameter_order=True), session_rows[i:i + BATCH]
        ).all())
    held = [(sid, row, act) for sid, row, act in zip(session_ids, session_rows, session_activity, strict=True) if row["cancelled_at"] is None]

    # young people: ages 10-24 over the period, most living in the hotspot
    genders = [Gender.PIGE, Gender.DRENG, Gender.ANDET, Gender.UOPLYST]
    youth_rows = [{
        "first_name": f"Ung{n}", "birth_year": rng.randint(today.year - 24, today.year - 10), "birth_month": rng.randint(1, 12),
        "gender": rng.choices(genders, weights=[45, 45, 3, 7])[0],
        "home_district_id": rng.choices([districts[0].id, districts[1].id, None], weights=[40, 40, 20])[0],
        "pass_token": secrets.token_urlsafe(20), "pass_issued_at": now, "created_at": now, "last_active_at": now,
    } for n in range(youths)]
    youth_ids: list[int] = []
    for i in range(0, len(youth_rows), BATCH):
        youth_ids.extend(db.session.scalars(
            insert(YouthProfile).returning(YouthProfile.id, sort_by_parameter_order=True), youth_rows[i:i + BATCH]
        ).all())
    db.session.commit()

    # each activity has regulars; a session's visitors are drawn from them
    per_session = max(attendances / max(len(held), 1), 0)
    pool_size = max(int(per_session * 3), 10)
    pools = {a.id: rng.sample(youth_ids, k=min(pool_size, len(youth_ids))) for a in activities} if youth_ids else {}
    made = 0
    batch, counts = [], []
    remaining_sessions = len(held)
    for sid, row, activity in held:
        want = round((attendances - made) / remaining_sessions) if remaining_sessions else 0
        remaining_sessions -= 1
        pool = pools.get(activity.id, [])
        for youth_id in rng.sample(pool, k=min(want, len(pool))):
            batch.append({"youth_id": youth_id, "session_id": sid, "method": "qr", "scanned_at": row["starts_at"],
                          "recorded_at": row["starts_at"], "drop_in": False, "age_override": False})
            made += 1
        if rng.random() < 0.3:
            for band in rng.sample(list(AgeBand), 2):
                counts.append({"session_id": sid, "age_band": band, "gender": rng.choice(genders[:2]),
                               "count": rng.randint(1, 12), "updated_at": now})
        if len(batch) >= BATCH:
            db.session.execute(insert(_table(Attendance)), batch)
            db.session.commit()
            if progress:
                progress(len(batch))
            batch = []
    if batch:
        db.session.execute(insert(_table(Attendance)), batch)
        if progress:
            progress(len(batch))
    for i in range(0, len(counts), BATCH):
        db.session.execute(insert(_table(HeadCount)), counts[i:i + BATCH])

    # sign-ups for the sign-up offers: regulars confirmed up to capacity, then a waitlist
    signups = []
    for activity in activities:
        if not activity.requires_signup:
            continue
        for place, youth_id in enumerate(pools.get(activity.id, [])):
            created = to_utc(start, time(12, 0)) + timedelta(days=rng.randrange(30))
            if place < (activity.capacity or 0):
                signups.append({"youth_id": youth_id, "activity_id": activity.id, "status": "confirmed",
                                "position": None, "created_at": created, "confirmed_at": created})
            elif place < (activity.capacity or 0) + 5:
                signups.append({"youth_id": youth_id, "activity_id": activity.id, "status": "waitlisted",
                                "position": place - (activity.capacity or 0) + 1, "created_at": created, "confirmed_at": None})
    for i in range(0, len(signups), BATCH):
        db.session.execute(insert(_table(Signup)), signups[i:i + BATCH])
    db.session.commit()
    return {"institutions": len(institutions), "activities": len(activities), "sessions": len(session_ids),
            "youths": len(youth_ids), "attendances": made, "head_counts": len(counts), "signups": len(signups)}


@click.command("generate-load")
@click.option("--youths", default=2000, show_default=True, help="Young people to add.")
@click.option("--attendances", default=50000, show_default=True, help="Registered visits to add (about).")
@click.option("--seed", default=1, show_default=True, help="Random seed, for repeatable data sets.")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First day of sessions [default: 1 January last year].")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last day of sessions [default: today].")
@with_appcontext
def generate_load_command(youths, attendances, seed, start, end):
    """Add a synthetic data set (offers, sessions, young people, visits, head counts, sign-ups) for load tests."""
    with click.progressbar(length=attendances, label="Fremmøder") as bar:
        result = generate_load(youths, attendances, seed=seed, start=start.date() if start else None,
                               end=end.date() if end else None, progress=bar.update)
    click.echo(", ".join(f"{k}: {v}" for k, v in result.items()))


@click.group("visit-counts")
def visit_counts_group():
    """The visit counts per young person, activity and month that the statistics read (kept by triggers)."""


@visit_counts_group.command("check")
@with_appcontext
def check_visit_counts_command():
    """Compare the counts with the visits; exit status 1 when any differ."""
    from .visit_counts import find_differences

    total, sample = find_differences()
    if not total:
        click.echo("Fremmødetallene stemmer med fremmøderne.")
        return
    click.echo(f"{total} fremmødetal afviger (ung, måned, aktivitet: gemt → optalt):", err=True)
    for youth_id, month, activity_id, kept, truth in sample:
        click.echo(f"  {youth_id}, {month // 12}-{month % 12 + 1:02d}, {activity_id}: {kept or 0} → {truth or 0}", err=True)
    click.echo("Kør `youthclub visit-counts rebuild` for at tælle dem op igen.", err=True)
    raise SystemExit(1)


@visit_counts_group.command("rebuild")
@with_appcontext
def rebuild_visit_counts_command():
    """Count every young person's visits per activity and month again from the visits (one transaction)."""
    from .visit_counts import rebuild_visit_counts

    rows = rebuild_visit_counts()
    db.session.commit()
    click.echo(f"Fremmødetal talt op igen: {rows} rækker.")


def register(group) -> None:
    group.add_command(generate_load_command)
    group.add_command(visit_counts_group)
