"""The action-plan report: for a district and a year, each focus area and initiative, targets beside actual figures."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from ..db_types import utcnow
from ..extensions import db
from ..programme.models import ActionPlan, District, FocusArea, Initiative
from .disclosure import RATE_DECIMALS, Statistics, rounded_rate
from .stats import Row, StatsFilter

#: the figures the report shows, in order
FIGURES = ("unique", "visits", "new", "returning", "local", "dropins", "sessions")
#: the focus area the programme reports on comes first
FIRST_FOCUS_AREA = 2


@dataclass
class Target:
    unique: int | None
    visits: int | None

    def share(self, row: Row, figure: str) -> float | None:
        target = getattr(self, figure)
        actual = row.get(figure)
        if not target or actual is None:
            return None
        return rounded_rate(actual, target, RATE_DECIMALS)


@dataclass
class InitiativeLine:
    initiative: Initiative
    row: Row
    target: Target


@dataclass
class FocusAreaSection:
    focus_area: FocusArea
    row: Row
    target: Target
    initiatives: list[InitiativeLine] = field(default_factory=list)


@dataclass
class PlanReport:
    district: District
    year: int
    plan: ActionPlan | None
    total: Row
    sections: list[FocusAreaSection]
    suppressed: bool
    #: the answer the figures come from (its filter and how it was released)
    stats: Statistics


def _sum(values):
    values = [v for v in values if v is not None]
    return sum(values) if values else None


def _empty_row(key, stats: Statistics) -> Row:
    """A focus area or initiative the answer has no row for.

    Exact figures: nothing there, 0. Released ones: the counts are shown as an empty group is,
    "<5" (``absent_value``): the rows under a headline of too few young people are withheld, so
    the group may hold some. Its sessions are not about people and stay 0 unless withheld.
    """
    if not stats.perturbed:
        return Row(key, {f: 0 for f in FIGURES})
    withheld = "unique" in stats.headline().small
    counts = {f for f in FIGURES if f != "sessions"}
    values = {f: None for f in counts} | {"sessions": None if withheld else 0}
    return Row(key, values, hidden=counts | ({"sessions"} if withheld else set()), small=counts)


def build(district_id: int, year: int, threshold: int | None, now: datetime | None = None) -> PlanReport | None:
    """The report for ``district_id`` in ``year`` (as it stands at ``now``); None when the district does not exist."""
    district = db.session.get(District, district_id)
    if district is None:
        return None
    plan = db.session.scalar(select(ActionPlan).where(ActionPlan.district_id == district_id, ActionPlan.year == year))
    stats = Statistics(StatsFilter(date(year, 1, 1), date(year, 12, 31), district_id=district_id, now=now or utcnow()), threshold)
    stats.prepare([("focus_area",), ("initiative",)])
    by_area = {r.key["focus_area"]: r for r in stats.table(("focus_area",))}
    by_initiative = {r.key["initiative"]: r for r in stats.table(("initiative",))}
    areas = sorted(db.session.scalars(select(FocusArea)), key=lambda a: (a.number != FIRST_FOCUS_AREA, a.number))
    sections = []
    for area in areas:
        initiatives = [i for i in (plan.initiatives if plan else []) if i.focus_area_id == area.id]
        lines = [
            InitiativeLine(i, by_initiative.get(i.id) or _empty_row({"initiative": i.id}, stats),
                           Target(i.target_unique_youths, i.target_visits))
            for i in initiatives
        ]
        target = Target(_sum(i.target_unique_youths for i in initiatives), _sum(i.target_visits for i in initiatives))
        sections.append(FocusAreaSection(area, by_area.get(area.id) or _empty_row({"focus_area": area.id}, stats), target, lines))
    return PlanReport(district, year, plan, stats.headline(), sections, threshold is not None, stats)
