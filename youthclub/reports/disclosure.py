"""What leaves the system: the cell key method, the minimum-contributors rule and rounding (docs/metrics.md).

``stats.py`` computes exact figures; this module decides what of them an answer may show.
Every young person (and every head count) carries a permanent random record key from 0 to
255; a cell's key is its contributors' keys added up (for a count of visits, each weighted
by their visits), modulo 256, computed in SQL with the figures. A fixed lookup table (the
ptable) turns (count, cell key) into a small perturbation, so the same cell gets the same
value in every answer, in every format, however it was asked for, while the difference of
two answers carries the noise of both. Counts from 0 to threshold − 1 are shown as "<5";
a row with fewer young people behind it than the threshold shows none of their figures.
Rates are computed from the released counts and rounded.
"""
from __future__ import annotations

import itertools
import random
from functools import cache

from ..accounts.models import RECORD_KEYS
from . import figures_cache
from .stats import COUNT_FIGURES, Row, StatsFilter

#: the largest amount the ptable adds to or takes from a count
MAX_PERTURBATION = 3
#: how many of the 256 cell keys give each perturbation (zero-mean; ±3 only for 1 key in 256)
PERTURBATION_WEIGHTS = {-3: 1, -2: 22, -1: 60, 0: 90, 1: 60, 2: 22, 3: 1}
#: the ptable's rows for counts well above the threshold repeat after this many counts
PTABLE_CYCLE = 64
#: the ptable is fixed and may be published; what keeps a perturbation unknown is the record keys
PTABLE_SEED = "youthclub-ptable-2026"
#: rates (shares) are released as whole percents, averages with one decimal
RATE_DECIMALS = 2
AVERAGE_DECIMALS = 1
#: the figures of registered young people: all hidden in a row with too few of them behind it
PEOPLE_COUNTS = ("visits", "unique", "new", "returning", "local")
PEOPLE_RATES = ("avg_per_session", "avg_with_dropins", "attendance_rate", "capacity_use")

assert sum(PERTURBATION_WEIGHTS.values()) == RECORD_KEYS


class UnpreparedTable(LookupError):
    """A table was asked for that the answer did not prepare."""


@cache
def _ptable_row(threshold: int, row: int) -> tuple[int, ...]:
    """The perturbation for each of the 256 cell keys in one row of the ptable.

    Rows 0 .. MAX_PERTURBATION − 1 are the counts just at and above the threshold (row =
    count − threshold): their perturbation never takes them below the threshold, so a
    released number is never one a small count would be shown as; the weight of the
    perturbations they cannot have goes to 0. The other rows hold every perturbation.
    """
    weights = dict(PERTURBATION_WEIGHTS)
    if row < MAX_PERTURBATION:
        for p in [p for p in weights if p < -row]:
            weights[0] += weights.pop(p)
    values = [p for p, w in sorted(weights.items()) for _ in range(w)]
    random.Random(f"{PTABLE_SEED}:{threshold}:{row}").shuffle(values)
    return tuple(values)


def perturbation(count: int, key: int, threshold: int) -> int:
    """What the ptable adds to a count of ``threshold`` or more with cell key ``key``."""
    offset = count - threshold
    row = offset if offset < MAX_PERTURBATION else MAX_PERTURBATION + count % PTABLE_CYCLE
    return _ptable_row(threshold, row)[key % RECORD_KEYS]


def released_count(count: int, key: int, threshold: int) -> int | None:
    """A count as it leaves the system: 0 to threshold − 1 is None (shown "<5"), the rest perturbed.

    0 is small as well: a "0" beside "<5" tells an empty group from a small one, and four groups
    each "at least one" under a total of at most four would pin every one of them to 1.
    """
    if count < threshold:
        return None
    return count + perturbation(count, key, threshold)


def possible_counts(released: int, threshold: int) -> range:
    """Every true count that could have been released as ``released`` (a number; "<5" stands for 0 .. threshold − 1)."""
    return range(max(threshold, released - MAX_PERTURBATION), released + MAX_PERTURBATION + 1)


def rounded_rate(num, den, decimals: int) -> float | None:
    """``num / den`` rounded for release, None when either is missing or the denominator is 0."""
    if num is None or not den:
        return None
    return round(num / den, decimals)


def release_row(row: Row, threshold: int) -> Row:
    """The row as it may leave the system; the exact figures and the counts behind them stay behind.

    Minimum contributors: a row with 0 to threshold − 1 young people behind it shows none of
    their figures (visits and rates included); its "unique" is shown as "<5" and the rest as
    hidden. Drop-ins (anonymous head counts) and the waitlist (young people who wait, who need
    not have visited) stand on their own counts.
    """
    v, parts = row.values, row.parts
    out = {"sessions": v["sessions"]}
    hidden, small = set(), set()

    def count(figure, c, key):
        if c is None:  # a figure the table does not give (the waitlist per month)
            out[figure] = None
            return
        out[figure] = released_count(c, key, threshold)
        if out[figure] is None:
            hidden.add(figure)
            small.add(figure)

    # 0 young people is "too few" as well, for the reason 0 of anything is "<5" (released_count)
    too_few = v["unique"] < threshold
    for figure in PEOPLE_COUNTS:
        if too_few:
            out[figure] = None
            hidden.add(figure)
        else:
            count(figure, v[figure], parts[f"{figure}_key"])
    if too_few:
        small.add("unique")
    else:
        _keep_relations(out)
    count("dropins", v["dropins"], parts["dropins_key"])
    count("waitlist", v["waitlist"], parts["waitlist_key"])

    def numerator(c, key, den):
        """A rate's numerator as released, or None (hidden) when too few young people stand behind the row or it is small.

        A denominator below the threshold hides it too: 0 % of 3 sign-up sessions says 3 were missed.
        """
        if too_few or 0 < den < threshold:
            return None
        return released_count(c, key, threshold)

    sessions = v["sessions"]
    attended = numerator(parts["attended"], parts["attended_key"], parts["expected"])
    at_capacity = numerator(parts["visits_cap"], parts["visits_cap_key"], parts["places"])
    visits, dropins = out["visits"], out["dropins"]
    rates = {
        "avg_per_session": (visits, sessions, AVERAGE_DECIMALS),
        "avg_with_dropins": (None if visits is None or dropins is None else visits + dropins, sessions, AVERAGE_DECIMALS),
        "attendance_rate": (attended, parts["expected"], RATE_DECIMALS),
        "capacity_use": (at_capacity, parts["places"], RATE_DECIMALS),
    }
    for figure, (num, den, decimals) in rates.items():
        out[figure] = rounded_rate(num, den, decimals)
        # a row of too few hides its rates whatever their denominator: "–" (no sign-up sessions, no
        # places) beside ".." would say which of its hidden rows had any
        if num is None and (den or too_few):
            hidden.add(figure)
    return Row(dict(row.key), out, hidden, {}, small)


#: the counts that are some of a row's young people: never more than its "unique"
SOME_OF_UNIQUE = ("new", "returning", "local")


def _keep_relations(out: dict) -> None:
    """Put back in released counts what every true row has, which perturbing each on its own can undo.

    New, returning and local young people are some of the row's young people, and each of them
    visited at least once. Made from the released numbers alone, it tells nothing they do not.
    """
    for figure in SOME_OF_UNIQUE:
        if out[figure] is not None:
            out[figure] = min(out[figure], out["unique"])
    out["visits"] = max(out["visits"], out["unique"])


#: figures that depend on visits at other institutions than the row's own: "new" (no visit anywhere
#: before), so an institution's own staff see them released too (``exact_row``)
ELSEWHERE_FIGURES = ("new",)


def exact_row(row: Row, threshold: int | None = None) -> Row:
    """The row with its exact counts (an institution's own staff), rates rounded as everywhere.

    With ``threshold``, the figures that depend on visits elsewhere (``ELSEWHERE_FIGURES``)
    are released as everywhere else (never above the row's exact "unique"): exact, "new" of a
    day with one young person says whether they had been to another institution before.
    """
    v, parts = row.values, row.parts
    out = dict(v)
    out["avg_per_session"] = rounded_rate(v["visits"], v["sessions"], AVERAGE_DECIMALS)
    out["avg_with_dropins"] = rounded_rate(v["visits"] + v["dropins"], v["sessions"], AVERAGE_DECIMALS)
    out["attendance_rate"] = rounded_rate(parts["attended"], parts["expected"], RATE_DECIMALS)
    out["capacity_use"] = rounded_rate(parts["visits_cap"], parts["places"], RATE_DECIMALS)
    hidden: set = set()
    if threshold is not None:
        for figure in ELSEWHERE_FIGURES:
            released = released_count(v[figure], parts[f"{figure}_key"], threshold)
            out[figure] = None if released is None else min(released, v["unique"])
            if released is None:
                hidden.add(figure)
    return Row(dict(row.key), out, hidden, {}, set(hidden))


def margins(breakdowns) -> list[tuple]:
    """Each breakdown and every table with fewer of its dimensions, down to the headline ``()``."""
    family = {()}
    for dims in breakdowns:
        dims = tuple(dims)
        for r in range(len(dims) + 1):
            family.update(itertools.combinations(dims, r))
    return sorted(family, key=lambda d: (len(d), d))


def is_small_margin(values: dict, threshold: int) -> bool:
    """Whether the rows under a group with these (exact) figures are left out (``withheld``).

    A group of 1 to threshold − 1 young people; and a group of none whose drop-ins are too few
    to be released as well. Were the rows of the second kind shown, their being there would
    tell "<5 young people" apart as 0 (where 1 to 4 shows no rows), and four rows standing on
    drop-ins alone under a total of at most 4 drop-ins would pin every row to 1.
    """
    unique = values["unique"]
    return 0 < unique < threshold or (unique == 0 and values["dropins"] < threshold)


def small_margins(raw: dict, threshold: int) -> dict:
    """For each table, the keys of its rows that are small margins (``is_small_margin``)."""
    return {dims: {tuple(r.key[d] for d in dims) for r in rows if is_small_margin(r.values, threshold)}
            for dims, rows in raw.items()}


def withheld(row: Row, dims: tuple, small: dict) -> bool:
    """A row is not shown at all when a margin it belongs to has too few young people behind it.

    Under a margin shown as "<5", each row that exists says "at least one" by being there: four
    rows under a total of at most 4 would pin the total to 4 and every row to 1. So the rows of
    such a margin are left out, and an absent row means "0, or too few above it to tell".
    """
    for i in range(len(dims)):
        margin_dims = dims[:i] + dims[i + 1:]
        if tuple(row.key[d] for d in margin_dims) in small.get(margin_dims, ()):
            return True
    return False


class Statistics:
    """The tables of one answer: released (the cell key method) when ``threshold`` is given, exact when None.

    An answer names every table it will show once (``prepare``): they are computed together
    from one pass over the visits, with their margins. Asking afterwards for a table that was
    not prepared raises ``UnpreparedTable`` instead of quietly computing it on its own.
    """

    def __init__(self, f: StatsFilter, threshold: int | None, *, elsewhere_threshold: int | None = None):
        self.filter = f
        self.threshold = threshold
        #: exact answers: the threshold the figures that depend on other institutions are released with
        self.elsewhere_threshold = elsewhere_threshold
        self._tables: dict | None = None

    @property
    def perturbed(self) -> bool:
        return self.threshold is not None

    def prepare(self, breakdowns) -> None:
        """Compute ``breakdowns`` and every margin of them, together, and release them."""
        if self._tables is not None:
            raise RuntimeError("an answer prepares its tables once")
        family = margins(breakdowns)
        # closed periods from the cache (exactly the rows compute_tables gives), the rest computed
        raw = figures_cache.tables(self.filter, family)
        if self.threshold is None:
            self._tables = {dims: [exact_row(r, self.elsewhere_threshold) for r in rows] for dims, rows in raw.items()}
        else:
            small = small_margins(raw, self.threshold)
            self._tables = {dims: [release_row(r, self.threshold) for r in rows if not withheld(r, dims, small)]
                            for dims, rows in raw.items()}

    def table(self, dims=()) -> list[Row]:
        """The rows of ``dims``; it must be one of the prepared tables or their margins."""
        dims = tuple(dims)
        if self._tables is None or dims not in self._tables:
            raise UnpreparedTable(f"the table {dims!r} was not prepared for this answer")
        return self._tables[dims]

    def headline(self) -> Row:
        return self.table(())[0]


# -- a fixed release grid --------------------------------------------------------------------
# Where the questions cannot vary (the gaps report: one moment, fixed groups), suppressing the
# whole grid together is enough, and exact numbers stay exact: small cells hidden, and a second
# cell in every line that would give one away.

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
