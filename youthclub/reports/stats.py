"""Participation figures computed in SQL (see docs/metrics.md for each definition).

Every figure is an aggregate query grouped by the requested dimensions; Python only
merges the few result rows of the separate queries (attendance, sessions, head counts,
sign-ups) into one row per group. Periods are Europe/Copenhagen local dates, turned into
UTC bounds so the indexes on ``session.starts_at`` are used; months and ages are CASE
expressions over those bounds, so the same SQL runs on SQLite and PostgreSQL.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import date, time, timedelta

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import aliased

from ..accounts.models import Gender, YouthProfile
from ..activities.models import Activity, Category, Session, activity_focus_area, activity_initiative
from ..attendance.models import AgeBand, Attendance, HeadCount
from ..extensions import db
from ..i18n import to_utc
from ..signups.models import Signup, SignupStatus

#: dimensions a table can be grouped by, in display order
DIMENSIONS = ("district", "institution", "focus_area", "initiative", "category", "month", "age_band", "gender")
#: dimensions that describe the young person, not the session
PERSON_DIMENSIONS = ("age_band", "gender")
#: figures that count people or visits: suppressed when small
COUNT_FIGURES = ("visits", "dropins", "unique", "new", "returning", "local", "waitlist")
RATE_FIGURES = ("avg_per_session", "avg_with_dropins", "attendance_rate", "capacity_use")
FIGURES = ("sessions",) + COUNT_FIGURES + RATE_FIGURES
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

    @property
    def lo(self):
        return to_utc(self.start, time(0, 0))

    @property
    def hi(self):
        return to_utc(self.end + timedelta(days=1), time(0, 0))

    def months(self) -> list[tuple[int, int]]:
        out, y, m = [], self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append((y, m))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    def as_dict(self) -> dict:
        return {
            "from": self.start.isoformat(), "to": self.end.isoformat(), "district_id": self.district_id,
            "institution_ids": sorted(self.institution_ids) if self.institution_ids is not None else None,
            "focus_area_id": self.focus_area_id, "initiative_id": self.initiative_id,
            "category": self.category, "age_band": self.age_band, "gender": self.gender,
        }


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

def _month_index(f: StatsFilter, column):
    """year*12 + month-1 of the Copenhagen date of ``column`` (a UTC timestamp inside the period)."""
    months = f.months()
    whens = []
    for y, m in months[:-1]:
        ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
        whens.append((column < to_utc(date(ny, nm, 1), time(0, 0)), literal(y * 12 + m - 1)))
    last = months[-1][0] * 12 + months[-1][1] - 1
    return case(*whens, else_=literal(last)) if whens else literal(last)


def _age_band(month_index):
    """The age band at a month index (the person counts as born on the 1st of the birth month)."""
    months_old = month_index - (YouthProfile.birth_year * 12 + YouthProfile.birth_month - 1)
    return case(
        (months_old < 13 * 12, literal(AgeBand.UNDER_13.value)),
        (months_old < 16 * 12, literal(AgeBand.AGE_13_15.value)),
        (months_old < 18 * 12, literal(AgeBand.AGE_16_17.value)),
        else_=literal(AgeBand.AGE_18_24.value),
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
        conds.append(Activity.id.in_(
            select(activity_initiative.c.activity_id).where(activity_initiative.c.initiative_id == f.initiative_id)
        ))
    return conds


def _held_in_period(f: StatsFilter) -> list:
    return [Session.cancelled_at.is_(None), Session.starts_at >= f.lo, Session.starts_at < f.hi]


def _tag_joins(frm, dims):
    if "focus_area" in dims:
        frm = frm.outerjoin(activity_focus_area, activity_focus_area.c.activity_id == Activity.id)
    if "initiative" in dims:
        frm = frm.outerjoin(activity_initiative, activity_initiative.c.activity_id == Activity.id)
    return frm


def _session_dim_exprs(f: StatsFilter, dims) -> dict:
    exprs = {}
    for d in dims:
        if d == "district":
            exprs[d] = Activity.district_id
        elif d == "institution":
            exprs[d] = Activity.institution_id
        elif d == "focus_area":
            exprs[d] = activity_focus_area.c.focus_area_id
        elif d == "initiative":
            exprs[d] = activity_initiative.c.initiative_id
        elif d == "category":
            exprs[d] = Activity.category
        elif d == "month":
            exprs[d] = _month_index(f, Session.starts_at)
    return exprs


def _grouped(rows_subquery, dims, *aggregates):
    """Group a row-level subquery by its ``g_*`` columns (keeps PostgreSQL's GROUP BY happy with bound CASEs)."""
    cols = [rows_subquery.c[f"g_{d}"] for d in dims]
    return select(*cols, *aggregates).group_by(*cols)


def _keyed(result, dims, n_values):
    out = {}
    for row in result:
        out[tuple(row[: len(dims)])] = tuple(row[len(dims): len(dims) + n_values])
    return out


def _person_conditions(f: StatsFilter, age_band_expr) -> list:
    conds = []
    if f.gender:
        conds.append(YouthProfile.gender == Gender(f.gender))
    if f.age_band:
        conds.append(age_band_expr == AgeBand(f.age_band).value)
    return conds


def query_people(f: StatsFilter, dims) -> dict:
    """Per group: unique young people, visits, returning, local reach, new, visits at capacity-limited offers."""
    month_index = _month_index(f, Session.starts_at)
    age_band = _age_band(month_index)
    exprs = _session_dim_exprs(f, dims)
    if "age_band" in dims:
        exprs["age_band"] = age_band
    if "gender" in dims:
        exprs["gender"] = YouthProfile.gender
    frm = (
        Attendance.__table__.join(Session, Session.id == Attendance.session_id)
        .join(Activity, Activity.id == Session.activity_id)
        .join(YouthProfile, YouthProfile.id == Attendance.youth_id)
    )
    rows = (
        select(
            *[exprs[d].label(f"g_{d}") for d in dims],
            Attendance.youth_id.label("youth_id"),
            case((YouthProfile.home_district_id == Activity.district_id, 1), else_=0).label("loc"),
            case((Activity.capacity.is_not(None), 1), else_=0).label("cap"),
        )
        .select_from(_tag_joins(frm, dims))
        .where(*_held_in_period(f), *_activity_conditions(f), *_person_conditions(f, age_band))
        .subquery("rows")
    )
    per_youth = (
        select(
            *[rows.c[f"g_{d}"] for d in dims], rows.c.youth_id,
            func.count().label("n"), func.max(rows.c.loc).label("loc"), func.sum(rows.c.cap).label("ncap"),
        )
        .group_by(*[rows.c[f"g_{d}"] for d in dims], rows.c.youth_id)
        .subquery("per_youth")
    )
    prior = (
        select(Attendance.youth_id)
        .join(Session, Session.id == Attendance.session_id)
        .where(Session.cancelled_at.is_(None), Session.starts_at < f.lo)
        .distinct()
        .subquery("prior")
    )
    cols = [per_youth.c[f"g_{d}"] for d in dims]
    stmt = (
        select(
            *cols,
            func.count(),
            func.sum(per_youth.c.n),
            func.sum(case((per_youth.c.n >= RETURNING_VISITS, 1), else_=0)),
            func.sum(per_youth.c.loc),
            func.sum(case((prior.c.youth_id.is_(None), 1), else_=0)),
            func.sum(per_youth.c.ncap),
        )
        .select_from(per_youth.outerjoin(prior, prior.c.youth_id == per_youth.c.youth_id))
        .group_by(*cols)
    )
    return _keyed(db.session.execute(stmt), dims, 6)


def query_sessions(f: StatsFilter, dims) -> dict:
    """Per group of session dimensions: sessions held and the places they offered (capacity-limited offers)."""
    sdims = [d for d in dims if d not in PERSON_DIMENSIONS]
    exprs = _session_dim_exprs(f, sdims)
    frm = _tag_joins(Session.__table__.join(Activity, Activity.id == Session.activity_id), sdims)
    rows = (
        select(*[exprs[d].label(f"g_{d}") for d in sdims], Activity.capacity.label("capacity"))
        .select_from(frm)
        .where(*_held_in_period(f), *_activity_conditions(f))
        .subquery("rows")
    )
    stmt = _grouped(rows, sdims, func.count(), func.sum(rows.c.capacity))
    return _keyed(db.session.execute(stmt), sdims, 2)


def query_dropins(f: StatsFilter, dims) -> dict:
    """Per group: anonymous drop-ins from head counts."""
    exprs = _session_dim_exprs(f, dims)
    if "age_band" in dims:
        exprs["age_band"] = HeadCount.age_band
    if "gender" in dims:
        exprs["gender"] = HeadCount.gender
    conds = []
    if f.age_band:
        conds.append(HeadCount.age_band == AgeBand(f.age_band))
    if f.gender:
        conds.append(HeadCount.gender == Gender(f.gender))
    frm = _tag_joins(
        HeadCount.__table__.join(Session, Session.id == HeadCount.session_id).join(Activity, Activity.id == Session.activity_id),
        dims,
    )
    rows = (
        select(*[exprs[d].label(f"g_{d}") for d in dims], HeadCount.count.label("count"))
        .select_from(frm)
        .where(*_held_in_period(f), *_activity_conditions(f), *conds)
        .subquery("rows")
    )
    return _keyed(db.session.execute(_grouped(rows, dims, func.sum(rows.c.count))), dims, 1)


def query_signup_sessions(f: StatsFilter, dims) -> dict:
    """Per group: (confirmed sign-up × held session) pairs of sign-up offers, and how many were attended."""
    month_index = _month_index(f, Session.starts_at)
    age_band = _age_band(month_index)
    exprs = _session_dim_exprs(f, dims)
    if "age_band" in dims:
        exprs["age_band"] = age_band
    if "gender" in dims:
        exprs["gender"] = YouthProfile.gender
    # the visits of the period's sign-up sessions only: PostgreSQL then reads them through
    # the (session_id, youth_id) index instead of hashing every attendance ever recorded
    s2, a2 = aliased(Session), aliased(Activity)
    visits = (
        select(Attendance.session_id, Attendance.youth_id)
        .join(s2, s2.id == Attendance.session_id)
        .join(a2, a2.id == s2.activity_id)
        .where(a2.requires_signup.is_(True), s2.cancelled_at.is_(None), s2.starts_at >= f.lo, s2.starts_at < f.hi)
        .subquery("visits")
    )
    frm = (
        Signup.__table__.join(Activity, Activity.id == Signup.activity_id)
        .join(Session, Session.activity_id == Activity.id)
        .join(YouthProfile, YouthProfile.id == Signup.youth_id)
        .outerjoin(visits, and_(visits.c.session_id == Session.id, visits.c.youth_id == Signup.youth_id))
    )
    rows = (
        select(
            *[exprs[d].label(f"g_{d}") for d in dims],
            case((visits.c.youth_id.is_not(None), 1), else_=0).label("attended"),
        )
        .select_from(_tag_joins(frm, dims))
        .where(
            Signup.status == SignupStatus.CONFIRMED, Activity.requires_signup.is_(True),
            *_held_in_period(f), *_activity_conditions(f), *_person_conditions(f, age_band),
        )
        .subquery("rows")
    )
    return _keyed(db.session.execute(_grouped(rows, dims, func.count(), func.sum(rows.c.attended))), dims, 2)


def query_waitlist(f: StatsFilter, dims) -> dict:
    """Per group (no months): young people on a waitlist at the end of the period."""
    end_month = literal(f.end.year * 12 + f.end.month - 1)
    age_band = _age_band(end_month)
    exprs = _session_dim_exprs(f, [d for d in dims if d != "month"])
    if "age_band" in dims:
        exprs["age_band"] = age_band
    if "gender" in dims:
        exprs["gender"] = YouthProfile.gender
    at = f.hi
    waiting = [
        Signup.created_at < at,
        (Signup.confirmed_at.is_(None) & (Signup.status != SignupStatus.CONFIRMED)) | (Signup.confirmed_at >= at),
        Signup.cancelled_at.is_(None) | (Signup.cancelled_at >= at),
    ]
    frm = _tag_joins(
        Signup.__table__.join(Activity, Activity.id == Signup.activity_id).join(YouthProfile, YouthProfile.id == Signup.youth_id),
        dims,
    )
    rows = (
        select(*[exprs[d].label(f"g_{d}") for d in dims], Signup.youth_id.label("youth_id"))
        .select_from(frm)
        .where(*waiting, *_activity_conditions(f), *_person_conditions(f, age_band))
        .subquery("rows")
    )
    stmt = _grouped(rows, dims, func.count(rows.c.youth_id.distinct()))
    return _keyed(db.session.execute(stmt), dims, 1)


# -- tables ---------------------------------------------------------------------------------

def _ratio(num, den):
    if num is None or not den:
        return None
    return num / den


def _normalise_key(dims, key):
    out = []
    for d, v in zip(dims, key):
        if v is not None and d == "month":
            v = f"{int(v) // 12:04d}-{int(v) % 12 + 1:02d}"
        elif v is not None and d in ("category", "age_band", "gender"):
            v = str(getattr(v, "value", v))
        elif v is not None:
            v = int(v)
        out.append(v)
    return tuple(out)


def compute_table(f: StatsFilter, dims=()) -> list[Row]:
    """Every figure for every group of ``dims`` under ``f``, unsuppressed."""
    dims = tuple(dims)
    for d in dims:
        if d not in DIMENSIONS:
            raise ValueError(d)
    people = {_normalise_key(dims, k): v for k, v in query_people(f, dims).items()}
    sdims = tuple(d for d in dims if d not in PERSON_DIMENSIONS)
    sessions = {_normalise_key(sdims, k): v for k, v in query_sessions(f, dims).items()}
    dropins = {_normalise_key(dims, k): v for k, v in query_dropins(f, dims).items()}
    pairs = {_normalise_key(dims, k): v for k, v in query_signup_sessions(f, dims).items()}
    waitlist = {} if "month" in dims else {_normalise_key(dims, k): v for k, v in query_waitlist(f, dims).items()}

    keys = set(people) | set(dropins) | set(pairs) | set(waitlist)
    if not any(d in PERSON_DIMENSIONS for d in dims):
        keys |= set(sessions)
    if not dims:
        keys = {()}
    rows = []
    for key in keys:
        skey = tuple(v for d, v in zip(dims, key) if d not in PERSON_DIMENSIONS)
        unique, visits, returning, local, new, visits_cap = (int(x or 0) for x in people.get(key, (0,) * 6))
        n_sessions, places = (int(x or 0) for x in sessions.get(skey, (0, 0)))
        drop = int((dropins.get(key) or (0,))[0] or 0)
        expected, attended = (int(x or 0) for x in pairs.get(key, (0, 0)))
        values = {
            "sessions": n_sessions, "visits": visits, "dropins": drop, "unique": unique, "new": new,
            "returning": returning, "local": local,
            "waitlist": None if "month" in dims else int((waitlist.get(key) or (0,))[0] or 0),
            "avg_per_session": _ratio(visits, n_sessions),
            "avg_with_dropins": _ratio(visits + drop, n_sessions),
            "attendance_rate": _ratio(attended, expected),
            "capacity_use": _ratio(visits_cap, places),
        }
        parts = {"attended": attended, "expected": expected, "visits_cap": visits_cap, "places": places}
        rows.append(Row(dict(zip(dims, key)), values, set(), parts))
    rows.sort(key=lambda r: [(v is None, v if v is not None else 0) for v in r.key.values()])
    return rows


# -- small-cell suppression -----------------------------------------------------------------

def _small(value, threshold) -> bool:
    return value is not None and 0 < value < threshold


def primary_suppress(row: Row, threshold: int) -> None:
    """Hide counts from 1 to threshold-1, and every rate built on a hidden count."""
    for figure in COUNT_FIGURES:
        if _small(row.values.get(figure), threshold):
            row.hidden.add(figure)
            row.small.add(figure)
    derive_rate_hiding(row, threshold)


def derive_rate_hiding(row: Row, threshold: int) -> None:
    if "visits" in row.hidden:
        row.hidden |= {"avg_per_session", "avg_with_dropins", "capacity_use"}
    if "dropins" in row.hidden:
        row.hidden.add("avg_with_dropins")
    if _small(row.parts.get("attended"), threshold):
        row.hidden.add("attendance_rate")
    if _small(row.parts.get("visits_cap"), threshold):
        row.hidden.add("capacity_use")


def secondary_suppress(lines, threshold: int) -> None:
    """``lines``: (total_row, [part rows]) whose parts add up to (or, for people, overlap into) the total.

    A line with exactly one hidden cell (a part or the total) gives that cell away by
    subtraction, so a second one is hidden: the smallest visible non-zero part, or the
    total when no part is left. Repeated until no line changes, since every cell also
    sits in other lines (a row and a column, a table and its margins).
    """
    changed = True
    while changed:
        changed = False
        for figure in COUNT_FIGURES:
            for total, parts in lines:
                cells = parts + ([total] if total is not None else [])
                if sum(1 for c in cells if figure in c.hidden) != 1:
                    continue
                candidates = [p for p in parts if figure not in p.hidden and p.values.get(figure)]
                if candidates:
                    victim = min(candidates, key=lambda p: p.values[figure])
                elif total is not None and figure not in total.hidden and total.values.get(figure):
                    victim = total
                else:
                    continue
                victim.hidden.add(figure)
                changed = True
    for total, parts in lines:
        for p in parts + ([total] if total is not None else []):
            derive_rate_hiding(p, threshold)


class Statistics:
    """Tables for one filter; suppressed when ``threshold`` is given.

    Suppression is decided jointly for every table one answer publishes and all their
    margins (each table with one dimension fewer, down to the headline), so a hidden
    cell cannot be worked out from any total shown beside it. Call ``prepare`` with
    every breakdown an answer will show before reading tables.
    """

    def __init__(self, f: StatsFilter, threshold: int | None):
        self.filter = f
        self.threshold = threshold
        self._raw: dict = {}
        self._done: dict = {}

    def raw(self, dims) -> list[Row]:
        dims = tuple(dims)
        if dims not in self._raw:
            self._raw[dims] = compute_table(self.filter, dims)
        return self._raw[dims]

    def prepare(self, breakdowns) -> None:
        """Compute and suppress ``breakdowns`` and every margin of them, together."""
        family = set(self._done)
        for dims in breakdowns:
            dims = tuple(dims)
            for r in range(len(dims) + 1):
                family.update(itertools.combinations(dims, r))
        for dims in family:
            if dims not in self._done:
                rows = [replace(r, hidden=set(r.hidden), small=set(r.small), values=dict(r.values)) for r in self.raw(dims)]
                if self.threshold is not None:
                    for row in rows:
                        primary_suppress(row, self.threshold)
                self._done[dims] = rows
        if self.threshold is None:
            return
        lines = []
        for dims in family:
            for i in range(len(dims)):
                rest = dims[:i] + dims[i + 1:]
                margin = {tuple(m.key[x] for x in rest): m for m in self._done[rest]}
                groups: dict = {}
                for row in self._done[dims]:
                    groups.setdefault(tuple(row.key[x] for x in rest), []).append(row)
                lines.extend((margin.get(k), parts) for k, parts in groups.items())
        secondary_suppress(lines, self.threshold)

    def table(self, dims=()) -> list[Row]:
        """The rows of ``dims`` (prepared on first use if ``prepare`` did not name them)."""
        dims = tuple(dims)
        if dims not in self._done:
            self.prepare([dims])
        return self._done[dims]

    def headline(self) -> Row:
        return self.table(())[0]
