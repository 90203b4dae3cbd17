"""The sums of closed years at the finest grain the statistics keep of them, computed once a year.

Four of the statistics' row sources add up over offers, months, age bands and genders:
held sessions and their places, drop-ins, sign-up × session pairs (and those attended), and
visits at sessions with places (``stats.query_sessions`` and the three after it). Their sums
per (offer, month, age band, gender) for a whole closed year answer every filter and table of
every period that covers that year: the offer filters are the offer's (joined on its id), the
person filters the age band's and gender's. So a period of ten years reads nine kept years
(a few thousand rows each) and computes only what lies outside them: the current year, and
the days of a partial year at either end.

A kept year is valid while the sum of the figures' generations up to it (``figures_year``,
bumped by the triggers of migration ``f1c2a9e7b3d0`` for every write into a closed year) is
the one read before it was computed, and the figures' code is the same (``FIGURES_VERSION``
and ``stats.py``, as for ``figures_cache``). The first answer that finds a year stale computes
it again in its own transaction, under the year's row lock on PostgreSQL (the write lock on
SQLite), so two answers never both write it. Switched off with the figures' cache
(``FIGURES_CACHE = False``): then every figure is computed from the visits.

The people figures (unique, new, returning, local) do not add up over young people. What is kept
for them is the step before (``ensure_people``): a closed year's visits per young person, offer
and age band, about a tenth of that year's visit counts, which the tables without months of a
long period read instead of the counts (``stats.query_people``).
"""
from __future__ import annotations

from datetime import date, time

from flask import current_app
from sqlalchemy import Integer, String, cast, delete, func, literal, literal_column, select, text, type_coerce, union_all
from sqlalchemy.dialects import postgresql, sqlite

from ..accounts.models import YouthProfile
from ..activities.models import Activity
from ..database import take_write_lock
from ..db_types import utcnow
from ..extensions import db
from ..i18n import to_utc
from .models import FiguresGrain, FiguresGrainYear, FiguresPeopleYear, FiguresYear, VisitMonth

#: the values a grain row sums (v0, v1, v2: as many as its kind has; the rest are 0)
N_VALUES = 3


def _code() -> str:
    from .figures_cache import _CODE_DIGEST, FIGURES_VERSION

    return f"{FIGURES_VERSION}:{_CODE_DIGEST}"[:64]


def enabled() -> bool:
    return bool(current_app.config.get("FIGURES_CACHE", True))


def kept_years(f) -> list[int]:
    """The closed years that lie wholly in ``f``'s period and before its ``now``, oldest first (none: compute all)."""
    from .figures_cache import _database_now_and_generations, is_closed
    from .stats import StatsFilter

    if not enabled():
        return []
    years = []
    for year in range(f.start.year, f.end.year + 1):
        whole = StatsFilter(date(year, 1, 1), date(year, 12, 31))
        if whole.lo < f.lo or whole.hi > f.until:
            continue
        if not is_closed(whole, utcnow()):
            continue
        years.append(year)
    if not years:
        return []
    now, _generations = _database_now_and_generations(years[-1])
    return [y for y in years if is_closed(StatsFilter(date(y, 1, 1), date(y, 12, 31)), now)]


def outside(f, years: list[int]) -> list[tuple]:
    """UTC [from, to) ranges of ``f``'s period up to its ``now`` that are not in ``years`` (consecutive or not)."""
    ranges, at = [], f.lo
    for year in years:
        lo, hi = to_utc(date(year, 1, 1), time(0, 0)), to_utc(date(year + 1, 1, 1), time(0, 0))
        if at < lo:
            ranges.append((at, lo))
        at = max(at, hi)
    if at < f.until:
        ranges.append((at, f.until))
    return ranges


def ensure(kind: str, years: list[int], make_rows, n_values: int) -> None:
    """Compute and keep the grain of ``kind`` for each of ``years`` that is missing or stale.

    ``make_rows(f, ranges)`` is the kind's row source (``stats``), asked here for the whole
    year with no filter.
    """
    def fill(year, whole):
        rows = make_rows(whole, [(whole.lo, whole.hi)])
        values = [func.coalesce(func.sum(rows.c[f"v{i}"]), 0) if i < n_values else literal(0) for i in range(N_VALUES)]
        summed = (
            select(literal(kind), literal(year), rows.c.aid, rows.c.m,
                   func.coalesce(type_coerce(rows.c.ab, String), ""), func.coalesce(type_coerce(rows.c.g, String), ""),
                   *values)
            .group_by(rows.c.aid, rows.c.m, rows.c.ab, rows.c.g)
        )
        db.session.execute(delete(FiguresGrain).where(FiguresGrain.kind == kind, FiguresGrain.year == year))
        db.session.execute(FiguresGrain.__table__.insert().from_select(
            ["kind", "year", "activity_id", "month", "age_band", "gender", "v0", "v1", "v2"], summed))

    _keep(kind, years, fill, FiguresGrain.__tablename__)


def ensure_people(years: list[int]) -> None:
    """Keep each of ``years``' visits per young person, offer and age band (``FiguresPeopleYear``), where missing or stale.

    Summed from the year's visit counts (``visit_month``: a closed year is all whole months
    before now), the age band at each month as ``stats`` reckons it.
    """
    from .stats import _age_band

    def fill(year, _whole):
        vm = VisitMonth
        band = _age_band(vm.month, index=True)
        summed = (
            select(literal(year), vm.youth_id, vm.activity_id, band, cast(func.sum(vm.visits), Integer))
            .join(YouthProfile, YouthProfile.id == vm.youth_id)
            .where(vm.month.between(year * 12, year * 12 + 11))
            .group_by(vm.youth_id, vm.activity_id, band)
        )
        db.session.execute(delete(FiguresPeopleYear).where(FiguresPeopleYear.year == year))
        db.session.execute(FiguresPeopleYear.__table__.insert().from_select(
            ["year", "youth_id", "activity_id", "age_band", "visits"], summed))

    _keep("people", years, fill, FiguresPeopleYear.__tablename__)


def _keep(kind: str, years: list[int], fill, table: str) -> None:
    """Run ``fill(year, whole year's StatsFilter)`` for each of ``years`` whose ``kind`` is missing or stale, and say it is kept.

    Whether each year is kept is read in two statements for all of them; only a stale year
    takes the lock and reads again.
    """
    from .figures_cache import _database_now_and_generations
    from .stats import StatsFilter

    code = _code()
    sums, kept = _kept_state(kind, years)
    stale = [y for y in years if kept.get(y) != (sums[y], code)]
    for year in stale:
        take_write_lock()  # SQLite: a reading transaction becomes the writer before it writes
        _now, generations = _database_now_and_generations(year)
        if _kept_under_lock(kind, year, generations, code):
            continue  # another answer kept it meanwhile
        fill(year, StatsFilter(date(year, 1, 1), date(year, 12, 31)))
        values_set = {"generations": generations, "code": code, "computed_at": utcnow()}
        dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
        db.session.execute(dialect.insert(FiguresGrainYear).values(kind=kind, year=year, **values_set)
                           .on_conflict_do_update(index_elements=["kind", "year"], set_=values_set))
    if stale and db.session.get_bind().dialect.name == "postgresql":
        # the planner's row counts for the rows just written (else it plans the grouping for a hundred)
        db.session.execute(text(f"ANALYZE {table}"))


def _kept_state(kind: str, years: list[int]) -> tuple[dict[int, int], dict[int, tuple[int, str]]]:
    """For ``years``: the sum of the figures' generations up to each, and what ``kind``'s kept years say."""
    upto = max(years)
    per_year = dict(db.session.execute(select(FiguresYear.year, FiguresYear.generation).where(FiguresYear.year <= upto)).all())
    sums, total = {}, 0
    for year in range(min([*per_year, *years]), upto + 1):
        total += per_year.get(year, 0)
        sums[year] = total
    kept = {y: (g, c) for y, g, c in db.session.execute(
        select(FiguresGrainYear.year, FiguresGrainYear.generations, FiguresGrainYear.code)
        .where(FiguresGrainYear.kind == kind, FiguresGrainYear.year.in_(years)))}
    return sums, kept


def _kept_under_lock(kind: str, year: int, generations: int, code: str) -> bool:
    """Whether ``kind``'s ``year`` is kept under ``generations`` and ``code``, read holding the year's lock."""
    stmt = select(FiguresGrainYear.generations, FiguresGrainYear.code).where(
        FiguresGrainYear.kind == kind, FiguresGrainYear.year == year)
    if db.session.get_bind().dialect.name == "postgresql":
        # the year's row, made if missing, locked: the second of two answers waits here, then finds it kept
        db.session.execute(postgresql.insert(FiguresGrainYear).values(
            kind=kind, year=year, generations=-1, code="", computed_at=utcnow()).on_conflict_do_nothing())
        stmt = stmt.with_for_update()
    kept = db.session.execute(stmt).first()
    return kept is not None and kept.generations == generations and kept.code == code


def kept_rows(kind: str, years: list[int], activity_conditions: list, band, gender, n_values: int):
    """The kept grain of ``kind`` in ``years`` as row-source columns (aid, m, ab, g, v0..), filtered.

    ``band``/``gender``: the age band's and gender's stored value a person filter asks for (None: any).
    """
    g = FiguresGrain
    stmt = select(
        g.activity_id.label("aid"), g.month.label("m"),
        func.nullif(g.age_band, "").label("ab"), func.nullif(g.gender, "").label("g"),
        *[type_coerce(getattr(g, f"v{i}"), Integer).label(f"v{i}") for i in range(n_values)],
    ).where(g.kind == kind, g.year.in_(years))
    if activity_conditions:
        stmt = stmt.join(Activity, Activity.id == g.activity_id).where(*activity_conditions)
    if band is not None:
        stmt = stmt.where(g.age_band == band)
    if gender is not None:
        stmt = stmt.where(g.gender == gender)
    return stmt


def people_rows(years: list[int]):
    """The kept visits of ``years`` per young person, offer and age band, as the statistics' columns (youth_id, aid, m, ab, n).

    ``m``: the year's January (a month index), as ``stats.query_people``'s yearly rows have it.
    """
    p = FiguresPeopleYear
    twelve = literal_column("12", Integer)
    return (select(p.youth_id, p.activity_id.label("aid"), (p.year * twelve).label("m"), p.age_band.label("ab"),
                   p.visits.label("n"))
            .where(p.year.in_(years)))


def with_kept_years(f, kind: str, make_rows, n_values: int, *, band=None, gender=None):
    """The row source of ``kind`` for ``f``: computed outside the kept closed years, read from the kept grain inside them."""
    from .stats import _activity_conditions

    years = kept_years(f)
    if not years:
        return make_rows(f, [(f.lo, f.until)])
    ensure(kind, years, make_rows, n_values)
    parts = []
    ranges = outside(f, years)
    if ranges:
        live = make_rows(f, ranges)
        parts.append(select(live.c.aid, live.c.m, live.c.ab, live.c.g, *[live.c[f"v{i}"] for i in range(n_values)]))
    parts.append(kept_rows(kind, years, _activity_conditions(f), band, gender, n_values))
    return (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("rows")

