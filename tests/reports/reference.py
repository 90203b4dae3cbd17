"""The figures of docs/metrics.md computed the plain way: Python loops over every row.

Independent of youthclub.reports.stats (local dates through zoneinfo, ages through
YouthProfile.age_on and AgeBand.for_age), so the tests can hold the SQL against it.
"""
from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import replace
from datetime import date

from youthclub.attendance.models import AgeBand
from youthclub.extensions import db
from youthclub.i18n import to_local
from youthclub.models import Attendance, HeadCount, Initiative, Session, Signup, SignupStatus
from youthclub.reports.stats import PERSON_DIMENSIONS


def _activity_ok(f, a) -> bool:
    if f.district_id is not None and a.district_id != f.district_id:
        return False
    if f.institution_ids is not None and a.institution_id not in f.institution_ids:
        return False
    if f.category and a.category.value != f.category:
        return False
    if f.focus_area_id is not None and f.focus_area_id not in [x.id for x in a.focus_areas]:
        return False
    if f.initiative_id is not None and f.initiative_id not in [x.id for x in a.initiatives]:
        return False
    return True


def _held(f, s) -> bool:
    """Held: not cancelled, started (before ``f.now``), on a day of the period."""
    return s.cancelled_at is None and s.starts_at < f.now and f.start <= to_local(s.starts_at).date() <= f.end


def _initiatives(activity, year) -> list:
    """An activity's initiatives of the action plan of ``year``, or [None]."""
    return [x.id for x in activity.initiatives if x.action_plan.year == year] or [None]


def _session_values(dim, s):
    a = s.activity
    day = to_local(s.starts_at).date()
    return {
        "district": [a.district_id],
        "institution": [a.institution_id],
        "category": [a.category.value],
        "month": [f"{day.year:04d}-{day.month:02d}"],
        "focus_area": [x.id for x in a.focus_areas] or [None],
        "initiative": _initiatives(a, day.year),
    }[dim]


def _keys(dims, s, youth=None, day=None, band=None, gender=None):
    lists = []
    for d in dims:
        if d == "age_band":
            lists.append([band if band is not None else AgeBand.for_age(youth.age_on(day)).value])
        elif d == "gender":
            lists.append([gender if gender is not None else youth.gender.value])
        else:
            lists.append(_session_values(d, s))
    return list(itertools.product(*lists))


def _month(moment) -> str:
    day = to_local(moment).date()
    return f"{day.year:04d}-{day.month:02d}"


def _person_ok(f, youth, day) -> bool:
    if f.gender and youth.gender.value != f.gender:
        return False
    if f.age_band and AgeBand.for_age(youth.age_on(day)).value != f.age_band:
        return False
    return True


def _in_initiative_year(f):
    """An initiative filter counts only within its action plan's year."""
    if f.initiative_id is None:
        return f
    year = db.session.get(Initiative, f.initiative_id).action_plan.year
    return replace(f, start=max(f.start, date(year, 1, 1)), end=min(f.end, date(year, 12, 31)))


def reference_table(f, dims) -> dict:
    dims = tuple(dims)
    f = _in_initiative_year(f)
    sessions = [s for s in db.session.query(Session).all() if _held(f, s) and _activity_ok(f, s.activity)]
    held_ids = {s.id for s in sessions}
    attendances = db.session.query(Attendance).all()

    first_visit = {}
    for a in attendances:
        if a.session.cancelled_at is None:
            first_visit[a.youth_id] = min(first_visit.get(a.youth_id, a.session.starts_at), a.session.starts_at)

    per_youth = defaultdict(lambda: defaultdict(lambda: {"n": 0, "loc": 0, "cap": 0}))
    for a in attendances:
        s = a.session
        if s.id not in held_ids:
            continue
        day = to_local(s.starts_at).date()
        if not _person_ok(f, a.youth, day):
            continue
        for key in _keys(dims, s, a.youth, day):
            cell = per_youth[key][a.youth_id]
            cell["n"] += 1
            cell["loc"] = max(cell["loc"], int(a.youth.home_district_id == s.activity.district_id))
            cell["cap"] += int(s.capacity is not None)

    sdims = tuple(d for d in dims if d not in PERSON_DIMENSIONS)
    sess = defaultdict(lambda: [0, 0])
    for s in sessions:
        for key in _keys(sdims, s):
            sess[key][0] += 1
            sess[key][1] += s.capacity or 0

    drop = defaultdict(int)
    for h in db.session.query(HeadCount).all():
        if h.session_id not in held_ids:
            continue
        if (f.age_band and h.age_band.value != f.age_band) or (f.gender and h.gender.value != f.gender):
            continue
        for key in _keys(dims, h.session, band=h.age_band.value, gender=h.gender.value):
            drop[key] += h.count

    attended_pairs = {(a.youth_id, a.session_id) for a in attendances}
    pairs = defaultdict(lambda: [0, 0])
    signups = db.session.query(Signup).all()
    paired: set = set()
    for sg in signups:
        if sg.confirmed_at is None or not sg.activity.requires_signup:
            continue
        for s in sessions:
            if s.activity_id != sg.activity_id:
                continue
            # only while the sign-up was confirmed: from confirmed_at, until cancelled_at
            if sg.confirmed_at > s.starts_at or (sg.cancelled_at is not None and sg.cancelled_at < s.starts_at):
                continue
            day = to_local(s.starts_at).date()
            if not _person_ok(f, sg.youth, day):
                continue
            if (sg.youth_id, s.id) in paired:  # one pair per young person and session
                continue
            paired.add((sg.youth_id, s.id))
            for key in _keys(dims, s, sg.youth, day):
                pairs[key][0] += 1
                pairs[key][1] += int((sg.youth_id, s.id) in attended_pairs)

    waiting = defaultdict(set)
    if "month" not in dims and f.start <= f.end:
        at = f.hi
        for sg in signups:
            was_waiting = (
                sg.created_at < at
                and ((sg.confirmed_at is None and sg.status != SignupStatus.CONFIRMED) or (sg.confirmed_at is not None and sg.confirmed_at >= at))
                and (sg.cancelled_at is None or sg.cancelled_at >= at)
            )
            if not was_waiting or not _activity_ok(f, sg.activity) or not _person_ok(f, sg.youth, f.end):
                continue
            lists = []
            for d in dims:
                if d == "age_band":
                    lists.append([AgeBand.for_age(sg.youth.age_on(f.end)).value])
                elif d == "gender":
                    lists.append([sg.youth.gender.value])
                elif d == "focus_area":
                    lists.append([x.id for x in sg.activity.focus_areas] or [None])
                elif d == "initiative":
                    lists.append(_initiatives(sg.activity, f.end.year))
                elif d == "category":
                    lists.append([sg.activity.category.value])
                else:
                    lists.append([getattr(sg.activity, f"{d}_id")])
            for key in itertools.product(*lists):
                waiting[key].add(sg.youth_id)

    keys = set(per_youth) | set(drop) | set(pairs) | set(waiting)
    if not any(d in PERSON_DIMENSIONS for d in dims):
        keys |= set(sess)
    if not dims:
        keys = {()}
    out = {}
    for key in keys:
        skey = tuple(v for d, v in zip(dims, key, strict=True) if d not in PERSON_DIMENSIONS)
        youths = per_youth.get(key, {})
        visits = sum(c["n"] for c in youths.values())
        n_sessions, places = sess.get(skey, [0, 0])
        d = drop.get(key, 0)
        expected, attended = pairs.get(key, [0, 0])
        visits_cap = sum(c["cap"] for c in youths.values())
        out[key] = {
            "sessions": n_sessions,
            "visits": visits,
            "dropins": d,
            "unique": len(youths),
            # in a month row: new in that month (the first visit ever falls in it)
            "new": sum(1 for y in youths if first_visit[y] >= f.lo
                       and ("month" not in dims or _month(first_visit[y]) == key[dims.index("month")])),
            "returning": sum(1 for c in youths.values() if c["n"] >= 3),
            "local": sum(c["loc"] for c in youths.values()),
            "waitlist": None if "month" in dims else len(waiting.get(key, ())),
            "avg_per_session": visits / n_sessions if n_sessions else None,
            "avg_with_dropins": (visits + d) / n_sessions if n_sessions else None,
            "attendance_rate": attended / expected if expected else None,
            "capacity_use": visits_cap / places if places else None,
        }
    return out
