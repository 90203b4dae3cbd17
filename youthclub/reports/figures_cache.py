"""The figures of closed periods, computed once and kept until a write changes them.

A period that ended before the current local year began (and a couple of days of grace after
New Year, so that no write begun in the old year is still open) changes only when someone
writes into it: a late correction, a merge, an edit of an offer. Database triggers (migration
``f1c2a9e7b3d0``) bump the generation of the earliest year such a write can change
(``figures_year``); only writes into years before the current one bump, so a check-in today
writes nothing there. An answer for a period ending in year E depends on every year up to E
("new" young people are those without visits before the period), so the entry keeps the sum
of the generations up to E, read *before* the figures were computed: a write committed while
they were computed has bumped the sum past it, and the entry is never served.

Kept: ``compute_tables``' raw rows, exactly (``encode``/``decode``); the release
(``disclosure.py``) runs on them as on fresh ones. The key is the canonical filter (cut to its
initiative's year), the tables and the figures' code (``FIGURES_VERSION`` and the source of
``stats.py``).

A longer period that covers a closed year reads that year's month rows from the year's own
entry (``stats._kept_month_people``): a month's row is the same in every period that holds it.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from ..db_types import utcnow
from ..extensions import db
from ..i18n import to_local
from . import stats
from .models import FiguresCache, FiguresYear
from .stats import Row, StatsFilter, compute_tables, within_initiative_year

#: bump when what the figures mean changes outside ``stats.py`` (whose source is part of the key already)
FIGURES_VERSION = 1
_CODE_DIGEST = hashlib.sha256(Path(stats.__file__).read_bytes()).hexdigest()


def cache_key(f: StatsFilter, tables) -> str:
    """The key of ``f`` (already cut to its initiative's year) and ``tables`` under the current figures' code."""
    doc = {"version": FIGURES_VERSION, "code": _CODE_DIGEST, "filter": f.as_dict(), "tables": [list(t) for t in tables]}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


# -- the rows, exactly ---------------------------------------------------------------------

_SCALARS = (int, float, str, type(None))


def _scalar(value):
    if type(value) not in _SCALARS:  # not isinstance: a bool or an enum would come back as something else
        raise TypeError(f"a figure of type {type(value).__name__} cannot be kept exactly: {value!r}")
    return value


def _mapping(values: dict) -> dict:
    return {k: _scalar(v) for k, v in values.items()}


def encode(tables: dict) -> str:
    """``compute_tables``' answer as JSON that ``decode`` turns back into equal rows of the same types."""
    out = []
    for dims, rows in tables.items():
        out.append([list(dims), [[[_scalar(v) for v in r.key.values()], _mapping(r.values), _mapping(r.parts),
                                  sorted(r.hidden), sorted(r.small)] for r in rows]])
    return json.dumps(out, separators=(",", ":"), allow_nan=False)


def decode(payload: str) -> dict:
    out = {}
    for dims, rows in json.loads(payload):
        dims = tuple(dims)
        out[dims] = [Row(dict(zip(dims, key, strict=True)), values, set(hidden), parts, set(small))
                     for key, values, parts, hidden, small in rows]
    return out


# -- which periods are closed --------------------------------------------------------------

def grace() -> timedelta:
    return timedelta(days=int(current_app.config.get("FIGURES_CACHE_GRACE_DAYS", 2)))


def is_closed(f: StatsFilter, now: datetime) -> bool:
    """Whether the figures of ``f`` can no longer change but through a write the triggers see, at ``now`` (UTC).

    The period ended before the local year of ``now`` began, at least ``grace()`` before
    ``now``; and ``f`` takes its figures after the period's end (before it, a part of the period
    holds nothing yet).
    """
    if f.start > f.end or f.now < f.hi:
        return False
    return to_local(now).date() >= date(f.end.year + 1, 1, 1) + grace()


def _database_now_and_generations(end_year: int) -> tuple[datetime, int]:
    """The database clock (the one the triggers read) and the sum of the generations up to ``end_year``."""
    total = select(func.coalesce(func.sum(FiguresYear.generation), 0)).where(FiguresYear.year <= end_year).scalar_subquery()
    if db.session.get_bind().dialect.name == "postgresql":
        now, generations = db.session.execute(select(func.now(), total)).one()
    else:
        raw, generations = db.session.execute(select(text("strftime('%Y-%m-%d %H:%M:%f', 'now')"), total)).one()
        now = datetime.fromisoformat(raw + "+00:00")
    return now, int(generations)


def tables(f: StatsFilter, tables) -> dict:
    """``compute_tables(f, tables)``, from the cache when the period is closed and nothing has been written into it since."""
    tables = [tuple(t) for t in dict.fromkeys(tuple(t) for t in tables)]
    if not current_app.config.get("FIGURES_CACHE", True):
        return compute_tables(f, tables)
    f = within_initiative_year(f)
    # the application's clock first (no query for the current year), then the database's (the triggers')
    if not is_closed(f, utcnow()):
        return compute_tables(f, tables)
    now, generations = _database_now_and_generations(f.end.year)
    if not is_closed(f, now):
        return compute_tables(f, tables)
    key = cache_key(f, tables)
    payload = db.session.scalar(select(FiguresCache.payload).where(FiguresCache.key == key,
                                                                   FiguresCache.generations == generations))
    if payload is not None:
        return decode(payload)
    answer = compute_tables(f, tables)
    store(key, generations, f.end.year, encode(answer))
    return answer


def store(key: str, generations: int, end_year: int, payload: str) -> None:
    """Keep an entry (in the caller's transaction); two computing the same key at once: the later one stays."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    values = {"generations": generations, "end_year": end_year, "payload": payload, "computed_at": utcnow()}
    stmt = dialect.insert(FiguresCache).values(key=key, **values)
    db.session.execute(stmt.on_conflict_do_update(index_elements=[FiguresCache.key], set_=values))


# -- warm-up -------------------------------------------------------------------------------

def closed_years(now: datetime | None = None) -> list[int]:
    """The closed years that have sessions, oldest first."""
    from ..activities.models import Session

    now = now or utcnow()
    first = db.session.scalar(select(func.min(Session.local_month)))
    if first is None:
        return []
    return [y for y in range(first // 12, to_local(now).year)
            if is_closed(StatsFilter(date(y, 1, 1), date(y, 12, 31), now=now), now)]


def warm_families():
    """The families of tables the dashboard, the XLSX export and the action-plan report prepare (with their margins)."""
    from .disclosure import margins
    from .services import BREAKDOWNS, DASHBOARD_BREAKDOWNS

    return {"dashboard": margins(DASHBOARD_BREAKDOWNS), "xlsx": margins(BREAKDOWNS),
            "action plan": margins([("focus_area",), ("initiative",)])}


def warm(years, *, progress=None) -> int:
    """Compute and keep the whole city's and each district's families for ``years``, and each year's visits per
    young person (``grain_cache.ensure_people``); answers how many families were computed.

    Commits after each entry (a CLI or a job calls this, never a request).
    """
    from ..programme.models import District
    from . import grain_cache

    districts = [None, *db.session.scalars(select(District.id).order_by(District.id))]
    families = warm_families()
    computed = 0
    for year in years:
        # what a longer period reads of the year besides these (the year's own figures fill its grain)
        grain_cache.ensure_people([year])
        db.session.commit()
        for district_id in districts:
            for name, family in families.items():
                if name == "action plan" and district_id is None:
                    continue  # the report is a district's
                f = StatsFilter(date(year, 1, 1), date(year, 12, 31), district_id=district_id)
                key = cache_key(f, family)
                now, generations = _database_now_and_generations(year)
                fresh = db.session.scalar(select(FiguresCache.key).where(FiguresCache.key == key,
                                                                         FiguresCache.generations == generations))
                if fresh is None:
                    tables(f, family)
                    computed += 1
                db.session.commit()
                if progress:
                    progress(year, district_id, name, fresh is None)
    return computed
