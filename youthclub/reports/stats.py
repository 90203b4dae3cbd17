"""Participation figures computed in SQL (see docs/metrics.md for each definition).

Every table one answer shows is computed together (``compute_tables``): the people figures
of all of them from one statement that reads the period's visits once (``query_people``);
sessions, head counts, sign-up pairs and the visits at sessions with places from one query
each at the grain activity × month (× age band × gender), summed into each table in Python;
the waitlist per table. Periods are Europe/Copenhagen local dates, turned into UTC bounds so
the indexes on ``session.starts_at`` are used; a session's local month is stored with it
(``session.local_month``), so the same SQL runs on SQLite and PostgreSQL.

A session is held once it has started (before ``StatsFilter.now``) unless it is cancelled:
the part of a period after ``now`` holds nothing yet. The visits of the whole months of a
period are read from ``visit_month`` (counts per young person, activity and month that
database triggers keep exact, see ``models.py``); only the days at either end that do not
make up a whole month (and the month ``now`` falls in) are read from the visits themselves.
"""
from __future__ import annotations

import itertools
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Integer, String, and_, case, cast, exists, func, literal, literal_column, null, or_, select, text, type_coerce, union_all
from sqlalchemy.sql.expression import ColumnElement, FromClause

from ..accounts.models import Gender, YouthProfile
from ..activities.models import Activity, Category, Session, activity_focus_area, activity_initiative
from ..attendance.models import AgeBand, Attendance, HeadCount
from ..db_types import utcnow
from ..extensions import db
from ..i18n import to_local, to_utc
from ..programme.models import ActionPlan, Initiative
from ..signups.models import Signup, SignupStatus, confirmed_at_moment
from . import grain_cache
from .models import VisitMonth

#: dimensions a table can be grouped by, in display order
DIMENSIONS = ("district", "institution", "focus_area", "initiative", "category", "month", "age_band", "gender")
#: dimensions that describe the young person, not the session
PERSON_DIMENSIONS = ("age_band", "gender")
#: dimensions that describe the activity (its district, institution, tags, category)
ACTIVITY_DIMENSIONS = ("district", "institution", "focus_area", "initiative", "category")
#: the column each activity dimension is read from (the tags through their link tables, see ``_tag_joins``)
DIMENSION_COLUMNS = {
    "district": Activity.district_id,
    "institution": Activity.institution_id,
    "focus_area": activity_focus_area.c.focus_area_id,
    "initiative": activity_initiative.c.initiative_id,
    "category": Activity.category,
}
#: figures that count people or visits: suppressed when small
COUNT_FIGURES = ("visits", "dropins", "unique", "new", "returning", "local", "waitlist")
RATE_FIGURES = ("avg_per_session", "avg_with_dropins", "attendance_rate", "capacity_use")
FIGURES = ("sessions",) + COUNT_FIGURES + RATE_FIGURES
#: the people figures of one group, as query_people names them
PEOPLE_FIGURES = ("unique", "visits", "returning", "local", "new")
#: and the cell key of each, for the release (disclosure.py): its contributors' record keys added
#: up, for a count of visits each weighted by their visits (modulo 256 there)
CELL_KEYS = tuple(f"{name}_key" for name in PEOPLE_FIGURES)
#: a young person with this many visits in the period is "returning"
RETURNING_VISITS = 3


@dataclass(frozen=True)
class StatsFilter:
    """A period (local dates, both inclusive) and the filters of a statistics request."""

    start: date
    end: date
    district_id: int | None = None
    #: None: every institution; otherwise only these (a staff member's own)
    institution_ids: frozenset[int] | None = None
    focus_area_id: int | None = None
    initiative_id: int | None = None
    category: str | None = None
    age_band: str | None = None
    gender: str | None = None
    #: the moment the figures are taken at: a session is held once it has started (tests pass a fixed one)
    now: datetime = field(default_factory=utcnow, compare=False)

    @property
    def lo(self):
        return to_utc(self.start, time(0, 0))

    @property
    def hi(self):
        return to_utc(self.end + timedelta(days=1), time(0, 0))

    @property
    def until(self):
        """The end of what the period has held so far: its end, or ``now`` when that comes first."""
        return min(self.hi, self.now)

    def whole_months(self) -> tuple[int, int] | None:
        """The first and last month (``month_index``) that lie entirely in the period and before ``now``, or None."""
        first = self.start if self.start.day == 1 else _next_month(self.start)
        after = _next_month(self.end) if (self.end + timedelta(days=1)).day == 1 else self.end.replace(day=1)
        after = min(after, to_local(self.now).date().replace(day=1))
        if first >= after:
            return None
        return month_index(first), month_index(after) - 1

    def partial_ranges(self) -> list[tuple]:
        """UTC [from, to) ranges of the period's days up to ``now`` outside its whole months."""
        lo, until = self.lo, self.until
        if lo >= until:
            return []
        whole = self.whole_months()
        if whole is None:
            return [(lo, until)]
        ranges = []
        first, after = to_utc(month_start(whole[0]), time(0, 0)), to_utc(month_start(whole[1] + 1), time(0, 0))
        if lo < first:
            ranges.append((lo, first))
        if after < until:
            ranges.append((after, until))
        return ranges

    def as_dict(self) -> dict:
        return {
            "from": self.start.isoformat(), "to": self.end.isoformat(), "district_id": self.district_id,
            "institution_ids": sorted(self.institution_ids) if self.institution_ids is not None else None,
            "focus_area_id": self.focus_area_id, "initiative_id": self.initiative_id,
            "category": self.category, "age_band": self.age_band, "gender": self.gender,
        }


def month_index(day: date) -> int:
    """A month as one number, as ``session.local_month`` stores it: year × 12 + month − 1."""
    return day.year * 12 + day.month - 1


def month_start(index: int) -> date:
    """The first day of a month given as ``month_index``."""
    return date(index // 12, index % 12 + 1, 1)


def _next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def within_initiative_year(f: StatsFilter) -> StatsFilter:
    """``f`` with its period cut to the year of its initiative's action plan (unchanged without an initiative).

    An initiative belongs to one year's plan: attendances count for it only in that year,
    so a filter by initiative never reaches outside it (the period may become empty).
    """
    if f.initiative_id is None:
        return f
    year = db.session.scalar(
        select(ActionPlan.year).join(Initiative, Initiative.action_plan_id == ActionPlan.id).where(Initiative.id == f.initiative_id)
    )
    if year is None:
        return f
    return replace(f, start=max(f.start, date(year, 1, 1)), end=min(f.end, date(year, 12, 31)))


@dataclass
class Row:
    """One group of a table: its dimension values, its figures, and which figures are hidden."""

    key: dict
    values: dict
    hidden: set = field(default_factory=set)
    #: counts behind the rates, never shown
    parts: dict = field(default_factory=dict)
    #: the hidden figures that are small themselves (the rest are hidden to protect them)
    small: set = field(default_factory=set)

    def get(self, figure):
        return None if figure in self.hidden else self.values.get(figure)


# -- SQL building blocks -------------------------------------------------------------------

#: the age bands in order; ``_age_band(..., index=True)`` answers a position in this list
AGE_BANDS = (AgeBand.UNDER_13.value, AgeBand.AGE_13_15.value, AgeBand.AGE_16_17.value, AgeBand.AGE_18_24.value)
#: the column types of the dimensions, for the NULL columns of a table that does not use one
_DIMENSION_TYPES = {"district": Integer, "institution": Integer, "focus_area": Integer, "initiative": Integer,
                    "category": String, "month": Integer, "age_band": Integer, "gender": String}


def _age_band(month_index, index: bool = False):
    """The age band at a month index (the person counts as born on the 1st of the birth month).

    ``index=True``: the band's position in ``AGE_BANDS`` (a small integer groups faster than text).
    """
    months_old = month_index - (YouthProfile.birth_year * 12 + YouthProfile.birth_month - 1)
    bands: list[ColumnElement[Any]] = (
        [literal_column(str(i)) for i in range(4)] if index else [literal(b) for b in AGE_BANDS]
    )
    return case(
        (months_old < 13 * 12, bands[0]),
        (months_old < 16 * 12, bands[1]),
        (months_old < 18 * 12, bands[2]),
        else_=bands[3],
    )


def _activity_conditions(f: StatsFilter) -> list:
    conds = []
    if f.district_id is not None:
        conds.append(Activity.district_id == f.district_id)
    if f.institution_ids is not None:
        conds.append(Activity.institution_id.in_(sorted(f.institution_ids) or [-1]))
    if f.category:
        conds.append(Activity.category == Category(f.category))
    if f.focus_area_id is not None:
        conds.append(Activity.id.in_(
            select(activity_focus_area.c.activity_id).where(activity_focus_area.c.focus_area_id == f.focus_area_id)
        ))
    if f.initiative_id is not None:
        # the period is cut to the initiative's year already (``within_initiative_year``)
        conds.append(Activity.id.in_(
            select(activity_initiative.c.activity_id).where(activity_initiative.c.initiative_id == f.initiative_id)
        ))
    return conds


def _held_in_period(f: StatsFilter, ranges: list[tuple] | None = None) -> list:
    """Sessions held in the period: started before its end and before now, and not cancelled.

    ``ranges``: only those that started in these UTC [from, to) ranges of it (``grain_cache``
    reads the rest from the kept closed years).
    """
    if ranges is None:
        return [Session.cancelled_at.is_(None), Session.starts_at >= f.lo, Session.starts_at < f.until]
    within = [and_(Session.starts_at >= a, Session.starts_at < b) for a, b in ranges]
    return [Session.cancelled_at.is_(None), or_(*within) if within else literal(False)]


def _tag_joins(frm, dims, activity_id=Activity.id, month=None):
    """Join the link tables of the tag dimensions in ``dims`` (outer: an untagged activity is "(ingen)").

    An initiative tag joins only within its action plan's year: ``month`` (a month index
    expression) must fall in it, so the same activity counts under no initiative in other years.
    The year is part of the join's key (activity, plan year), so a row meets only the tags of
    its own year, however many years of plans there are.
    """
    if "focus_area" in dims:
        frm = frm.outerjoin(activity_focus_area, activity_focus_area.c.activity_id == activity_id)
    if "initiative" in dims:
        tags = (activity_initiative.join(Initiative, Initiative.id == activity_initiative.c.initiative_id)
                .join(ActionPlan, ActionPlan.id == Initiative.action_plan_id))
        frm = frm.outerjoin(tags, and_(activity_initiative.c.activity_id == activity_id, ActionPlan.year == month // 12))
    return frm


def _grouped(rows_subquery, dims, *aggregates):
    """Group a row-level subquery by its ``g_*`` columns (keeps PostgreSQL's GROUP BY happy with bound CASEs)."""
    cols = [rows_subquery.c[f"g_{d}"] for d in dims]
    return select(*cols, *aggregates).group_by(*cols)


def _keyed(result, dims, n_values):
    out = {}
    for row in result:
        out[tuple(row[: len(dims)])] = tuple(row[len(dims): len(dims) + n_values])
    return out


def _person_conditions(f: StatsFilter, age_band_expr, index: bool = False) -> list:
    conds = []
    if f.gender:
        conds.append(YouthProfile.gender == Gender(f.gender))
    if f.age_band:
        band = AgeBand(f.age_band).value
        conds.append(age_band_expr == (literal_column(str(AGE_BANDS.index(band))) if index else band))
    return conds


def _visits(f: StatsFilter, skip: tuple[int, int] | None = None):
    """The period's visits that match the activity filters, per young person, activity and month (youth_id, aid, m, n).

    Whole months come from ``visit_month``; the days at the ends of the period that do not
    make up a whole month, and the month of ``now``, are counted from the visits at held sessions.
    ``skip``: the first and last month index of whole months left out (the caller reads them elsewhere).
    """
    conds = _activity_conditions(f)
    parts = []
    whole = f.whole_months()
    if whole is not None:
        stmt = select(VisitMonth.youth_id, VisitMonth.activity_id.label("aid"), VisitMonth.month.label("m"),
                      VisitMonth.visits.label("n")).where(VisitMonth.month.between(*whole))
        if skip is not None:
            stmt = stmt.where(~VisitMonth.month.between(*skip))
        if conds:
            stmt = stmt.join(Activity, Activity.id == VisitMonth.activity_id).where(*conds)
        parts.append(stmt)
    ranges = f.partial_ranges()
    if ranges or not parts:
        parts.append(
            select(Attendance.youth_id, Session.activity_id.label("aid"), Session.local_month.label("m"),
                   cast(func.count(), Integer).label("n"))
            .join(Session, Session.id == Attendance.session_id)
            .join(Activity, Activity.id == Session.activity_id)
            .where(Session.cancelled_at.is_(None),
                   or_(*[and_(Session.starts_at >= a, Session.starts_at < b) for a, b in ranges]) if ranges else literal(False),
                   *conds)
            .group_by(Attendance.youth_id, Session.activity_id, Session.local_month)
        )
    return (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("visits")


def _newcomers(f: StatsFilter, visitors):
    """Of the young people in ``visitors`` (a query of ``youth_id``), those with no held visit anywhere before the period.

    Answers (youth_id, first_m): ``first_m`` is the month of their first visit ever, which a
    month row needs ("new in that month"). The earliest month of each comes from
    ``visit_month``'s primary key (one index probe per young person, however many years lie
    before the period); the days of the first month before the period starts, if any, from
    the visits of those days.
    """
    people = visitors.subquery("people")
    earliest = (
        select(func.min(VisitMonth.month)).where(VisitMonth.youth_id == people.c.youth_id).scalar_subquery()
    )
    conds = [earliest >= month_index(f.start)]
    if f.start.day != 1:
        early = (
            select(Attendance.youth_id).join(Session, Session.id == Attendance.session_id)
            .where(Session.cancelled_at.is_(None), Session.starts_at >= to_utc(f.start.replace(day=1), time(0, 0)),
                   Session.starts_at < f.lo)
        )
        conds.append(people.c.youth_id.not_in(early))
    return select(people.c.youth_id, earliest.label("first_m")).where(*conds).cte("newcomers")


@contextmanager
def _fast_aggregates():
    """On PostgreSQL, for the statements inside: no JIT, room to hash in memory, parallel workers.

    JIT compiling the statement's many aggregates costs more than running them (seconds on
    a million visits); the default 4 MB ``work_mem`` makes the per-person hash spill to
    disk; and with PostgreSQL's default costs a statement that reads a year of visit counts
    starts no parallel worker, though it runs in about two thirds of the time with them.
    All are set for this transaction only and put back afterwards (one round trip each way).
    """
    bind = db.session.get_bind()
    if bind.dialect.name != "postgresql":
        yield
        return
    settings = {"jit": "off", "work_mem": "128MB", "parallel_setup_cost": "0", "parallel_tuple_cost": "0.001"}

    def set_all(values):
        calls = ", ".join(f"set_config(:k{i}, :v{i}, true)" for i in range(len(values)))
        params = {}
        for i, (k, v) in enumerate(values.items()):
            params[f"k{i}"], params[f"v{i}"] = k, v
        db.session.execute(text(f"SELECT {calls}"), params)

    names = list(settings)
    current = db.session.execute(
        text("SELECT " + ", ".join(f"current_setting(:k{i})" for i in range(len(names)))),
        {f"k{i}": k for i, k in enumerate(names)},
    ).one()
    before = dict(zip(names, current, strict=True))
    set_all(settings)
    try:
        yield
    finally:
        set_all(before)




def _splits_by_month(dims) -> bool:
    """Whether a table's groups need the visits per month: a month breakdown, or initiatives (each of one plan year)."""
    return "month" in dims or "initiative" in dims


def query_people(f: StatsFilter, tables, *, kept_years: list[int] | None = None) -> dict:
    """The people figures of every table in ``tables`` (tuples of dimensions), from one pass over the visit counts.

    One statement: the period's visit counts are read once, per young person, activity and
    month. Tables with months read them as they are (``monthly``); the rest read them summed
    per young person, activity, year and age band (``yearly``: an initiative counts in its
    plan's year), tables without initiatives summed again over the years (``coarse``, a few
    rows per young person). Each table then groups those per group and young person, and per
    group. Keys are integers until the last step (age bands as positions in ``AGE_BANDS``),
    which is what makes the grouping fast. Answers ``{dims: {key: {figure: value}}}`` with the
    figures of ``PEOPLE_FIGURES`` and raw (not normalised) keys.

    ``kept_years``: consecutive closed years wholly in the period, whose visits are not read: the
    month tables leave their months out (the caller has those rows, ``compute_tables``), the
    others read them summed per young person, offer, year and age band as ``grain_cache`` keeps
    them (``ensure_people``).
    """
    tables = [tuple(t) for t in dict.fromkeys(tuple(t) for t in tables)]
    kept_years = list(kept_years or ())
    skip = (kept_years[0] * 12, kept_years[-1] * 12 + 11) if kept_years else None
    visits = _visits(f, skip)
    # months (and ages, which need them) only when a table or the filter asks: otherwise the
    # visits are counted per young person and activity, far fewer groups
    by_month = bool(f.age_band) or any(_splits_by_month(t) or "age_band" in t for t in tables)
    if by_month:
        base = select(visits).cte("base")
    else:
        base = (
            select(visits.c.youth_id, visits.c.aid, literal_column(str(month_index(f.end))).label("m"),
                   # integer sums: PostgreSQL sums a bigint count as numeric, several times slower
                   cast(func.sum(visits.c.n), Integer).label("n"))
            .group_by(visits.c.youth_id, visits.c.aid)
            .cte("base")
        )

    def local(home):
        """1 when the young person lives in the district of the activity (joined as ``Activity``)."""
        return case((home == Activity.district_id, 1), else_=0).label("loc")

    band = _age_band(base.c.m, index=True)
    person = _person_conditions(f, band, index=True)
    monthly = coarse = yearly = None
    if any("month" in t for t in tables):
        # per young person, activity and month, for the tables with months
        monthly = (
            select(base.c.youth_id, base.c.aid, base.c.m, band.label("ab"), local(YouthProfile.home_district_id), base.c.n,
                   YouthProfile.record_key.label("rk"))
            .select_from(base.join(YouthProfile, YouthProfile.id == base.c.youth_id).join(Activity, Activity.id == base.c.aid))
            .where(*person)
            .cte("monthly")
        )
    def summed(*by):
        """The visits summed per young person, activity, ``by`` (labelled columns of ``base``) and age band
        first, and only those (a few per young person) joined to their activity."""
        banded = (
            select(base.c.youth_id, base.c.aid, *by, band.label("ab"), YouthProfile.home_district_id.label("home"), base.c.n,
                   YouthProfile.record_key.label("rk"))
            .select_from(base.join(YouthProfile, YouthProfile.id == base.c.youth_id))
            .where(*person)
            .subquery("banded")
        )
        keys = [banded.c.youth_id, banded.c.aid, *[banded.c[c.name] for c in by], banded.c.ab, banded.c.home, banded.c.rk]
        counted = select(*keys, cast(func.sum(banded.c.n), Integer).label("n")).group_by(*keys).subquery("counted")
        return (
            select(counted.c.youth_id, counted.c.aid, *[counted.c[c.name] for c in by], counted.c.ab, local(counted.c.home),
                   counted.c.n, counted.c.rk)
            .select_from(counted.join(Activity, Activity.id == counted.c.aid))
        )

    def kept():
        """The kept years' visits per young person, offer, year and age band, under the filters, as ``yearly`` has them."""
        grain_cache.ensure_people(kept_years)
        rows = grain_cache.people_rows(kept_years).subquery("kept_people")
        return (
            select(rows.c.youth_id, rows.c.aid, rows.c.m, rows.c.ab, local(YouthProfile.home_district_id), rows.c.n,
                   YouthProfile.record_key.label("rk"))
            .select_from(rows.join(YouthProfile, YouthProfile.id == rows.c.youth_id).join(Activity, Activity.id == rows.c.aid))
            .where(*_activity_conditions(f), *_person_conditions(f, rows.c.ab, index=True))
        )

    if any("month" not in t for t in tables):
        if by_month:
            # per year (its January as the month), then summed again over the years for the tables without initiatives
            twelve = literal_column("12", Integer)
            live = summed(((base.c.m // twelve) * twelve).label("m"))
            yearly = union_all(live, kept()).cte("yearly") if kept_years else live.cte("yearly")
            if any(not _splits_by_month(t) for t in tables):
                coarse = (
                    select(yearly.c.youth_id, yearly.c.aid, yearly.c.ab, func.max(yearly.c.loc).label("loc"),
                           cast(func.sum(yearly.c.n), Integer).label("n"), func.max(yearly.c.rk).label("rk"))
                    .group_by(yearly.c.youth_id, yearly.c.aid, yearly.c.ab)
                    .cte("coarse")
                )
        else:
            assert not kept_years, "kept years are for families with a month table, which reads by month"
            coarse = summed().cte("coarse")  # no month, initiative or age band: per young person and activity

    def source(dims):
        if "month" in dims:
            return monthly
        return yearly if _splits_by_month(dims) else coarse

    # the young people the tables count, looked up once each (a month table's are among the others')
    either = next(src for src in (coarse, yearly, monthly) if src is not None)
    newcomers = _newcomers(f, select(either.c.youth_id).distinct())
    parts = []
    for i, dims in enumerate(tables):
        src = source(dims)
        assert src is not None, "made above for every kind of table asked for"
        frm: FromClause = src
        if any(d in ("district", "institution", "category") for d in dims):
            frm = frm.join(Activity, Activity.id == src.c.aid)
        if "gender" in dims:
            frm = frm.join(YouthProfile, YouthProfile.id == src.c.youth_id)
        frm = _tag_joins(frm, dims, activity_id=src.c.aid, month=src.c.m if "initiative" in dims else None)
        cols = {**DIMENSION_COLUMNS, "age_band": src.c.ab, "gender": YouthProfile.gender}
        if "month" in dims:
            cols["month"] = src.c.m
        per_youth = (
            select(
                *[cols[d].label(f"g_{d}") for d in dims], src.c.youth_id,
                func.max(src.c.loc).label("loc"), cast(func.sum(src.c.n), Integer).label("n"),
                func.max(src.c.rk).label("rk"),
            )
            .select_from(frm)
            .group_by(*[cols[d] for d in dims], src.c.youth_id)
            .subquery(f"per_youth_{i}")
        )
        keys = [per_youth.c[f"g_{d}"] for d in dims]
        # new: no held visit before the period (looked up once per young person); in a month
        # row, new in that month: their first visit ever falls in it
        is_new = newcomers.c.youth_id.is_not(None)
        if "month" in dims:
            is_new = and_(is_new, newcomers.c.first_m == per_youth.c.g_month)
        figures = {
            "unique": func.count(),
            "visits": func.sum(per_youth.c.n),
            "returning": func.sum(case((per_youth.c.n >= RETURNING_VISITS, 1), else_=0)),
            "local": func.sum(per_youth.c.loc),
            "new": func.sum(case((is_new, 1), else_=0)),
        }
        rk = per_youth.c.rk
        figures.update({
            "unique_key": func.sum(rk),
            "visits_key": func.sum(rk * per_youth.c.n),
            "returning_key": func.sum(case((per_youth.c.n >= RETURNING_VISITS, rk), else_=0)),
            "local_key": func.sum(rk * per_youth.c.loc),
            "new_key": func.sum(case((is_new, rk), else_=0)),
        })
        parts.append(
            select(
                literal_column(str(i)).label("t"),
                *[(per_youth.c[f"g_{d}"] if d in dims else cast(null(), _DIMENSION_TYPES[d])).label(f"g_{d}") for d in DIMENSIONS],
                # labelled apart from SQL's words (returning, local)
                *[figures[name].label(f"f_{name}") for name in PEOPLE_FIGURES + CELL_KEYS],
            )
            .select_from(per_youth.outerjoin(newcomers, newcomers.c.youth_id == per_youth.c.youth_id))
            .group_by(*keys)
        )
    out: dict = {dims: {} for dims in tables}
    if not parts:
        return out
    stmt = parts[0] if len(parts) == 1 else union_all(*parts)
    for row in db.session.connection().execute(stmt).mappings().all():
        dims = tables[int(row["t"])]
        key = tuple(AGE_BANDS[int(row["g_age_band"])] if d == "age_band" else row[f"g_{d}"] for d in dims)
        out[dims][key] = {name: int(row[f"f_{name}"] or 0) for name in PEOPLE_FIGURES + CELL_KEYS}
    return out


_GRAIN = ("aid", "m", "ab", "g")
_GRAIN_TYPES = (Integer, Integer, String, String)


#: how fine a shape's month slot is: a year's sums come from its months', the period's from its years'
_PERIOD_RANK = {"": 0, "year": 1, "month": 2}


def _refines(finer, coarser) -> bool:
    """Whether the groups of shape ``coarser`` are sums of the groups of shape ``finer`` (every slot as fine or finer)."""
    return finer != coarser and all(
        (_PERIOD_RANK[a] >= _PERIOD_RANK[b]) if i == 1 else (a or not b) for i, (a, b) in enumerate(zip(finer, coarser, strict=True)))


def _grain_rows(stmt_rows, n_values: int, shapes) -> dict:
    """Sum a row-level subquery (columns aid, m, ab, g and values v0..) into each of ``shapes``.

    A shape says which of (activity, month or year, age band, gender) its groups keep (``_shape``).
    The rows are summed once by all four, then by each shape, in one statement, so only the
    groups a table shows come back; a shape that another asked-for shape refines is summed
    from that one's groups (the coarsest such), not from every row again. Answers ``{shape:
    {(activity, month, band, gender): [values]}}`` with None for what a shape drops, months as "YYYY-MM".
    """
    shapes = sorted(set(shapes))
    # band and gender as the stored strings: no enum made and unmade for each row
    grain = (
        select(stmt_rows.c.aid, stmt_rows.c.m, type_coerce(stmt_rows.c.ab, String).label("ab"),
               type_coerce(stmt_rows.c.g, String).label("g"),
               *[func.sum(stmt_rows.c[f"v{i}"]).label(f"v{i}") for i in range(n_values)])
        .group_by(stmt_rows.c.aid, stmt_rows.c.m, stmt_rows.c.ab, stmt_rows.c.g)
        .cte("grain").prefix_with("MATERIALIZED")
    )

    def kept_slots(shape):
        return sum(bool(slot) for slot in shape) + _PERIOD_RANK[shape[1]]

    summed: dict = {}
    # finest first, so that each shape's source is made before it
    for i, shape in enumerate(sorted(shapes, key=kept_slots, reverse=True)):
        finer = [t for t in summed if _refines(t, shape)]
        src = summed[min(finer, key=kept_slots)] if finer else grain
        columns: dict[str, ColumnElement[Any]] = {name: src.c[name] for name in _GRAIN}
        if shape[1] == "year":
            # the year's January: ten years are 10 rows an offer, not 120
            columns["m"] = (src.c.m // literal_column("12", Integer)) * literal_column("12", Integer)
        kept = [columns[name] for name, keep in zip(_GRAIN, shape, strict=True) if keep]
        summed[shape] = (
            select(*[(columns[name] if keep else cast(null(), type_)).label(name)
                     for name, keep, type_ in zip(_GRAIN, shape, _GRAIN_TYPES, strict=True)],
                   # integer sums: PostgreSQL sums a bigint as numeric, which arrives as Decimal
                   *[cast(func.sum(src.c[f"v{j}"]), Integer).label(f"v{j}") for j in range(n_values)])
            .group_by(*kept)
            .cte(f"shape_{i}")
        )
    parts = [select(literal_column(str(i)), *[summed[shape].c[name] for name in _GRAIN],
                    *[summed[shape].c[f"v{j}"] for j in range(n_values)])
             for i, shape in enumerate(shapes)]
    out: dict = {shape: {} for shape in shapes}
    if not parts:
        return out
    for row in db.session.connection().execute(union_all(*parts) if len(parts) > 1 else parts[0]).all():
        values = row[5:]
        if all(v is None for v in values):  # a shape without groups sums nothing into one empty row
            continue
        aid, m, ab, g = row[1:5]
        out[shapes[row[0]]][(aid, None if m is None else _normalise_value("month", m), ab, g)] = [v or 0 for v in values]
    return out


def _summed(f: StatsFilter, shapes, kind: str, make_rows, n_values: int, *, by_person: bool = True) -> dict:
    """A row source (``make_rows(f, ranges)``) summed into ``shapes``, the closed years it covers read from
    what ``grain_cache`` keeps of ``kind``; ``by_person``: the filter's age band and gender apply to its rows."""
    person = {"band": AgeBand(f.age_band).value if f.age_band else None,
              "gender": Gender(f.gender).value if f.gender else None} if by_person else {}
    return _grain_rows(grain_cache.with_kept_years(f, kind, make_rows, n_values, **person), n_values, shapes)


def query_sessions(f: StatsFilter, shapes) -> dict:
    """Held sessions and the places each offered (the capacity that applied at it), per activity and month, summed into ``shapes``."""
    return _summed(f, shapes, "sessions", _session_rows, 2, by_person=False)


def _session_rows(f: StatsFilter, ranges: list[tuple]):
    return (
        select(
            Session.activity_id.label("aid"), Session.local_month.label("m"),
            literal_column("NULL").label("ab"), literal_column("NULL").label("g"),
            literal_column("1").label("v0"), Session.capacity.label("v1"),
        )
        .join(Activity, Activity.id == Session.activity_id)
        .where(*_held_in_period(f, ranges), *_activity_conditions(f))
        .subquery("rows")
    )


def query_dropins(f: StatsFilter, shapes) -> dict:
    """Anonymous drop-ins per activity, month, age band and gender (the head count's own), summed into ``shapes``."""
    return _summed(f, shapes, "dropins", _dropin_rows, 2)


def _dropin_rows(f: StatsFilter, ranges: list[tuple]):
    conds = []
    if f.age_band:
        conds.append(HeadCount.age_band == AgeBand(f.age_band))
    if f.gender:
        conds.append(HeadCount.gender == Gender(f.gender))
    return (
        select(
            Session.activity_id.label("aid"), Session.local_month.label("m"),
            HeadCount.age_band.label("ab"), HeadCount.gender.label("g"), HeadCount.count.label("v0"),
            # the drop-ins' cell key: each head count's record key weighted by its count (modulo 256 later)
            (HeadCount.count * HeadCount.record_key).label("v1"),
        )
        .select_from(HeadCount.__table__.join(Session, Session.id == HeadCount.session_id)
                     .join(Activity, Activity.id == Session.activity_id))
        .where(*_held_in_period(f, ranges), *_activity_conditions(f), *conds)
        .subquery("rows")
    )


def signup_confirmed_at(starts_at) -> list:
    """Conditions: the sign-up (``Signup``) was confirmed at ``starts_at`` (``confirmed_at_moment``)."""
    return confirmed_at_moment(starts_at)


def query_signup_sessions(f: StatsFilter, shapes) -> dict:
    """(Sign-up × held session) pairs and how many of them were attended, per activity, month and the young person's age band and gender.

    A pair is a held session of a sign-up offer and a young person with a sign-up of it that was
    confirmed when the session started (``signup_confirmed_at``), once however many such
    sign-ups they hold (a place cancelled and taken again during a session, two profiles
    merged into one); it is attended when the young person has an attendance at that session.
    Summed into ``shapes`` as [pairs, attended, attended key].

    Two row sources, added up: every pair (from the sign-ups), and every attended pair (from
    the attendances at those sessions whose young person held such a sign-up). Counting
    the attended pairs from the attendances reads each visit once, where asking of every pair
    whether it was attended probes the attendances once per pair (a million probes a year
    at city scale).
    """
    return _summed(f, shapes, "signup_sessions", _signup_session_rows, 3)


def _signup_session_rows(f: StatsFilter, ranges: list[tuple]):
    sessions = (
        select(Session.id.label("sid"), Session.activity_id.label("aid"), Session.local_month.label("m"),
               Session.starts_at.label("at"))
        .join(Activity, Activity.id == Session.activity_id)
        .where(Activity.requires_signup.is_(True), *_held_in_period(f, ranges), *_activity_conditions(f))
        .subquery("sessions")
    )
    zero: ColumnElement[Any] = literal_column("0")
    # one pair per young person and session, however many of their sign-ups were confirmed at it
    distinct_pairs = (
        select(sessions.c.sid, sessions.c.aid, sessions.c.m, Signup.youth_id.label("youth_id"))
        .select_from(Signup.__table__.join(sessions, sessions.c.aid == Signup.activity_id))
        .where(*signup_confirmed_at(sessions.c.at))
        .distinct()
        .subquery("distinct_pairs")
    )
    pair_band = _age_band(distinct_pairs.c.m)
    pairs = (
        select(distinct_pairs.c.aid, distinct_pairs.c.m, pair_band.label("ab"), YouthProfile.gender.label("g"),
               literal_column("1").label("v0"), zero.label("v1"), zero.label("v2"))
        .select_from(distinct_pairs.join(YouthProfile, YouthProfile.id == distinct_pairs.c.youth_id))
        .where(*_person_conditions(f, pair_band))
    )
    age_band = _age_band(sessions.c.m)
    held_a_place = exists().where(Signup.activity_id == sessions.c.aid, Signup.youth_id == Attendance.youth_id,
                                  *signup_confirmed_at(sessions.c.at))
    attended = (
        select(sessions.c.aid, sessions.c.m, age_band.label("ab"), YouthProfile.gender.label("g"),
               zero.label("v0"), literal_column("1").label("v1"),
               # the attended pairs' cell key (the young person's record key for each)
               YouthProfile.record_key.label("v2"))
        .select_from(
            Attendance.__table__.join(sessions, sessions.c.sid == Attendance.session_id)
            .join(YouthProfile, YouthProfile.id == Attendance.youth_id)
        )
        .where(held_a_place, *_person_conditions(f, age_band))
    )
    return union_all(pairs, attended).subquery("rows")


def query_capacity_visits(f: StatsFilter, shapes) -> dict:
    """Visits at held sessions that had a capacity, per activity, month and the young person's age band and gender, summed into ``shapes``."""
    return _summed(f, shapes, "capacity_visits", _capacity_visit_rows, 2)


def _capacity_visit_rows(f: StatsFilter, ranges: list[tuple]):
    age_band = _age_band(Session.local_month)
    return (
        select(Session.activity_id.label("aid"), Session.local_month.label("m"), age_band.label("ab"),
               YouthProfile.gender.label("g"), literal_column("1").label("v0"),
               YouthProfile.record_key.label("v1"))  # the cell key: each visit adds its young person's record key
        .select_from(Attendance.__table__.join(Session, Session.id == Attendance.session_id)
                     .join(Activity, Activity.id == Session.activity_id)
                     .join(YouthProfile, YouthProfile.id == Attendance.youth_id))
        .where(Session.capacity.is_not(None), *_held_in_period(f, ranges), *_activity_conditions(f),
               *_person_conditions(f, age_band))
        .subquery("rows")
    )


def query_waitlist(f: StatsFilter, dims) -> dict:
    """Per group (no months): young people on a waitlist at the end of the period."""
    if f.start > f.end:  # a period cut away entirely (an initiative of another year)
        return {}
    end_month = literal(month_index(f.end))
    age_band = _age_band(end_month)
    exprs = {**DIMENSION_COLUMNS, "age_band": age_band, "gender": YouthProfile.gender}
    at = f.hi
    waiting = [
        Signup.created_at < at,
        (Signup.confirmed_at.is_(None) & (Signup.status != SignupStatus.CONFIRMED)) | (Signup.confirmed_at >= at),
        Signup.cancelled_at.is_(None) | (Signup.cancelled_at >= at),
    ]
    frm = _tag_joins(
        Signup.__table__.join(Activity, Activity.id == Signup.activity_id).join(YouthProfile, YouthProfile.id == Signup.youth_id),
        dims, month=end_month,
    )
    rows = (
        select(*[exprs[d].label(f"g_{d}") for d in dims], Signup.youth_id.label("youth_id"),
               YouthProfile.record_key.label("rk"))
        .select_from(frm)
        .where(*waiting, *_activity_conditions(f), *_person_conditions(f, age_band))
        .distinct()
        .subquery("rows")
    )
    # (count, cell key): each young person once per group, their record keys added up
    stmt = _grouped(rows, dims, func.count(rows.c.youth_id), func.sum(rows.c.rk))
    return _keyed(db.session.execute(stmt), dims, 2)


# -- tables ---------------------------------------------------------------------------------

def _ratio(num, den):
    if num is None or not den:
        return None
    return num / den


def _normalise_value(d, v):
    if v is None:
        return None
    if d == "month":
        return f"{int(v) // 12:04d}-{int(v) % 12 + 1:02d}"
    if d in ("category", "age_band", "gender"):
        return str(getattr(v, "value", v))
    return int(v)


def _normalise_key(dims, key):
    return tuple(_normalise_value(d, v) for d, v in zip(dims, key, strict=True))


class _Activities:
    """The dimension values of each activity (tags as lists; "(ingen)" as [None]), loaded once."""

    def __init__(self):
        self.values: dict = {}
        #: activity -> ((initiative, its plan's year), ...)
        self.initiative_years: dict = {}
        for aid, district, institution, category in db.session.execute(
            select(Activity.id, *[DIMENSION_COLUMNS[d] for d in ("district", "institution", "category")])
        ):
            self.values[aid] = {"district": (district,), "institution": (institution,),
                                "category": (_normalise_value("category", category),), "focus_area": []}
        for aid, tag in db.session.execute(select(activity_focus_area.c.activity_id, DIMENSION_COLUMNS["focus_area"])):
            if aid in self.values:
                self.values[aid]["focus_area"].append(tag)
        for v in self.values.values():
            v["focus_area"] = tuple(v["focus_area"]) or (None,)
        for aid, tag, year in db.session.execute(
            select(activity_initiative.c.activity_id, DIMENSION_COLUMNS["initiative"], ActionPlan.year)
            .join(Initiative, Initiative.id == activity_initiative.c.initiative_id)
            .join(ActionPlan, ActionPlan.id == Initiative.action_plan_id)
        ):
            self.initiative_years.setdefault(aid, []).append((tag, year))

    def of(self, aid, d, month) -> tuple:
        """The groups of dimension ``d`` an activity counts in; initiatives only in their plan's year (``month`` "YYYY-MM")."""
        if d == "initiative":
            year = int(month[:4])
            return tuple(i for i, y in self.initiative_years.get(aid, ()) if y == year) or (None,)
        return self.values[aid][d]


def _shape(dims) -> tuple:
    """Which of (activity, month, age band, gender) the groups of ``dims`` depend on.

    The month's slot is "month" for a month breakdown, "year" for initiatives without one (an
    initiative counts in its plan's year: the rows are summed per year, as its January), else "".
    """
    period = "month" if "month" in dims else "year" if _splits_by_month(dims) else ""
    return (any(d in ACTIVITY_DIMENSIONS for d in dims), period, "age_band" in dims, "gender" in dims)


def _rollups(projected: dict, tables, activities: _Activities) -> dict:
    """Spread rows summed per shape (``_grain_rows``) over the groups of each of ``tables``.

    An activity stands for its district, institution, category and tags; one with two tags
    adds to both groups.
    """
    out = {}
    for dims in tables:
        table: dict = {}
        for (aid, month, band, gender), values in projected[_shape(dims)].items():
            lists = []
            for d in dims:
                if d == "month":
                    lists.append((month,))
                elif d == "age_band":
                    lists.append((band,))
                elif d == "gender":
                    lists.append((gender,))
                else:
                    lists.append(activities.of(aid, d, month))
            for key in itertools.product(*lists) if dims else [()]:
                acc = table.get(key)
                if acc is None:
                    table[key] = list(values)
                else:
                    for i, v in enumerate(values):
                        acc[i] += v
        out[dims] = table
    return out


def _years_of_kept_months(f: StatsFilter) -> list[int]:
    """The closed years in ``f`` whose month rows are read from each year's own kept figures (none: all computed).

    A month's row is the same in every period that holds the whole month: its young people,
    visits and those new in it (a first visit ever in that month) do not depend on where the
    period starts. So a long period takes the rows of its closed years from the figures kept
    for each of those years alone (``figures_cache``), and a period of one whole year computes
    its own (what it keeps is what the longer ones read).
    """
    years = grain_cache.kept_years(f)
    if years == [f.start.year] and f.start == date(f.start.year, 1, 1) and f.end == date(f.start.year, 12, 31):
        return []
    return years


def _kept_month_people(f: StatsFilter, years: list[int], month_tables) -> dict:
    """The people figures of ``month_tables``' rows in each of ``years``, from each year's kept figures, keys normalised."""
    from .figures_cache import tables as kept_tables

    out: dict = {dims: {} for dims in month_tables}
    for year in years:
        answer = kept_tables(replace(f, start=date(year, 1, 1), end=date(year, 12, 31)), month_tables)
        for dims in month_tables:
            for row in answer[dims]:
                if row.values["unique"]:  # rows that only sessions or drop-ins made: no people there
                    out[dims][tuple(row.key[d] for d in dims)] = {
                        **{name: row.values[name] for name in PEOPLE_FIGURES}, **{name: row.parts[name] for name in CELL_KEYS}}
    return out


def compute_tables(f: StatsFilter, tables) -> dict:
    """Every figure for every group of each of ``tables`` (tuples of dimensions) under ``f``, unsuppressed.

    The visits are read once for all tables (``query_people``); sessions, head counts,
    sign-up pairs and the visits at sessions with places once each, summed in SQL to what the
    tables keep of activity, month, age band and gender, and spread over the tables' groups
    in Python.
    """
    tables = [tuple(t) for t in dict.fromkeys(tuple(t) for t in tables)]
    for dims in tables:
        for d in dims:
            if d not in DIMENSIONS:
                raise ValueError(d)
    f = within_initiative_year(f)
    session_dims = {tuple(d for d in dims if d not in PERSON_DIMENSIONS) for dims in tables}
    shapes = [_shape(dims) for dims in tables]
    month_tables = [dims for dims in tables if "month" in dims]
    years = _years_of_kept_months(f) if month_tables else []
    kept_people = _kept_month_people(f, years, month_tables)
    with _fast_aggregates():
        people_raw = query_people(f, tables, kept_years=years)
        session_rows = query_sessions(f, [_shape(dims) for dims in session_dims])
        dropin_rows, pair_rows = query_dropins(f, shapes), query_signup_sessions(f, shapes)
        capacity_rows = query_capacity_visits(f, shapes)
        waitlists = {dims: query_waitlist(f, dims) for dims in tables if "month" not in dims}
    activities = _Activities()
    session_tables = _rollups(session_rows, session_dims, activities)
    dropin_tables, pair_tables = _rollups(dropin_rows, tables, activities), _rollups(pair_rows, tables, activities)
    capacity_tables = _rollups(capacity_rows, tables, activities)
    out = {}
    for dims in tables:
        people = {_normalise_key(dims, k): v for k, v in people_raw[dims].items()} | kept_people.get(dims, {})
        sdims = tuple(d for d in dims if d not in PERSON_DIMENSIONS)
        sessions, dropins, pairs = session_tables[sdims], dropin_tables[dims], pair_tables[dims]
        waitlist = {_normalise_key(dims, k): v for k, v in waitlists.get(dims, {}).items()}

        keys = set(people) | set(dropins) | set(pairs) | set(waitlist)
        if not any(d in PERSON_DIMENSIONS for d in dims):
            keys |= set(sessions)
        if not dims:
            keys = {()}
        rows = []
        for key in keys:
            skey = tuple(v for d, v in zip(dims, key, strict=True) if d not in PERSON_DIMENSIONS)
            figures = people.get(key) or dict.fromkeys(PEOPLE_FIGURES + CELL_KEYS, 0)
            visits = figures["visits"]
            n_sessions, places = sessions.get(skey, (0, 0))
            drop, drop_key = dropins.get(key) or (0, 0)
            expected, attended, attended_key = pairs.get(key) or (0, 0, 0)
            visits_cap, visits_cap_key = capacity_tables[dims].get(key) or (0, 0)
            wait, wait_key = waitlist.get(key) or (0, 0)
            values = {
                "sessions": n_sessions, "visits": visits, "dropins": drop, "unique": figures["unique"],
                "new": figures["new"], "returning": figures["returning"], "local": figures["local"],
                "waitlist": None if "month" in dims else int(wait or 0),
                "avg_per_session": _ratio(visits, n_sessions),
                "avg_with_dropins": _ratio(visits + drop, n_sessions),
                "attendance_rate": _ratio(attended, expected),
                "capacity_use": _ratio(visits_cap, places),
            }
            parts = {"attended": attended, "expected": expected, "visits_cap": visits_cap, "places": places,
                     # the cell keys, for the release (disclosure.py)
                     **{name: figures[name] for name in CELL_KEYS}, "dropins_key": drop_key, "waitlist_key": int(wait_key or 0),
                     "attended_key": attended_key, "visits_cap_key": visits_cap_key}
            rows.append(Row(dict(zip(dims, key, strict=True)), values, set(), parts))
        rows.sort(key=lambda r: [(v is None, v if v is not None else 0) for v in r.key.values()])
        out[dims] = rows
    return out


def compute_table(f: StatsFilter, dims=()) -> list[Row]:
    """Every figure for every group of ``dims`` under ``f``, unsuppressed."""
    return compute_tables(f, [tuple(dims)])[tuple(dims)]
