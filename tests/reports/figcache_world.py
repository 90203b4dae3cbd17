"""A small programme with two closed years and the current one, for the tests of the figures' cache."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, select, text

from tests import factories as fx
from youthclub.accounts.models import Gender
from youthclub.activities.models import Activity, Category, Session
from youthclub.attendance.models import AgeBand, HeadCount
from youthclub.extensions import db
from youthclub.i18n import local_today
from youthclub.models import Role
from youthclub.programme.models import ActionPlan, Initiative
from youthclub.reports import figures_cache
from youthclub.reports.disclosure import margins
from youthclub.reports.models import FiguresCache, FiguresYear
from youthclub.reports.stats import StatsFilter, compute_tables
from youthclub.signups.models import Signup, SignupStatus


def closed_year() -> int:
    """The latest year the cache serves today (the one before last in the days of grace after New Year)."""
    today = local_today()
    return today.year - 1 if today >= date(today.year, 1, 1) + timedelta(days=2) else today.year - 2


#: the tables the tests ask for: every dimension, with their margins
FAMILY = margins([("month",), ("institution",), ("age_band", "gender"), ("initiative",), ("focus_area",),
                  ("district", "category")])


def at(year: int, month: int, day: int = 10, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@dataclass
class CacheWorld:
    year: int
    districts: list
    institutions: list
    activities: list
    areas: list
    plans: list
    initiatives: list
    youths: list
    staff: object
    closed_sessions: list
    current_sessions: list
    signups: list
    head_counts: list
    extra: dict = field(default_factory=dict)

    def filters(self) -> list[StatsFilter]:
        y = self.year
        return [
            StatsFilter(date(y, 1, 1), date(y, 12, 31)),
            StatsFilter(date(y, 1, 1), date(y, 12, 31), district_id=self.districts[0].id),
            # an initiative's filter is cut to its plan's year, which is closed
            StatsFilter(date(y - 1, 1, 1), date(y + 1, 12, 31), initiative_id=self.initiatives[0].id),
            StatsFilter(date(y - 1, 3, 15), date(y, 12, 31), gender="pige"),
        ]


def build(year: int | None = None) -> CacheWorld:
    y = year or closed_year()
    districts = [fx.make_district(), fx.make_district()]
    institutions = [fx.make_institution(districts[0]), fx.make_institution(districts[1])]
    areas = fx.make_focus_areas()
    plans = [ActionPlan(district_id=districts[0].id, year=y), ActionPlan(district_id=districts[1].id, year=y - 1)]
    db.session.add_all(plans)
    db.session.flush()
    initiatives = [Initiative(action_plan_id=plans[0].id, focus_area_id=areas[1].id, title="Klub om aftenen"),
                   Initiative(action_plan_id=plans[1].id, focus_area_id=areas[1].id, title="Lektiecafé")]
    db.session.add_all(initiatives)
    db.session.flush()
    activities = [
        fx.make_activity(institutions[0], capacity=10, requires_signup=True),
        fx.make_activity(institutions[0], capacity=None, requires_signup=False, category=Category.KREATIV),
        fx.make_activity(institutions[1], capacity=5, requires_signup=True, category=Category.MUSIK),
    ]
    db.session.execute(text("INSERT INTO activity_focus_area (activity_id, focus_area_id) VALUES (:a, :f)"),
                       [{"a": activities[0].id, "f": areas[1].id}, {"a": activities[2].id, "f": areas[2].id}])
    db.session.execute(text("INSERT INTO activity_initiative (activity_id, initiative_id) VALUES (:a, :i)"),
                       [{"a": activities[0].id, "i": initiatives[0].id}, {"a": activities[1].id, "i": initiatives[1].id}])
    youths = [
        fx.make_youth(birth_year=y - 12, birth_month=3, gender=Gender.PIGE, district=districts[0]),
        fx.make_youth(birth_year=y - 14, birth_month=11, gender=Gender.DRENG, district=districts[1]),
        fx.make_youth(birth_year=y - 16, birth_month=6, gender=Gender.PIGE, district=None),
        fx.make_youth(birth_year=y - 19, birth_month=1, gender=Gender.ANDET, district=districts[0]),
    ]
    staff = fx.make_user(Role.STAFF, institutions[0])
    closed_sessions = []
    for activity in activities:
        for year_, month, day in ((y - 1, 11, 3), (y, 2, 1), (y, 2, 20), (y, 6, 15), (y, 11, 30), (y, 12, 31)):
            session = fx.make_session(activity, date(year_, month, day))
            session.capacity = activity.capacity if day != 20 else None
            closed_sessions.append(session)
    today = local_today()
    current_sessions = [fx.make_session_now(a) for a in activities]
    current_sessions.append(fx.make_session(activities[0], date(today.year, 1, 5)))
    db.session.flush()
    for i, youth in enumerate(youths):
        for j, session in enumerate(closed_sessions):
            if (i + j) % 3 != 0:
                fx.attend(youth, session)
    for youth in youths[:2]:
        fx.attend(youth, current_sessions[-1])
    signups = [
        Signup(youth_id=youths[0].id, activity_id=activities[0].id, status=SignupStatus.CONFIRMED,
               created_at=at(y, 1, 5), confirmed_at=at(y, 1, 5)),
        Signup(youth_id=youths[1].id, activity_id=activities[0].id, status=SignupStatus.CONFIRMED,
               created_at=at(y - 1, 10, 1), confirmed_at=at(y, 6, 1)),
        Signup(youth_id=youths[2].id, activity_id=activities[2].id, status=SignupStatus.WAITLISTED, position=1,
               created_at=at(y, 3, 1)),
        Signup(youth_id=youths[3].id, activity_id=activities[2].id, status=SignupStatus.CANCELLED,
               created_at=at(y, 1, 2), confirmed_at=at(y, 1, 2), cancelled_at=at(y, 8, 1)),
    ]
    db.session.add_all(signups)
    head_counts = [HeadCount(session_id=closed_sessions[1].id, age_band=AgeBand.AGE_13_15, gender=Gender.DRENG, count=3),
                   HeadCount(session_id=closed_sessions[9].id, age_band=AgeBand.UNDER_13, gender=Gender.PIGE, count=6)]
    db.session.add_all(head_counts)
    db.session.flush()
    return CacheWorld(y, districts, institutions, activities, areas, plans, initiatives, youths, staff,
                      closed_sessions, current_sessions, signups, head_counts)


def cached(f: StatsFilter, family=FAMILY) -> dict:
    return figures_cache.tables(f, family)


def fresh(f: StatsFilter, family=FAMILY) -> dict:
    """Computed from the visits: neither the kept figures nor the kept grain of closed years (``grain_cache``)."""
    from flask import current_app

    saved = current_app.config.get("FIGURES_CACHE", True)
    current_app.config["FIGURES_CACHE"] = False
    try:
        return compute_tables(f, family)
    finally:
        current_app.config["FIGURES_CACHE"] = saved


def is_kept(f: StatsFilter, family=FAMILY) -> bool:
    """Whether the figures of ``f`` (cut to its initiative's year) are kept under the current generations."""
    from youthclub.reports.stats import within_initiative_year

    f = within_initiative_year(f)
    _now, generations = figures_cache._database_now_and_generations(f.end.year)
    key = figures_cache.cache_key(f, [tuple(t) for t in dict.fromkeys(tuple(t) for t in family)])
    return db.session.scalar(select(FiguresCache.key).where(FiguresCache.key == key, FiguresCache.generations == generations)) is not None


def entries() -> int:
    return len(db.session.scalars(select(FiguresCache.key)).all())


def generations() -> dict[int, int]:
    return dict(db.session.execute(select(FiguresYear.year, FiguresYear.generation)).all())


def drop_triggers(*tables: str) -> list[str]:
    """Drop the figures' triggers on ``tables`` (in the test's transaction, which is rolled back after it)."""
    dropped = []
    if db.session.get_bind().dialect.name == "postgresql":
        rows = db.session.execute(text(
            "SELECT tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE tgname LIKE 'figures\\_%' AND c.relname = ANY(:tables)"), {"tables": list(tables)}).all()
        for name, table in rows:
            db.session.execute(text(f"DROP TRIGGER {name} ON {table}"))
            dropped.append(name)
    else:
        rows = db.session.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'figures\\_%' ESCAPE '\\' "
            f"AND tbl_name IN ({', '.join(repr(t) for t in tables)})")).all()
        for (name,) in rows:
            db.session.execute(text(f"DROP TRIGGER {name}"))
            dropped.append(name)
    assert dropped, f"no figures trigger on {tables}"
    return dropped


def forget_cache() -> None:
    db.session.execute(delete(FiguresCache))


def activity_ids() -> list[int]:
    return list(db.session.scalars(select(Activity.id)))


def session_of(activity, year: int, month: int) -> Session:
    return db.session.scalars(select(Session).where(Session.activity_id == activity.id,
                                                    Session.local_month == year * 12 + month - 1)).first()
