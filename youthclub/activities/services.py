"""Activity rules: offers, weekly patterns and their sessions, the catalogue, the Today page and iCal."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import contains_eager

from ..audit.services import record_event
from ..database import MAX_COUNT, lock_row
from ..db_types import utcnow
from ..errors import DomainError
from ..extensions import db
from ..i18n import exists_locally, fmt_date, to_local, to_utc
from ..signals import activity_cancelled, capacity_changed, session_changed
from ..signups.places import confirmed_count_sql, free_places_sql
from ..signups.services import promote_waitlist
from . import ical
from .models import Activity, ActivityStatus, Category, Session, SessionPattern

#: a pattern may not generate more sessions than this (two years of three sessions a week)
MAX_PATTERN_SESSIONS = 320
#: a session lasts at most this long (so 16:00–15:00 is a typo, while 22:00–01:00 is a late evening)
MAX_SESSION_LENGTH = timedelta(hours=12)
MAX_AGE = 99


class ActivityError(DomainError):
    """A rule refused a change to an activity or its sessions; ``field`` names the form field.

    ``problems`` holds every refusal found in one go (this one first), so a form can show them
    all at once, each next to its field.
    """

    def __init__(self, message: str, code: str, *, field: str | None = None, problems=(), **details):
        super().__init__(message, code, **details)
        self.field = field
        self.problems = list(problems) or [self]


class _Problems:
    """Collects the refusals of one check, at most one a field, and raises them together."""

    def __init__(self):
        self.found: list[ActivityError] = []

    def add(self, message: str, code: str, field: str | None) -> None:
        if field is None or all(p.field != field for p in self.found):
            self.found.append(ActivityError(message, code, field=field))

    def has(self, field: str) -> bool:
        return any(p.field == field for p in self.found)

    def raise_any(self) -> None:
        if self.found:
            first = self.found[0]
            raise ActivityError(first.message, first.code, field=first.field, problems=self.found)


# --- activities -------------------------------------------------------------------------------

ACTIVITY_FIELDS = (
    "title", "description", "category", "min_age", "max_age", "address", "room", "requires_signup",
    "capacity", "waitlist_enabled", "allows_drop_in", "signup_opens_at", "signup_closes_at", "district_id",
)


def activity_problems(fields: dict) -> list[ActivityError]:
    """Every refusal of these activity fields at once (empty when they may be saved).

    A field that is None because its form field could not be read is left to the form.
    """
    try:
        _clean(fields)
    except ActivityError as err:
        return err.problems
    return []


def _clean(fields: dict) -> dict:
    """Validate and normalise activity fields; raise one ActivityError holding every bad field."""
    from ..programme.models import District

    problems = _Problems()
    data = dict(fields)
    title = (data.get("title") or "").strip()
    if not title:
        problems.add(_("Skriv en titel."), "title_missing", "title")
    data["title"] = title
    data["description"] = (data.get("description") or "").strip()
    try:
        data["category"] = Category(data.get("category") or "")
    except ValueError:
        problems.add(_("Vælg en kategori."), "unknown_category", "category")
    min_age, max_age = data.get("min_age"), data.get("max_age")
    if min_age is None or not 0 <= min_age <= MAX_AGE:
        problems.add(_("Skriv en alder mellem 0 og 99."), "bad_age", "min_age")
    if max_age is None or not 0 <= max_age <= MAX_AGE:
        problems.add(_("Skriv en alder mellem 0 og 99."), "bad_age", "max_age")
    elif not problems.has("min_age") and max_age < min_age:
        problems.add(_("Maksimumalderen skal være mindst lige så høj som minimumsalderen."),
                     "age_range_reversed", "max_age")
    data["requires_signup"] = bool(data.get("requires_signup", True))
    capacity = data.get("capacity")
    if not data["requires_signup"]:
        capacity = None
    elif capacity is not None and capacity <= 0:
        problems.add(_("Antal pladser skal være mindst 1 (lad feltet stå tomt for ubegrænset)."),
                     "capacity_not_positive", "capacity")
    elif capacity is not None and capacity > MAX_COUNT:
        problems.add(_("Antal pladser må højst være %(n)d.", n=MAX_COUNT), "capacity_too_large", "capacity")
    data["capacity"] = capacity
    opens, closes = data.get("signup_opens_at"), data.get("signup_closes_at")
    if opens and closes and closes <= opens:
        problems.add(_("Tilmeldingen skal lukke efter den åbner."), "signup_window_reversed", "signup_closes_at")
    for key in ("address", "room"):
        data[key] = (data.get(key) or "").strip() or None
    district_id = data.get("district_id")
    if district_id is not None and (not 0 < district_id < 2**31 or db.session.get(District, district_id) is None):
        problems.add(_("Vælg et distrikt."), "unknown_district", "district_id")
    problems.raise_any()
    return data


def create_activity(institution, *, created_by=None, **fields) -> Activity:
    """A new draft activity of ``institution``; the district defaults to the institution's."""
    unknown = set(fields) - set(ACTIVITY_FIELDS)
    if unknown:
        raise TypeError(f"unknown activity fields: {sorted(unknown)}")
    fields.setdefault("district_id", None)
    if fields["district_id"] is None:
        fields["district_id"] = institution.district_id
    data = _clean(fields)
    activity = Activity(institution_id=institution.id, status=ActivityStatus.DRAFT,
                        created_by_id=getattr(created_by, "id", None), **data)
    activity.refresh_search_text()
    db.session.add(activity)
    db.session.flush()
    record_event("activity.create", activity)
    return activity


def update_activity(activity: Activity, **fields) -> Activity:
    """Change an activity's details; a raised capacity fills from the waitlist, and it never drops below
    the confirmed places (cancel sign-ups first)."""
    unknown = set(fields) - set(ACTIVITY_FIELDS)
    if unknown:
        raise TypeError(f"unknown activity fields: {sorted(unknown)}")
    # the capacity lock sign-ups take: the count checked below cannot change under us
    activity = lock_row(Activity, activity.id)
    current = {key: getattr(activity, key) for key in ACTIVITY_FIELDS}
    current.update(fields)
    if current["district_id"] is None:
        current["district_id"] = activity.institution.district_id
    data = _clean(current)
    old_capacity = activity.capacity
    if data["capacity"] is not None and data["capacity"] != old_capacity:
        confirmed = db.session.scalar(select(confirmed_count_sql()).where(Activity.id == activity.id))
        if data["capacity"] < confirmed:
            raise ActivityError(
                _("%(n)d har allerede en plads. Antal pladser kan ikke være lavere; aflys tilmeldinger først.",
                  n=confirmed), "capacity_below_confirmed", field="capacity", confirmed=confirmed)
    for key, value in data.items():
        setattr(activity, key, value)
    activity.refresh_search_text()
    db.session.flush()
    record_event("activity.update", activity)
    if old_capacity != activity.capacity:
        apply_capacity_to_coming_sessions(activity)
        promote_waitlist(activity)
        capacity_changed.send(activity, old_capacity=old_capacity, new_capacity=activity.capacity)
    return activity


def apply_capacity_to_coming_sessions(activity: Activity, now=None) -> None:
    """The activity's capacity for its sessions that have not started; a held session keeps the places it offered."""
    db.session.execute(
        update(Session).where(Session.activity_id == activity.id, Session.starts_at > (now or utcnow()))
        .values(capacity=activity.capacity)
    )


def publish_activity(activity: Activity) -> Activity:
    """Put an activity in the public catalogue; places that came free while it was a draft go to the waitlist."""
    if activity.status == ActivityStatus.CANCELLED:
        raise ActivityError(_("Et aflyst tilbud kan ikke offentliggøres."), "cancelled")
    activity.status = ActivityStatus.PUBLISHED
    activity.published_at = activity.published_at or utcnow()
    db.session.flush()
    record_event("activity.publish", activity)
    promote_waitlist(activity)
    return activity


def unpublish_activity(activity: Activity) -> Activity:
    """Take an activity out of the catalogue (back to draft)."""
    if activity.status == ActivityStatus.CANCELLED:
        raise ActivityError(_("Tilbuddet er aflyst."), "cancelled")
    activity.status = ActivityStatus.DRAFT
    db.session.flush()
    record_event("activity.unpublish", activity)
    return activity


def cancel_activity(activity: Activity, reason: str) -> Activity:
    """Cancel the whole activity and its coming sessions, with a reason young people see."""
    reason = (reason or "").strip()
    if not reason:
        raise ActivityError(_("Skriv en begrundelse."), "reason_missing", field="reason")
    if activity.status == ActivityStatus.CANCELLED:
        raise ActivityError(_("Tilbuddet er allerede aflyst."), "already_cancelled")
    now = utcnow()
    activity.status = ActivityStatus.CANCELLED
    activity.cancel_reason = reason[:300]
    for session in db.session.scalars(
        select(Session).where(Session.activity_id == activity.id, Session.starts_at >= now,
                              Session.cancelled_at.is_(None))
    ):
        session.cancelled_at = now
        session.cancel_reason = reason[:300]
    db.session.flush()
    record_event("activity.cancel", activity, reason=reason[:300])
    activity_cancelled.send(activity)
    return activity


def restore_activity(activity: Activity) -> Activity:
    """Undo an activity's cancellation: it returns to the catalogue (or to draft, if it never was
    published), the sessions its cancellation cancelled come back, and free places go to the waitlist."""
    if activity.status != ActivityStatus.CANCELLED:
        raise ActivityError(_("Tilbuddet er ikke aflyst."), "not_cancelled")
    reason = activity.cancel_reason
    activity.status = ActivityStatus.PUBLISHED if activity.published_at is not None else ActivityStatus.DRAFT
    activity.cancel_reason = None
    for session in db.session.scalars(
        select(Session).where(Session.activity_id == activity.id, Session.ends_at >= utcnow(),
                              Session.cancelled_at.is_not(None), Session.cancel_reason == reason)
    ):
        session.cancelled_at = None
        session.cancel_reason = None
    db.session.flush()
    record_event("activity.restore", activity)
    promote_waitlist(activity)
    return activity


def tag_activity(activity: Activity, *, focus_area_ids, initiative_ids) -> Activity:
    """Set the focus areas and action-plan initiatives an activity serves (coordinators)."""
    from ..programme.models import FocusArea, Initiative

    focus_area_ids, initiative_ids = set(focus_area_ids or ()), set(initiative_ids or ())
    areas = list(db.session.scalars(select(FocusArea).where(FocusArea.id.in_(focus_area_ids)))) if focus_area_ids else []
    initiatives = (list(db.session.scalars(select(Initiative).where(Initiative.id.in_(initiative_ids))))
                   if initiative_ids else [])
    if len(areas) != len(focus_area_ids) or len(initiatives) != len(initiative_ids):
        raise ActivityError(_("Ukendt indsatsområde eller initiativ."), "unknown_tag", field="initiatives")
    # an initiative belongs to a focus area: tagging one tags its area too
    area_ids = {a.id for a in areas} | {i.focus_area_id for i in initiatives}
    if area_ids != {a.id for a in areas}:
        areas = list(db.session.scalars(select(FocusArea).where(FocusArea.id.in_(area_ids))))
    activity.focus_areas = sorted(areas, key=lambda a: a.number)
    activity.initiatives = initiatives
    db.session.flush()
    record_event("activity.tag", activity, focus_areas=sorted(area_ids), initiatives=sorted(initiative_ids))
    return activity


def initiatives_elsewhere(activity: Activity) -> list:
    """The initiatives an activity is tagged with that belong to another district's action plan.

    Allowed (an offer may serve young people across the border), but usually a slip: the
    figures then count the offer for a plan of a district it is not in.
    """
    return [i for i in activity.initiatives if i.action_plan.district_id != activity.district_id]


def tag_warning(activity: Activity) -> str | None:
    """The warning staff and coordinators see when an activity serves another district's action plan."""
    elsewhere = initiatives_elsewhere(activity)
    if not elsewhere:
        return None
    return _("Bemærk: %(initiatives)s hører til handlingsplanen for et andet distrikt end tilbuddets (%(district)s). "
             "Tjek distriktet eller initiativet.",
             initiatives=", ".join(f"{i.title} ({i.action_plan.district.name} {i.action_plan.year})" for i in elsewhere),
             district=activity.district.name)


# --- patterns and sessions --------------------------------------------------------------------

def _programme_bounds(activity: Activity):
    from ..programme.models import District, Programme

    return db.session.scalar(
        select(Programme).join(District, District.programme_id == Programme.id).where(District.id == activity.district_id)
    )


def _check_in_programme(activity: Activity, day: date, field: str, problems: _Problems) -> None:
    programme = _programme_bounds(activity)
    if programme is not None and not programme.covers(day):
        problems.add(
            _("Datoen skal ligge i programmets periode (%(start)s–%(end)s).",
              start=programme.starts_on.strftime("%d.%m.%Y"), end=programme.ends_on.strftime("%d.%m.%Y")),
            "outside_programme", field,
        )


def session_times(day: date, start_time: time, end_time: time) -> tuple[datetime, datetime]:
    """(starts_at, ends_at) in UTC of a session on ``day`` from ``start_time`` to ``end_time``, Copenhagen time.

    An end at or before the start is on the next day: an evening club runs 22:00–01:00. A time the
    clocks skip when summer time begins (02:00–02:59 on the last Sunday of March) is refused,
    never silently moved an hour on.
    """
    problems = _Problems()
    _skipped_times(day, start_time, end_time, problems)
    problems.raise_any()
    return _utc_times(day, start_time, end_time)


def _utc_times(day: date, start_time: time, end_time: time) -> tuple[datetime, datetime]:
    end_day = day + timedelta(days=1) if end_time <= start_time else day
    return to_utc(day, start_time), to_utc(end_day, end_time)


def _skipped_times(day: date, start_time: time, end_time: time, problems: _Problems, *, pattern: bool = False) -> None:
    """A refusal for a start or end on ``day`` that the clocks skip when summer time begins."""
    end_day = day + timedelta(days=1) if end_time <= start_time else day
    for field, on, at in (("start_time", day, start_time), ("end_time", end_day, end_time)):
        if exists_locally(on, at):
            continue
        values = {"time": at.strftime("%H:%M"), "date": fmt_date(on)}
        problems.add(_("Klokken %(time)s findes ikke den %(date)s: uret stilles en time frem til sommertid. "
                       "Spring dagen over eller vælg et andet tidspunkt.", **values) if pattern else
                     _("Klokken %(time)s findes ikke den %(date)s: uret stilles en time frem til sommertid. "
                       "Vælg et andet tidspunkt.", **values), "time_skipped", field)


def _length_problem(starts_at: datetime, ends_at: datetime, problems: _Problems) -> None:
    if not timedelta(0) < ends_at - starts_at <= MAX_SESSION_LENGTH:
        problems.add(_("Sluttidspunktet skal være efter starttidspunktet (slutter en mødegang efter midnat, "
                       "er det næste dag, og den varer højst 12 timer)."), "end_before_start", "end_time")


def pattern_dates(weekdays, starts_on: date, ends_on: date, skip_dates=()) -> list[date]:
    """Every date from ``starts_on`` to ``ends_on`` on one of ``weekdays`` (Monday = 0), less the skipped."""
    wanted, skipped = set(weekdays), {date.fromisoformat(d) if isinstance(d, str) else d for d in skip_dates}
    days, day = [], starts_on
    while day <= ends_on:
        if day.weekday() in wanted and day not in skipped:
            days.append(day)
        day += timedelta(days=1)
    return days


def _sessions_with_records(session_ids) -> set[int]:
    """Sessions that hold attendance, head counts or scan conflicts: history that must stay."""
    from ..attendance.models import Attendance, HeadCount, ScanConflict

    if not session_ids:
        return set()
    found: set[int] = set()
    for model in (Attendance, HeadCount, ScanConflict):
        found.update(db.session.scalars(select(model.session_id).where(model.session_id.in_(session_ids)).distinct()))
    return found


def pattern_problems(activity: Activity, *, weekdays, start_time, end_time, starts_on, ends_on=None,
                     skip_dates=()) -> list[ActivityError]:
    """Every refusal of this weekly pattern at once (empty when it may be saved)."""
    try:
        _pattern_days(activity, weekdays, start_time, end_time, starts_on, ends_on, skip_dates)
    except ActivityError as err:
        return err.problems
    return []


def _pattern_days(activity: Activity, weekdays, start_time, end_time, starts_on, ends_on, skip_dates):
    """(weekdays, ends_on, skipped dates, session dates) of a pattern; one ActivityError with every bad field."""
    problems = _Problems()
    if starts_on is None:
        problems.add(_("Vælg en startdato."), "date_missing", "starts_on")
    elif ends_on is None:
        ends_on = starts_on
        weekdays = weekdays or [starts_on.weekday()]
    weekdays = sorted({int(d) for d in (weekdays or ())})
    if not weekdays:
        problems.add(_("Vælg mindst én ugedag."), "no_weekday", "weekdays")
    elif any(not 0 <= d <= 6 for d in weekdays):
        problems.add(_("Ukendt ugedag."), "bad_weekday", "weekdays")
    if start_time is None or end_time is None:
        problems.add(_("Vælg et tidspunkt."), "time_missing", "start_time" if start_time is None else "end_time")
    elif end_time == start_time:
        problems.add(_("Sluttidspunktet skal være efter starttidspunktet."), "end_before_start", "end_time")
    elif starts_on is not None:
        _length_problem(*_utc_times(starts_on, start_time, end_time), problems)
    if starts_on is not None and ends_on is not None:
        if ends_on < starts_on:
            problems.add(_("Slutdatoen skal være samme dag som eller efter startdatoen."), "end_before_start", "ends_on")
        _check_in_programme(activity, starts_on, "starts_on", problems)
        _check_in_programme(activity, ends_on, "ends_on", problems)
    skip = sorted({d if isinstance(d, date) else date.fromisoformat(d) for d in (skip_dates or ())})
    if problems.found:
        problems.raise_any()
    days = pattern_dates(weekdays, starts_on, ends_on, skip)
    for day in days:
        _skipped_times(day, start_time, end_time, problems, pattern=True)
    if problems.found:
        problems.raise_any()
    if not days:
        problems.add(_("Mønstret giver ingen mødegange. Tjek ugedage og datoer."), "no_sessions", "weekdays")
    elif len(days) > MAX_PATTERN_SESSIONS:
        problems.add(_("Mønstret giver for mange mødegange (højst %(n)d). Vælg en kortere periode.",
                       n=MAX_PATTERN_SESSIONS), "too_many_sessions", "ends_on")
    problems.raise_any()
    return weekdays, ends_on, skip, days


def save_pattern(
    activity: Activity,
    *,
    weekdays,
    start_time: time,
    end_time: time,
    starts_on: date,
    ends_on: date | None = None,
    skip_dates=(),
    pattern: SessionPattern | None = None,
) -> SessionPattern:
    """Create or change a weekly pattern and bring its sessions in line with it.

    Times are Copenhagen wall-clock times, so 16:00 stays 16:00 across daylight saving.
    Without ``ends_on`` the pattern is a one-off on ``starts_on``. Sessions that were moved or
    cancelled by hand, that have begun, or that hold attendance or head counts are left as
    they are; a session with attendance is never deleted.
    """
    if activity.status == ActivityStatus.CANCELLED:
        raise ActivityError(_("Tilbuddet er aflyst."), "cancelled")
    weekdays, ends_on, skip, days = _pattern_days(activity, weekdays, start_time, end_time, starts_on, ends_on,
                                                  skip_dates)

    created = pattern is None
    if pattern is None:
        pattern = SessionPattern(activity=activity)
        db.session.add(pattern)
    pattern.weekdays = weekdays
    pattern.start_time, pattern.end_time = start_time, end_time
    pattern.starts_on, pattern.ends_on = starts_on, ends_on
    pattern.skip_dates = [d.isoformat() for d in skip]
    db.session.flush()

    existing = [] if created else list(db.session.scalars(select(Session).where(Session.pattern_id == pattern.id)))
    now = utcnow()
    kept_ids = _sessions_with_records([s.id for s in existing]) | {s.id for s in existing if s.starts_at <= now}
    by_day: dict[date, Session] = {}
    for session in existing:
        # a moved session belongs to the day it was planned for
        planned = to_local(session.moved_from or session.starts_at).date()
        by_day.setdefault(planned, session)
    wanted = set(days)
    removed = kept = 0
    for day, session in by_day.items():
        if day in wanted:
            continue
        if session.id in kept_ids:
            kept += 1  # attendance and past sessions are history: they stay
            continue
        db.session.delete(session)
        removed += 1
    for day in days:
        existing_session = by_day.get(day)
        starts_at, ends_at = session_times(day, start_time, end_time)
        if existing_session is None:
            db.session.add(Session(activity=activity, pattern_id=pattern.id, starts_at=starts_at, ends_at=ends_at))
        elif (existing_session.moved_from is None and not existing_session.is_cancelled
              and existing_session.id not in kept_ids):
            existing_session.starts_at, existing_session.ends_at = starts_at, ends_at
    db.session.flush()
    record_event("pattern.create" if created else "pattern.update", pattern, activity_id=activity.id,
                 sessions=len(days), removed=removed, kept=kept)
    return pattern


def _check_session_times(activity: Activity, starts_at: datetime, ends_at: datetime) -> None:
    if starts_at is None or ends_at is None:
        raise ActivityError(_("Vælg dato og tidspunkt."), "time_missing", field="day")
    problems = _Problems()
    _length_problem(starts_at, ends_at, problems)
    _check_in_programme(activity, to_local(starts_at).date(), "day", problems)
    problems.raise_any()


def move_session(session: Session, new_start: datetime, new_end: datetime, reason: str | None = None, *,
                 door_staff: bool = True) -> Session:
    """Move one session to another time; young people who signed up see the reason.

    ``door_staff``: the mover works at the session's institution (``require_visits_stay``).
    """
    from ..attendance.services import require_visits_stay

    _check_session_times(session.activity, new_start, new_end)
    # the lock check-ins share: those in flight finish first, and none starts until the move is done
    session = lock_row(Session, session.id)
    if session.is_cancelled:
        raise ActivityError(_("Mødegangen er aflyst."), "cancelled")
    require_visits_stay(session, new_start, new_end, door_staff=door_staff)
    if session.moved_from is None:
        session.moved_from = session.starts_at
    session.starts_at, session.ends_at = new_start, new_end
    if reason is not None:
        session.cancel_reason = reason.strip()[:300] or None
    db.session.flush()
    record_event("session.move", session, reason=session.cancel_reason)
    session_changed.send(session, change="moved")
    return session


def cancel_session(session: Session, reason: str) -> Session:
    """Cancel one session with a reason that young people who signed up will see."""
    reason = (reason or "").strip()
    if not reason:
        raise ActivityError(_("Skriv en begrundelse."), "reason_missing", field="reason")
    if session.is_cancelled:
        raise ActivityError(_("Mødegangen er allerede aflyst."), "already_cancelled")
    session.cancelled_at = utcnow()
    session.cancel_reason = reason[:300]
    db.session.flush()
    record_event("session.cancel", session, reason=session.cancel_reason)
    session_changed.send(session, change="cancelled")
    return session


def restore_session(session: Session) -> Session:
    """Undo a session's cancellation."""
    if not session.is_cancelled:
        raise ActivityError(_("Mødegangen er ikke aflyst."), "not_cancelled")
    if session.activity.status == ActivityStatus.CANCELLED:
        raise ActivityError(_("Tilbuddet er aflyst."), "cancelled")
    session.cancelled_at = None
    session.cancel_reason = None
    db.session.flush()
    record_event("session.restore", session)
    session_changed.send(session, change="restored")
    return session


# --- counts and lists -------------------------------------------------------------------------

def upcoming_sessions(activity: Activity, limit: int = 8) -> list[Session]:
    """The next sessions (cancelled ones too, so their reason shows), soonest first."""
    return list(db.session.scalars(
        select(Session).where(Session.activity_id == activity.id, Session.ends_at >= utcnow())
        .order_by(Session.starts_at).limit(limit)
    ))


def activity_sessions(activity: Activity, *, past_days: int = 14) -> list[Session]:
    """Sessions for staff: from two weeks ago on."""
    since = utcnow() - timedelta(days=past_days)
    return list(db.session.scalars(
        select(Session).where(Session.activity_id == activity.id, Session.starts_at >= since).order_by(Session.starts_at)
    ))


def institution_activities(institution) -> list[Activity]:
    return list(db.session.scalars(
        select(Activity).where(Activity.institution_id == institution.id).order_by(Activity.status, Activity.title)
    ))


def today_sessions(institution, days: int = 7, now: datetime | None = None) -> list[tuple[date, list[Session]]]:
    """Today's and the coming week's sessions of an institution's offers, grouped by local day.

    A session that began yesterday evening and runs past midnight is still on the list (under yesterday),
    and so is one that ended before midnight while its check-in window is still open.
    """
    now = now or utcnow()
    today = to_local(now).date()
    start, end = to_utc(today, time(0, 0)), to_utc(today + timedelta(days=days + 1), time(0, 0))
    sessions = db.session.scalars(
        select(Session).join(Activity, Activity.id == Session.activity_id)
        .options(contains_eager(Session.activity))
        .where(Activity.institution_id == institution.id, Activity.status != ActivityStatus.CANCELLED,
               or_(Session.ends_at > start, Session.ends_at >= now - current_app.config["CHECKIN_CLOSE_AFTER"]),
               Session.starts_at < end)
        .order_by(Session.starts_at)
    ).all()
    grouped: dict[date, list[Session]] = {}
    for session in sessions:
        grouped.setdefault(to_local(session.starts_at).date(), []).append(session)
    return sorted(grouped.items())


# --- the public catalogue ---------------------------------------------------------------------

@dataclass
class CatalogueFilters:
    q: str = ""
    age: int | None = None
    weekday: int | None = None
    district_id: int | None = None
    category: str | None = None
    free_places: bool = False
    drop_in: bool = False


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _catalogue_conditions(filters: CatalogueFilters, now: datetime, coming) -> list:
    """WHERE clauses on Activity for the catalogue's filters (without "has a coming session")."""
    conditions = [Activity.status == ActivityStatus.PUBLISHED]
    if filters.q:
        for word in filters.q.casefold().split()[:6]:
            conditions.append(Activity.search_text.like(f"%{_like_escape(word)}%", escape="\\"))
    if filters.age is not None:
        conditions += [Activity.min_age <= filters.age, Activity.max_age >= filters.age]
    if filters.district_id is not None:
        conditions.append(Activity.district_id == filters.district_id)
    if filters.category:
        conditions.append(Activity.category == Category(filters.category))
    if filters.weekday is not None:
        conditions.append(exists(
            select(Session.id).where(Session.activity_id == Activity.id, Session.local_weekday == filters.weekday, coming)
        ))
    if filters.drop_in:
        conditions.append(or_(Activity.allows_drop_in.is_(True), Activity.requires_signup.is_(False)))
    if filters.free_places:
        free = free_places_sql()
        conditions += [
            Activity.requires_signup.is_(True),
            or_(Activity.signup_closes_at.is_(None), Activity.signup_closes_at > now),
            or_(free.is_(None), free > 0),
        ]
    return conditions


def coming_sessions(now: datetime):
    """Condition: a session not over at ``now`` and not cancelled.

    Every path that sets a session's times keeps it at most ``MAX_SESSION_LENGTH`` long
    (``_length_problem``), so such a session began after ``now`` less that: the bound says
    nothing new, and lets the index on ``starts_at`` find the few coming sessions among a city's
    ten years of them (without it, every catalogue page read all 800,000).
    """
    return and_(Session.ends_at >= now, Session.starts_at >= now - MAX_SESSION_LENGTH, Session.cancelled_at.is_(None))


def catalogue_statements(filters: CatalogueFilters, now: datetime | None = None):
    """(page, count) statements: published activities with a coming session that match ``filters``.

    The page selects (Activity, next start, free places) soonest first, with the institution joined in;
    the count needs no grouping, only an EXISTS per activity.
    """
    from ..programme.models import Institution

    now = now or utcnow()
    coming = coming_sessions(now)
    conditions = _catalogue_conditions(filters, now, coming)
    next_start = (
        select(Session.activity_id, func.min(Session.starts_at).label("next_start"))
        .where(coming)
        .group_by(Session.activity_id)
        .subquery("next_session")
    )
    page = (
        select(Activity, next_start.c.next_start, free_places_sql().label("free_places"))
        .join(next_start, next_start.c.activity_id == Activity.id)
        .join(Institution, Institution.id == Activity.institution_id)
        .options(contains_eager(Activity.institution))
        .where(*conditions)
        .order_by(next_start.c.next_start, Activity.id)
    )
    count = select(func.count(Activity.id)).where(
        *conditions, exists(select(Session.id).where(Session.activity_id == Activity.id, coming))
    )
    return page, count


class _RowPagination(SelectPagination):
    """Pagination over rows of several columns (Flask-SQLAlchemy's keeps only the first), with its own count."""

    def _query_items(self) -> list:
        stmt = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return list(self._query_args["session"].execute(stmt).all())

    def _query_count(self) -> int:
        return self._query_args["session"].execute(self._query_args["count_select"]).scalar_one()


def catalogue_page(filters: CatalogueFilters, page: int, per_page: int):
    """One page of the catalogue: (pagination, [(activity, next_start, free places or None)]).

    Two queries whatever the page size: the count, and the page (with institutions and free places).
    """
    page_stmt, count_stmt = catalogue_statements(filters)
    pagination = _RowPagination(select=page_stmt, count_select=count_stmt, session=db.session(), page=max(page, 1),
                                per_page=per_page, max_per_page=None, error_out=False)
    items = [tuple(row) for row in pagination.items]
    return pagination, items


def public_activity(activity_id: int) -> Activity | None:
    """An activity the public may see: published, or cancelled after it was published."""
    activity = db.session.get(Activity, activity_id)
    if activity is None:
        return None
    if activity.status == ActivityStatus.PUBLISHED or (
        activity.status == ActivityStatus.CANCELLED and activity.published_at is not None
    ):
        return activity
    return None


# --- iCal -------------------------------------------------------------------------------------

def ical_feed(activity: Activity, *, host: str, url: str, past_days: int = 30) -> str:
    """The activity's sessions as an iCalendar (RFC 5545) feed that calendars can subscribe to."""
    since = utcnow() - timedelta(days=past_days)
    sessions = db.session.scalars(
        select(Session).where(Session.activity_id == activity.id, Session.starts_at >= since).order_by(Session.starts_at)
    ).all()
    return ical.calendar([(session, activity) for session in sessions], name=activity.title, host=host,
                         url_of=lambda _activity: url)
