"""An attacker with only the released statistics, and the truth to judge them by.

The attacker asks many answers (periods, filters, breakdowns) and treats every released
number as "some true count that the method could have turned into this number": with the
answer's ``max_perturbation`` D a released r ≥ 1 means a true count in [max(threshold, r − D),
r + D], 0 means 0, "<5" means 0..threshold − 1, a figure hidden otherwise means anything. A
population (a period and a set of conditions) is one cell however it was asked for: as a row of
a breakdown or as its own filter, so its intervals from every answer are intersected.

Then every relation a statistician could use is tried — a total minus its parts (complements,
sums of hidden siblings, a district minus its institutions, a focus area minus its initiatives),
a longer period minus a shorter one (day by day, overlapping ranges), a rate times its
denominator, unique minus new — as interval constraint propagation over all of them together.
A relation is used only where it holds for the true values (the attacker gets the benefit of
every structural fact). A count of 1 to threshold − 1 people or visits is *recovered* when the
intervals leave only its true value.

Nothing here imports the release code: the same attacker runs against any version of the app.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

INF = math.inf
COUNT_FIGURES = ("visits", "dropins", "unique", "new", "returning", "local", "waitlist")
#: additive figures over disjoint periods (a young person is new once; visits and drop-ins add up)
PERIOD_FIGURES = ("visits", "dropins", "new")
#: counts an attacker may try to get at without them being published as such
DERIVED = ("not_new", "not_returning", "not_local", "noshows", "attended")
#: counts of young people: a row's are at most its margin's
PEOPLE = ("unique", "new", "returning", "local")
FILTERS = ("district", "institution", "category", "age_band", "gender")


@dataclass(frozen=True)
class Population:
    start: date
    end: date
    district: int | None = None
    institution: int | None = None
    category: str | None = None
    age_band: str | None = None
    gender: str | None = None
    focus_areas: frozenset = frozenset()
    initiatives: frozenset = frozenset()

    def conditions(self) -> tuple:
        return (self.district, self.institution, self.category, self.age_band, self.gender, self.focus_areas, self.initiatives)


def _month_bounds(month: str) -> tuple[date, date]:
    year, m = int(month[:4]), int(month[5:7])
    first = date(year, m, 1)
    after = date(year + 1, 1, 1) if m == 12 else date(year, m + 1, 1)
    return first, after - timedelta(days=1)


def population(params: dict, dims, key: dict) -> Population | None:
    """The population of one row of an answer, or None when the row's key contradicts the filter."""
    values = dict(start=date.fromisoformat(params["from"]), end=date.fromisoformat(params["to"]))
    for name in FILTERS:
        if params.get(name) not in (None, ""):
            values[name] = int(params[name]) if name in ("district", "institution") else params[name]
    tags = {"focus_area": set(), "initiative": set()}
    for name in tags:
        if params.get(name) not in (None, ""):
            tags[name].add(int(params[name]))
    for d in dims:
        v = key[d]
        if d == "month":
            first, last = _month_bounds(v)
            values["start"], values["end"] = max(values["start"], first), min(values["end"], last)
        elif d in tags:
            tags[d].add("none" if v is None else v)
        else:
            if values.get(d) is not None and values[d] != v:
                return None
            values[d] = v
    return Population(**values, focus_areas=frozenset(tags["focus_area"]), initiatives=frozenset(tags["initiative"]))


def _decimals(value: float) -> int:
    text = repr(float(value))
    return len(text.split(".")[1]) if "." in text and "e" not in text else 12


@dataclass
class Attacker:
    threshold: int
    #: (population, figure) -> [lo, hi]: what the released answers allow
    known: dict = field(default_factory=dict)
    #: (population, figure) -> the true value
    truth: dict = field(default_factory=dict)
    #: lists of (coefficient, cell) whose sum is 0 in truth
    relations: list = field(default_factory=list)
    answers: int = 0
    #: (population, its margins' populations, figures) of rows an answer did not show
    absent: list = field(default_factory=list)
    #: figures some answer showed as 0: for them "<5" cannot stand for 0 (set by ``learn_conventions``)
    zero_shown: set = field(default_factory=set)

    def learn_conventions(self, bodies) -> None:
        """What any reader learns from the answers themselves: which figures the app ever shows as 0."""
        for body in bodies:
            for row in body["rows"]:
                self.zero_shown |= {f for f in COUNT_FIGURES if row.get(f) == 0}

    def _narrow(self, cell, lo, hi) -> bool:
        old = self.known.get(cell, (0, INF))
        new = (max(old[0], lo), min(old[1], hi))
        assert new[0] <= new[1], (cell, old, (lo, hi), self.truth.get(cell))
        if new != old:
            self.known[cell] = new
            return True
        return False

    def _released(self, r, small: bool, hidden: bool, d: int, figure: str = ""):
        if r is None:
            if small:
                # "<5" stands for 0 as well, unless the app shows an empty group of this figure as 0
                return (1 if figure in self.zero_shown else 0), self.threshold - 1
            return 0, INF if hidden else INF
        if r == 0:
            return 0, 0
        return max(self.threshold if d else 0, r - d), r + d

    def read(self, params: dict, dims, body: dict, truth_rows: dict) -> None:
        """One released answer (the API's JSON body) and the true figures of its rows ({key tuple: (values, parts)})."""
        self.answers += 1
        d = int(body.get("max_perturbation") or 0)
        released = {tuple(r[x] for x in dims): r for r in body["rows"]}
        for key, (values, parts) in truth_rows.items():
            pop = population(params, dims, dict(zip(dims, key, strict=True)))
            if pop is None:
                continue
            self._truth(pop, values, parts)
            row = released.get(key)
            if row is None:  # the app shows no row: nothing there, or too few in a margin above it to tell
                margins = [population(params, dims[:i] + dims[i + 1:], {d: key[j] for j, d in enumerate(dims) if j != i})
                           for i in range(len(dims))]
                self.absent.append((pop, [m for m in margins if m is not None],
                                    [f for f in COUNT_FIGURES if values.get(f) is not None]))
                continue
            for figure in COUNT_FIGURES:
                if values.get(figure) is None:
                    continue
                lo, hi = self._released(row[figure], figure in row["small"], figure in row["suppressed"], d, figure)
                self._narrow((pop, figure), lo, hi)
            self._rates(pop, row, parts, d)

    def _truth(self, pop, values, parts) -> None:
        mine = {f: values[f] for f in COUNT_FIGURES if values.get(f) is not None}
        mine.update(not_new=values["unique"] - values["new"], not_returning=values["unique"] - values["returning"],
                    not_local=values["unique"] - values["local"], attended=parts["attended"],
                    noshows=parts["expected"] - parts["attended"], expected=parts["expected"],
                    visits_and_dropins=values["visits"] + values["dropins"])
        for figure, v in mine.items():
            old = self.truth.setdefault((pop, figure), v)
            assert old == v, ("one population, two true values", pop, figure, old, v)

    def _rates(self, pop, row, parts, d: int) -> None:
        """Rate × denominator: the attacker knows the sessions, and (the worst case) the sign-up pairs behind a rate.

        A rate is computed from the released counts (each up to ``d`` away from the true one) and rounded
        to the decimals it shows.
        """
        sessions = row["sessions"]
        for figure, cell, counts in (("avg_per_session", "visits", 1), ("avg_with_dropins", "visits_and_dropins", 2)):
            r = row[figure]
            if r is not None and sessions:
                half = 0.5 * 10 ** -_decimals(r)
                self._narrow((pop, cell), math.ceil((r - half) * sessions - 1e-9) - counts * d,
                             math.floor((r + half) * sessions + 1e-9) + counts * d)
        expected = parts["expected"]
        self._narrow((pop, "expected"), expected, expected)
        r = row["attendance_rate"]
        if r is not None and expected:
            half = 0.5 * 10 ** -_decimals(r)
            self._narrow((pop, "attended"), math.ceil((r - half) * expected - 1e-9) - d,
                         math.floor((r + half) * expected + 1e-9) + d)

    # -- relations -------------------------------------------------------------------------

    def _relation(self, terms) -> None:
        if all(cell in self.truth for _, cell in terms) and sum(c * self.truth[cell] for c, cell in terms) == 0:
            self.relations.append(terms)

    def settle_absent(self) -> None:
        """An absent row is 0 when every margin above it is known to hold enough young people; else at most threshold − 1.

        (The app leaves out the rows under a margin of too few: their being there would say "at least one".)
        """
        for pop, margins, figures in self.absent:
            enough = all(self.known.get((m, "unique"), (0, INF))[0] >= self.threshold for m in margins)
            for figure in figures:
                # people in a row are people of its margin; visits, drop-ins and the waitlist are not bounded by it
                bound = self.threshold - 1 if figure in PEOPLE else INF
                self._narrow((pop, figure), 0, 0 if enough else bound)

    def build_relations(self) -> None:
        pops = {cell[0] for cell in self.truth}
        figures = COUNT_FIGURES
        for pop in pops:
            # derived counts: unique minus new / returning / local, sign-up pairs minus attended, visits plus drop-ins
            for derived, part in (("not_new", "new"), ("not_returning", "returning"), ("not_local", "local")):
                self._relation([(1, (pop, "unique")), (-1, (pop, part)), (-1, (pop, derived))])
            self._relation([(1, (pop, "expected")), (-1, (pop, "attended")), (-1, (pop, "noshows"))])
            self._relation([(1, (pop, "visits_and_dropins")), (-1, (pop, "visits")), (-1, (pop, "dropins"))])
        # a population is the same as one with a condition fewer where that condition filters nothing out
        by_conditions: dict = {}
        for pop in pops:
            by_conditions.setdefault(pop.conditions(), []).append(pop)
        # complements: a total minus its parts, for every breakdown asked (rows of one dimension under a margin)
        groups: dict = {}
        for pop in pops:
            for name in FILTERS:
                if getattr(pop, name) is not None:
                    margin = _replace(pop, **{name: None})
                    if margin in pops:
                        groups.setdefault((margin, name), []).append(pop)
            for name in ("focus_areas", "initiatives"):
                for tag in getattr(pop, name):
                    margin = _replace(pop, **{name: getattr(pop, name) - {tag}})
                    if margin in pops:
                        groups.setdefault((margin, name), []).append(pop)
        for (margin, _), parts in groups.items():
            for figure in figures:
                self._relation([(1, (margin, figure))] + [(-1, (p, figure)) for p in parts])
                for p in parts:
                    # the same population asked with a condition fewer (an institution in its district)
                    self._relation([(1, (margin, figure)), (-1, (p, figure))])
        # periods: a longer period minus a shorter one with the same start or end is the days between
        for same in by_conditions.values():
            periods = {(p.start, p.end): p for p in same}
            for (s, e), whole in periods.items():
                for (s2, e2), part in periods.items():
                    if (s2, e2) == (s, e):
                        continue
                    if s2 == s and e2 < e:
                        rest = periods.get((e2 + timedelta(days=1), e))
                    elif e2 == e and s2 > s:
                        rest = periods.get((s, s2 - timedelta(days=1)))
                    else:
                        continue
                    if rest is not None:
                        for figure in PERIOD_FIGURES:
                            self._relation([(1, (whole, figure)), (-1, (part, figure)), (-1, (rest, figure))])
            # a period is the sum of its months (the rows of a breakdown by month; a month with no row is 0)
            for (s, e), whole in periods.items():
                months = [p for (s2, e2), p in periods.items() if (s2, e2) != (s, e) and s <= s2 and e2 <= e
                          and _month_slice(s2, e2, s, e)]
                if months:
                    for figure in PERIOD_FIGURES:
                        self._relation([(1, (whole, figure))] + [(-1, (m, figure)) for m in months])

    def propagate(self, rounds: int = 4) -> None:
        """Interval constraint propagation: every member of every relation solved from the others, until nothing changes."""
        for _ in range(rounds):
            changed = False
            for terms in self.relations:
                for i, (cx, x) in enumerate(terms):
                    lo = hi = 0
                    for j, (c, cell) in enumerate(terms):
                        if j == i:
                            continue
                        k = -cx * c
                        a, b = self.known.get(cell, (0, INF))
                        lo, hi = (lo + a, hi + b) if k > 0 else (lo - b, hi - a)
                    changed |= self._narrow(x, lo, hi)
            if not changed:
                return

    def recovered(self) -> list:
        """Every count of 1 .. threshold − 1 (people or visits, published or derived) that the intervals pin to its true value."""
        out = []
        for cell, (lo, hi) in self.known.items():
            figure = cell[1]
            if figure not in COUNT_FIGURES + DERIVED:
                continue
            value = self.truth.get(cell)
            if value is None or not 1 <= value < self.threshold:
                continue
            assert lo <= value <= hi, ("the attacker's reasoning excluded the truth", cell, lo, hi, value)
            if lo == hi:
                out.append((cell, value))
        return out

    def hidden_targets(self) -> int:
        return sum(1 for cell, value in self.truth.items()
                   if cell[1] in COUNT_FIGURES + DERIVED and 1 <= value < self.threshold and cell in self.known)


def _month_slice(s: date, e: date, start: date, end: date) -> bool:
    """[s, e] is one month of the period [start, end], cut to the period (a month row of its breakdown)."""
    first, last = _month_bounds(s.isoformat()[:7])
    return s == max(first, start) and e == min(last, end) and e <= last


def _replace(pop: Population, **changes) -> Population:
    values = {name: getattr(pop, name) for name in Population.__dataclass_fields__}
    values.update(changes)
    return Population(**values)
