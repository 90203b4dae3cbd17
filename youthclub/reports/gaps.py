"""Where offers are missing: demand against supply per district, as it stands now.

Supply is the published offers with a coming session (how many, how many are full, their
free places); demand is the young people waiting for a place. Both are grouped per district
by category, weekday and age band, so a coordinator sees where the action plan needs more
offers. An offer meeting on two weekdays counts on both; by age band, an offer counts in
every band its age range touches, while a waiting young person counts in their own band.

The number of young people waiting is a count of people: it is released like every figure
of the statistics, by the cell key method (``release``; docs/metrics.md): small counts are
shown as "<5", the rest carry the perturbation their cell key gives, so a district's total
minus its groups (or this page minus the dashboard) pins no small number.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from ..accounts.models import RECORD_KEYS, YouthProfile
from ..activities.models import Activity, ActivityStatus, Session
from ..activities.services import coming_sessions
from ..attendance.models import AgeBand
from ..db_types import utcnow
from ..extensions import db
from ..i18n import local_today
from ..programme.models import District
from ..signups.models import Signup, SignupStatus
from ..signups.places import free_places_by_activity
from .disclosure import released_count
from .stats import AGE_BANDS, Row

#: the groups each district is broken down by
GAP_DIMENSIONS = ("category", "weekday", "age_band")
#: the figures of a group; only "waitlist" counts people
GAP_FIGURES = ("offers", "full", "free_places", "waitlist")
#: the ages an age band spans (the oldest band takes everyone over 18)
BAND_AGES = {AgeBand.UNDER_13.value: (0, 12), AgeBand.AGE_13_15.value: (13, 15), AgeBand.AGE_16_17.value: (16, 17),
             AgeBand.AGE_18_24.value: (18, 99)}


@dataclass
class _Group:
    offers: set = field(default_factory=set)
    full: set = field(default_factory=set)
    free_places: int = 0
    #: young person id -> record key, for the cell key of the waitlist count
    waiting: dict = field(default_factory=dict)

    def row(self, key: dict) -> Row:
        return Row(key=key, values={"offers": len(self.offers), "full": len(self.full),
                                    "free_places": self.free_places, "waitlist": len(self.waiting)},
                   parts={"waitlist_key": sum(self.waiting.values()) % RECORD_KEYS})


@dataclass
class DistrictGaps:
    district: District
    total: Row
    #: dimension -> rows, in the dimension's order
    tables: dict


@dataclass
class GapReport:
    total: Row
    districts: list[DistrictGaps]
    threshold: int | None


def _offer_bands(activity: Activity) -> list[str]:
    return [band for band in AGE_BANDS if activity.min_age <= BAND_AGES[band][1] and activity.max_age >= BAND_AGES[band][0]]


def offer_gaps(*, threshold: int | None, now: datetime | None = None) -> GapReport:
    """Supply and demand of every district now; the waitlist released with ``threshold`` (None: raw)."""
    now = now or utcnow()
    weekdays: dict[int, set[int]] = {}
    for activity_id, weekday in db.session.execute(
        select(Session.activity_id, Session.local_weekday).join(Activity, Activity.id == Session.activity_id)
        .where(Activity.status == ActivityStatus.PUBLISHED, coming_sessions(now))
        .distinct()
    ):
        weekdays.setdefault(activity_id, set()).add(weekday)
    activities = {a.id: a for a in db.session.scalars(select(Activity).where(Activity.id.in_(list(weekdays) or [-1])))}
    free = free_places_by_activity(activities)
    today = local_today()
    waiting: dict[int, list[tuple[tuple[int, int], str]]] = {}
    for activity_id, youth in db.session.execute(
        select(Signup.activity_id, YouthProfile).join(YouthProfile, YouthProfile.id == Signup.youth_id)
        .where(Signup.status == SignupStatus.WAITLISTED, Signup.activity_id.in_(list(activities) or [-1]))
    ):
        waiting.setdefault(activity_id, []).append(((youth.id, youth.record_key),
                                                    AgeBand.for_age(youth.age_on(today)).value))

    groups: dict[tuple, _Group] = {}

    def add(key: tuple, activity: Activity, youths, *, offer: bool = True) -> None:
        group = groups.setdefault(key, _Group())
        if offer and activity.id not in group.offers:
            group.offers.add(activity.id)
            places = free[activity.id]
            if places is not None:
                group.free_places += places
                if places == 0:
                    group.full.add(activity.id)
        group.waiting.update(youth for youth, _band in youths)

    for activity in activities.values():
        youths = waiting.get(activity.id, [])
        d = activity.district_id
        add((), activity, youths)
        add((d,), activity, youths)
        add((d, "category", activity.category.value), activity, youths)
        for weekday in weekdays[activity.id]:
            add((d, "weekday", weekday), activity, youths)
        # an offer counts in the bands its ages touch; a waiting young person in their own band
        offer_bands = _offer_bands(activity)
        for band in set(offer_bands) | {b for _y, b in youths}:
            add((d, "age_band", band), activity, [(y, b) for y, b in youths if b == band], offer=band in offer_bands)

    total = groups.get((), _Group()).row({})
    districts = []
    for district in db.session.scalars(select(District).order_by(District.code)):
        tables: dict[str, list[Row]] = {dim: [] for dim in GAP_DIMENSIONS}
        for key, group in groups.items():
            if len(key) == 3 and key[0] == district.id:
                tables[key[1]].append(group.row({"district": district.id, key[1]: key[2]}))
        order = {"category": lambda r: r.key["category"], "weekday": lambda r: r.key["weekday"],
                 "age_band": lambda r: AGE_BANDS.index(r.key["age_band"])}
        for dim in GAP_DIMENSIONS:
            tables[dim].sort(key=order[dim])
        districts.append(DistrictGaps(district, groups.get((district.id,), _Group()).row({"district": district.id}),
                                      tables))
    report = GapReport(total, districts, threshold)
    if threshold is not None:
        release(report, threshold)
    return report


def release(report: GapReport, threshold: int) -> None:
    """The waitlist counts as they may leave the system: the statistics' own cell key release.

    Each group's count gets the perturbation of its cell key (its young people's record keys
    added up), the same in every answer; 0 to threshold − 1 is shown as "<5". The offers,
    full offers and free places are counts of offers, not of people, and stay exact.
    """
    rows = [report.total] + [d.total for d in report.districts]
    rows += [r for d in report.districts for table in d.tables.values() for r in table]
    for row in rows:
        released = released_count(row.values["waitlist"], row.parts["waitlist_key"], threshold)
        if released is None:
            row.hidden.add("waitlist")
            row.small.add("waitlist")
        else:
            row.values["waitlist"] = released
