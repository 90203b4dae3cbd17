"""A living demo Hotspot Nørrebro around today's date.

Deterministic (one ``random.Random`` with a fixed seed; every date is relative to today),
idempotent (the demo is loaded as one unit: when the programme exists, only the logins are
checked), and fast (the bulk of the rows go in with executemany inserts). Like every
service it flushes and never commits: the command commits once.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, insert, select

from ..accounts.models import Gender, Membership, Role, User, YouthProfile
from ..accounts.passwords import hash_password, verify_password
from ..activities.models import (
    Activity,
    ActivityStatus,
    Category,
    Session,
    SessionPattern,
    activity_focus_area,
    activity_initiative,
)
from ..attendance.models import AgeBand, Attendance, CheckinMethod, HeadCount
from ..attendance.services import is_happening
from ..extensions import db
from ..i18n import local_today, to_local, to_utc
from ..mfa import services as mfa
from ..programme.models import ActionPlan, District, FocusArea, Initiative, Institution, InstitutionKind, Programme
from ..signups.models import Signup, SignupStatus
from . import data

SEED = 20110301  # the day Hotspot Nørrebro began

CANCEL_REASONS = [
    "Personalemangel – vi ses næste gang.",
    "Hallen er optaget til skolernes idrætsdag.",
    "Vandskade i kælderen.",
    "Personalemøde.",
]

#: NULLs written as NULL, so that every row has the same columns and a table goes in as one batch
BULK = {"render_nulls": True}

#: age 10 … 24: most visitors are young teenagers
AGE_WEIGHTS = [6, 8, 9, 10, 10, 10, 9, 9, 8, 6, 5, 4, 3, 2, 2]


@dataclass
class SeedResult:
    #: False when the demo was already there and only the logins were checked
    created: bool
    #: (e-mail, role) of each demo login
    logins: list[tuple[str, str]] = field(default_factory=list)
    #: the password that works for the logins, when it is known
    password: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    #: the demo logins whose authenticator app has the published key ``data.DEMO_TOTP_SECRET``
    known_second_factor: list[str] = field(default_factory=list)
    #: lines that say how to try the door scanner right now
    door: list[str] = field(default_factory=list)


def login_email(local: str) -> str:
    return f"{local}@{data.DEMO_DOMAIN}"


def database_is_empty() -> bool:
    """No programme, institution or user yet: a fresh installation."""
    return not any(db.session.scalar(select(func.count()).select_from(model)) for model in (Programme, Institution, User))


def demo_logins() -> list[tuple[str, str]]:
    """The demo logins that exist, with their role."""
    found = []
    for local, _name, role, _inst in data.LOGINS:
        user = db.session.scalar(select(User).where(User.email == login_email(local)))
        if user is not None:
            found.append((user.email, role or "youth"))
    return found


def known_password(password: str | None = None) -> str | None:
    """The password the demo logins have: ``password`` when just set, the default if it still works."""
    if password:
        return password
    user = db.session.scalar(select(User).where(User.email == login_email(data.LOGINS[0][0])))
    if user is not None and verify_password(user.password_hash, data.DEFAULT_PASSWORD):
        return data.DEFAULT_PASSWORD
    return None


def seed_demo(password: str | None = None, *, today: date | None = None, now: datetime | None = None,
              known_second_factor: bool = True) -> SeedResult:
    """Load the demo Hotspot Nørrebro, or, when it is there, only make sure the logins exist.

    With ``known_second_factor`` (everywhere but production) the demo logins that need a second
    factor get an authenticator app with the published key; otherwise they set one up at first log-in.
    """
    now = now or datetime.now(UTC)
    today = today or local_today()
    programme = db.session.scalar(select(Programme).where(Programme.name == data.PROGRAMME_NAME))
    if programme is not None:
        _ensure_logins(password)
        created, known = False, known_password(password)
    else:
        _Builder(today, now, password or data.DEFAULT_PASSWORD).build()
        created, known = True, password or data.DEFAULT_PASSWORD
    door = try_the_door(now)
    return SeedResult(created, demo_logins(), known, count_rows(),
                      _demo_second_factors() if known_second_factor else [], door)


def demo_second_factor_logins() -> list[str]:
    """The demo logins whose authenticator app has the published key."""
    emails = []
    for local, _name, _role, _inst in data.LOGINS:
        user = db.session.scalar(select(User).where(User.email == login_email(local)))
        if user is None:
            continue
        factor = mfa.confirmed_factor(user)
        if factor is not None and factor.secret == data.DEMO_TOTP_SECRET:
            emails.append(user.email)
    return emails


def _demo_second_factors() -> list[str]:
    """Give each demo login whose role needs a second factor, and has none of its own, the published key."""
    emails = []
    for local, _name, _role, _inst in data.LOGINS:
        user = db.session.scalar(select(User).where(User.email == login_email(local)))
        if user is None or not mfa.is_required(user):
            continue
        factor = mfa.factor_of(user)
        if factor is None or factor.confirmed_at is None:
            mfa.set_known_secret(user, data.DEMO_TOTP_SECRET)
        elif factor.secret != data.DEMO_TOTP_SECRET:
            continue  # someone set up an app of their own for this login
        emails.append(user.email)
    return emails


# -- a door a newcomer can try at any hour ------------------------------------------------


def keep_door_open(now: datetime | None = None) -> Session | None:
    """A drop-in session of the demo's door offer happening at ``now`` (made when there is none).

    It stays inside today's local date, so it is on the Today page and the door roster.
    """
    now = now or datetime.now(UTC)
    activity = db.session.scalar(
        select(Activity).join(Institution, Institution.id == Activity.institution_id)
        .where(Activity.title == data.DOOR_OFFER, Institution.name == dict(
            (key, name) for key, name, *_rest in data.INSTITUTIONS)[data.DOOR_INSTITUTION]))
    if activity is None:
        return None
    local = to_local(now)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    for session in db.session.scalars(select(Session).where(
            Session.activity_id == activity.id, Session.starts_at >= midnight.astimezone(UTC),
            Session.starts_at < (midnight + timedelta(days=1)).astimezone(UTC), Session.cancelled_at.is_(None))):
        if is_happening(session, now):
            return session
    start = max(midnight, local.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1))
    end = min(midnight.replace(hour=23, minute=59), local + timedelta(hours=3))
    session = Session(activity_id=activity.id, starts_at=start.astimezone(UTC), ends_at=end.astimezone(UTC))
    db.session.add(session)
    db.session.flush()
    return session


def try_the_door(now: datetime | None = None) -> list[str]:
    """Keep the door open and say which demo passes to scan there."""
    session = keep_door_open(now)
    if session is None:
        return []
    day = to_local(session.starts_at).date()
    activity = db.session.get_one(Activity, session.activity_id)
    ung = db.session.scalar(select(User).where(User.email == login_email("ung")))
    others = db.session.scalars(select(YouthProfile).where(
        YouthProfile.user_id.is_(None), YouthProfile.anonymised_at.is_(None)).order_by(YouthProfile.id)).all()
    inside = next((y for y in others if activity.min_age <= y.age_on(day) <= activity.max_age), None)
    outside = next((y for y in others if y.age_on(day) > activity.max_age), None)
    lines = [
        f"Try the door: {activity.title}, {to_local(session.starts_at):%H:%M}–{to_local(session.ends_at):%H:%M} "
        f"today (drop-in). Log in as {login_email('personale')}, tap Scan on the Today page (or open /scan/), "
        "and show the scanner one of these passes (on a second screen):",
    ]
    if ung is not None:
        lines.append(f"  {ung.youth_profile.first_name}: log in as {login_email('ung')} and open Mit pas (/me/pass)")
    for youth, what in ((inside, "checked in as a drop-in"), (outside, "outside the age range: override")):
        if youth is not None:
            lines.append(f"  {youth.first_name} ({what}): /youth/{youth.id}/pass-card")
    return lines


def count_rows() -> dict[str, int]:
    models = {
        "institutions": Institution, "activities": Activity, "sessions": Session, "young people": YouthProfile,
        "sign-ups": Signup, "attendances": Attendance, "head counts": HeadCount, "users": User,
        "initiatives": Initiative,
    }
    return {name: db.session.scalars(select(func.count()).select_from(model)).one() for name, model in models.items()}


def _ensure_logins(password: str | None) -> None:
    """Re-create a demo login someone deleted; set a new password when one is given."""
    password_hash = hash_password(password) if password else None
    home = db.session.scalar(select(Institution).where(Institution.name == data.INSTITUTIONS[0][1]))
    home = home or db.session.scalar(select(Institution).order_by(Institution.id))
    for local, name, role, inst_key in data.LOGINS:
        user = db.session.scalar(select(User).where(User.email == login_email(local)))
        if user is None:
            if inst_key and home is None:
                continue
            user = User(email=login_email(local), name=name,
                        password_hash=password_hash or hash_password(data.DEFAULT_PASSWORD))
            db.session.add(user)
            if role:
                user.memberships.append(Membership(role=Role(role), institution_id=home.id if inst_key and home else None))
            else:
                db.session.add(YouthProfile(user=user, first_name=name, birth_year=local_today().year - 15,
                                            birth_month=3, gender=Gender.PIGE))
        elif password_hash:
            user.password_hash = password_hash
    db.session.flush()


class _Builder:
    def __init__(self, today: date, now: datetime, password: str):
        self.today = today
        self.now = now
        self.password = password
        self.rng = random.Random(SEED)

    def build(self) -> None:
        self.programme_structure()
        self.institutions_and_users()
        self.activities()
        self.young_people()
        self.sessions()
        self.signups()
        self.attendance()
        self.insert_people_and_visits()

    # -- the programme ---------------------------------------------------------------

    def programme_structure(self) -> None:
        today = self.today
        programme = Programme(name=data.PROGRAMME_NAME, starts_on=date(2011, 3, 1), ends_on=date(today.year + 1, 12, 31))
        db.session.add(programme)
        self.districts: dict[str, District] = {}
        for code, name, note in data.DISTRICTS:
            district = db.session.scalar(select(District).where(District.code == code))
            if district is None:
                district = District(code=code, name=name, note=note)
                db.session.add(district)
            district.programme = programme
            self.districts[code] = district
        self.focus_areas: dict[int, FocusArea] = {}
        for number, title in data.FOCUS_AREAS:
            area = db.session.scalar(select(FocusArea).where(FocusArea.number == number))
            if area is None:
                area = FocusArea(number=number, title=title)
                db.session.add(area)
            self.focus_areas[number] = area
        db.session.flush()

        #: (district code, initiative index) -> initiatives of last year and this year
        self.initiatives: dict[tuple[str, int], list[Initiative]] = {}
        for year in (today.year - 1, today.year):
            for code, district in self.districts.items():
                plan = db.session.scalar(select(ActionPlan).where(ActionPlan.district_id == district.id,
                                                                  ActionPlan.year == year))
                if plan is None:
                    plan = ActionPlan(district=district, year=year, title=f"Handlingsplan {year} for {district.name}")
                    db.session.add(plan)
                # targets grow a little each year, and Ydre Nørrebro is the larger hotspot
                scale = (1.0 if year == today.year else 0.85) * (1.15 if code == "12" else 1.0)
                for index, (number, title, description, youths, visits) in enumerate(data.INITIATIVES):
                    initiative = Initiative(
                        action_plan=plan, focus_area=self.focus_areas[number], title=title, description=description,
                        target_unique_youths=round(youths * scale) if youths else None,
                        target_visits=round(visits * scale, -1) if visits else None,
                    )
                    db.session.add(initiative)
                    self.initiatives.setdefault((code, index), []).append(initiative)
        db.session.flush()

    def institutions_and_users(self) -> None:
        self.institutions: dict[str, Institution] = {}
        for key, name, kind, code, address in data.INSTITUTIONS:
            institution = Institution(name=name, kind=InstitutionKind(kind), district=self.districts[code],
                                      address=address, created_at=self.now - timedelta(days=400))
            db.session.add(institution)
            self.institutions[key] = institution
        db.session.flush()

        password_hash = hash_password(self.password)
        self.logins: dict[str, User] = {}
        for local, name, role, inst_key in data.LOGINS:
            user = User(email=login_email(local), name=name, password_hash=password_hash)
            if role:
                institution_id = self.institutions[inst_key].id if inst_key else None
                user.memberships.append(Membership(role=Role(role), institution_id=institution_id))
            db.session.add(user)
            self.logins[local] = user
        #: who records attendance at each institution
        self.recorder: dict[str, User] = {"blaagaarden": self.logins["personale"]}
        for key, name in data.STAFF_NAMES.items():
            if key in self.recorder:
                continue
            # staff without a password: they appear in lists but cannot log in until given one
            user = User(email=login_email(f"medarbejder.{key}"), name=name, password_hash=None)
            user.memberships.append(Membership(role=Role.STAFF, institution_id=self.institutions[key].id))
            db.session.add(user)
            self.recorder[key] = user
        db.session.flush()

    # -- offers and their weeks -------------------------------------------------------

    def activities(self) -> None:
        self.offers = data.OFFERS
        self.activity_rows: list[Activity] = []
        links_focus, links_initiative = [], []
        for offer in self.offers:
            institution = self.institutions[offer.inst]
            first_day = self.today - timedelta(weeks=offer.weeks_back)
            created = to_utc(first_day - timedelta(days=14), offer.start)
            activity = Activity(
                institution_id=institution.id, district_id=institution.district_id, title=offer.title,
                description=offer.description, category=Category(offer.category), min_age=offer.min_age,
                max_age=offer.max_age, address=institution.address, room=offer.room,
                requires_signup=offer.signup, capacity=offer.capacity if offer.signup else None,
                waitlist_enabled=True, allows_drop_in=offer.drop_in, status=ActivityStatus(offer.status),
                created_by_id=self.recorder[offer.inst].id, created_at=created, updated_at=created,
                published_at=created + timedelta(days=1) if offer.status == "published" else None,
                search_text=f"{offer.title} {offer.description}".casefold(),
            )
            db.session.add(activity)
            self.activity_rows.append(activity)
        db.session.flush()
        for offer, activity in zip(self.offers, self.activity_rows, strict=True):
            code = self.institutions[offer.inst].district.code
            for number in offer.focus:
                links_focus.append({"activity_id": activity.id, "focus_area_id": self.focus_areas[number].id})
            for index in offer.initiatives:
                for initiative in self.initiatives[(code, index)]:
                    links_initiative.append({"activity_id": activity.id, "initiative_id": initiative.id})
        db.session.execute(insert(activity_focus_area), links_focus)
        if links_initiative:
            db.session.execute(insert(activity_initiative), links_initiative)

    def sessions(self) -> None:
        """Weekly sessions from months ago to weeks ahead, skipping Christmas; a few cancelled."""
        rng = self.rng
        rows: list[dict] = []
        for offer, activity in zip(self.offers, self.activity_rows, strict=True):
            weekdays = sorted({(self.today.weekday() + off) % 7 for off in offer.day_offsets})
            starts_on = self.today - timedelta(weeks=offer.weeks_back)
            ends_on = self.today + timedelta(weeks=offer.weeks_ahead)
            # closed over Christmas and New Year, except today: whoever tries the demo then still finds today's sessions
            skip = [d for d in _days(starts_on, ends_on)
                    if (d.month, d.day) in {(12, 24), (12, 25), (12, 26), (12, 31), (1, 1)} and d != self.today]
            pattern = SessionPattern(activity_id=activity.id, weekdays=weekdays, start_time=offer.start,
                                     end_time=offer.end, starts_on=starts_on, ends_on=ends_on,
                                     skip_dates=[d.isoformat() for d in skip])
            db.session.add(pattern)
            db.session.flush()
            for day in _days(starts_on, ends_on):
                if day.weekday() not in weekdays or day in skip:
                    continue
                starts_at, ends_at = to_utc(day, offer.start), to_utc(day, offer.end)
                cancelled = day != self.today and rng.random() < 0.025
                rows.append({
                    "activity_id": activity.id, "pattern_id": pattern.id, "starts_at": starts_at, "ends_at": ends_at,
                    "capacity": activity.capacity,
                    "cancelled_at": starts_at - timedelta(days=1) if cancelled else None,
                    "cancel_reason": rng.choice(CANCEL_REASONS) if cancelled else None,
                    "created_at": activity.created_at,
                })
        ids = db.session.scalars(
            insert(Session).returning(Session.id, sort_by_parameter_order=True), rows, execution_options=BULK
        ).all()
        #: activity index -> [(session id, row)]
        self.session_rows: dict[int, list[tuple[int, dict]]] = {}
        by_activity = {a.id: i for i, a in enumerate(self.activity_rows)}
        for session_id, row in zip(ids, rows, strict=True):
            self.session_rows.setdefault(by_activity[row["activity_id"]], []).append((session_id, row))

    # -- young people -------------------------------------------------------------------

    def young_people(self) -> None:
        """About 300 young people, planned in memory; inserted once their last visit is known."""
        rng = self.rng
        today = self.today
        keys = list(self.institutions)
        self.youths: list[dict] = []
        self.youth_ages: list[int] = []
        self.youth_home: list[str] = []
        for _ in range(300):
            age = rng.choices(range(10, 25), weights=AGE_WEIGHTS)[0]
            month = rng.randint(1, 12)
            gender = rng.choices([Gender.PIGE, Gender.DRENG, Gender.ANDET, Gender.UOPLYST], [46, 46, 3, 5])[0]
            names = {Gender.PIGE: data.GIRLS, Gender.DRENG: data.BOYS}.get(gender, data.OTHER)
            district = rng.choices(["8", "12", None], [45, 43, 12])[0]
            local = [k for k in keys if self.institutions[k].district.code == district] or keys
            home = rng.choice(local) if rng.random() < 0.8 else rng.choice(keys)
            created = self.now - timedelta(days=rng.randint(20, 200), minutes=rng.randint(0, 600))
            self.youths.append({
                "first_name": rng.choice(names),
                "last_name": rng.choice(data.LAST_NAMES) if rng.random() < 0.4 else None,
                "birth_year": today.year - age - (1 if month > today.month else 0),
                "birth_month": month,
                "gender": gender,
                "home_district_id": self.districts[district].id if district else None,
                "registered_by_institution_id": self.institutions[home].id,
                "created_at": created, "pass_issued_at": created, "last_active_at": created,
            })
            self.youth_ages.append(age)
            self.youth_home.append(home)
        # the demo young person with a login: 15, lives in Indre Nørrebro, a regular at Blågården
        me = self.logins["ung"]
        created = self.now - timedelta(days=150)
        self.youths.append({
            "user_id": me.id, "first_name": "Yasmin", "last_name": None,
            "birth_year": today.year - 15 - (1 if today.month < 3 else 0), "birth_month": 3,
            "gender": Gender.PIGE, "home_district_id": self.districts["8"].id,
            "registered_by_institution_id": None, "created_at": created, "pass_issued_at": created,
            "last_active_at": self.now,
        })
        self.youth_ages.append(15)
        self.youth_home.append("blaagaarden")
        self.me = len(self.youths) - 1

    def _eligible(self, offer) -> list[int]:
        """The young people an offer is for: of its ages, and girls only at a girls' offer."""
        return [i for i, age in enumerate(self.youth_ages[:self.me]) if offer.min_age <= age <= offer.max_age
                and (not offer.girls_only or self.youths[i]["gender"] == Gender.PIGE)]

    def _weight(self, offer, i: int) -> float:
        """How likely young person ``i`` is to pick ``offer``: living close, the core of its ages, its mix of girls and boys."""
        if self.youth_home[i] == offer.inst:
            weight = 6.0
        elif self.youths[i]["home_district_id"] == self.institutions[offer.inst].district_id:
            weight = 2.0
        else:
            weight = 0.6
        # the middle of an offer's age range comes most; its youngest and oldest years fewer
        span = offer.max_age - offer.min_age
        if span >= 3 and abs(self.youth_ages[i] - (offer.min_age + offer.max_age) / 2) > span / 4:
            weight *= 0.5
        gender = self.youths[i]["gender"]
        if gender == Gender.PIGE:
            weight *= offer.girls / 0.5
        elif gender == Gender.DRENG:
            weight *= (1 - offer.girls) / 0.5
        return weight

    def _pick(self, offer, candidates: list[int], k: int) -> list[int]:
        """``k`` distinct young people, those living close and at home there first."""
        rng = self.rng
        pool = list(candidates)
        chosen: list[int] = []
        while pool and len(chosen) < k:
            i = rng.choices(pool, [self._weight(offer, j) for j in pool])[0]
            pool.remove(i)
            chosen.append(i)
        return chosen

    def signups(self) -> None:
        """Sign-ups for sign-up offers; some full with a waitlist; a few cancelled."""
        rng = self.rng
        self.signup_rows: list[dict] = []
        #: activity index -> young people expected at its sessions (with their own likelihood)
        self.regulars: dict[int, list[tuple[int, float, bool]]] = {}
        mine = {"Fodbold i hallen": SignupStatus.CONFIRMED, "Dans: hiphop og afro": SignupStatus.CONFIRMED,
                "Lydstudie og rap-værksted": SignupStatus.WAITLISTED}
        for index, (offer, activity) in enumerate(zip(self.offers, self.activity_rows, strict=True)):
            if offer.status != "published":
                continue
            eligible = self._eligible(offer)
            opened = activity.created_at + timedelta(days=2)
            if not offer.signup:
                size = round(offer.popularity * rng.randint(18, 30))
                # an offer without sign-up: every visit is a drop-in ("came without a sign-up")
                self.regulars[index] = [(i, rng.uniform(0.15, 0.7), True) for i in self._pick(offer, eligible, size)]
                if offer.title in ("Aftenåben klub", "Lektiecafé"):
                    self.regulars[index].append((self.me, 0.8, True))
                continue
            me_status = mine.get(offer.title)
            if offer.full:
                confirmed_n = offer.capacity - (1 if me_status == SignupStatus.CONFIRMED else 0)
                waiting_n = rng.randint(2, 5) - (1 if me_status == SignupStatus.WAITLISTED else 0)
            else:
                confirmed_n = round(offer.capacity * rng.uniform(0.5, 0.9)) - (1 if me_status else 0)
                waiting_n = 0
            cancelled_n = rng.randint(0, 3)
            people = self._pick(offer, eligible, confirmed_n + waiting_n + cancelled_n)
            confirmed = people[:confirmed_n]
            waiting = people[confirmed_n:confirmed_n + waiting_n]
            cancelled = people[confirmed_n + waiting_n:]
            if me_status == SignupStatus.CONFIRMED:
                confirmed.append(self.me)
            elif me_status == SignupStatus.WAITLISTED:
                waiting.insert(0, self.me)
            for i in confirmed:
                at = opened + timedelta(hours=rng.randint(1, 240))
                self.signup_rows.append({"youth": i, "activity_id": activity.id, "status": SignupStatus.CONFIRMED,
                                         "position": None, "created_at": at, "confirmed_at": at})
            for position, i in enumerate(waiting, start=1):
                at = min(self.now - timedelta(days=1), opened + timedelta(days=20 + position, hours=rng.randint(1, 20)))
                self.signup_rows.append({"youth": i, "activity_id": activity.id, "status": SignupStatus.WAITLISTED,
                                         "position": position, "created_at": at, "confirmed_at": None})
            for i in cancelled:
                at = opened + timedelta(hours=rng.randint(1, 240))
                self.signup_rows.append({"youth": i, "activity_id": activity.id, "status": SignupStatus.CANCELLED,
                                         "position": None, "created_at": at, "confirmed_at": at,
                                         "cancelled_at": at + timedelta(days=rng.randint(3, 30))})
            expected = [(i, 0.95 if i == self.me else rng.uniform(0.55, 0.95), False) for i in confirmed]
            if offer.drop_in:
                expected += [(i, rng.uniform(0.03, 0.12), True) for i in self._pick(offer, [e for e in eligible if e not in people], 6)]
            self.regulars[index] = expected

    def attendance(self) -> None:
        """Visits to past sessions: quieter in school holidays, busier on Fridays, slowly growing."""
        rng = self.rng
        self.attendance_rows: list[dict] = []
        self.headcount_rows: list[dict] = []
        weeks: dict[tuple[int, int], float] = {}
        first = min(row["starts_at"] for rows in self.session_rows.values() for _, row in rows)
        span = max((self.now - first).total_seconds(), 1.0)
        for index, rows in self.session_rows.items():
            offer = self.offers[index]
            recorder = self.recorder[offer.inst].id
            for session_id, row in rows:
                if row["cancelled_at"] is not None or row["ends_at"] > self.now:
                    continue
                iso = row["starts_at"].isocalendar()
                week = weeks.setdefault((iso.year, iso.week), rng.uniform(0.8, 1.1))  # weather, exams, Ramadan …
                factor = week * (0.55 if iso.week in data.HOLIDAY_WEEKS else 1.0)
                factor *= 1.15 if iso.weekday == 5 else 1.0
                factor *= 0.8 + 0.25 * (row["starts_at"] - first).total_seconds() / span
                minutes = int((row["ends_at"] - row["starts_at"]).total_seconds() // 60)
                for i, likelihood, drop_in in self.regulars.get(index, []):
                    if rng.random() >= min(likelihood * factor, 0.98):
                        continue
                    scanned = row["starts_at"] + timedelta(minutes=rng.randint(0, min(minutes - 5, 90)))
                    method = rng.choices([CheckinMethod.QR, CheckinMethod.MANUAL, CheckinMethod.OFFLINE], [85, 12, 3])[0]
                    self.attendance_rows.append({
                        "youth": i, "session_id": session_id, "method": method, "recorded_by_id": recorder,
                        "scanned_at": scanned,
                        "recorded_at": scanned + timedelta(minutes=rng.randint(20, 240) if method == CheckinMethod.OFFLINE else 0),
                        "nonce": None if method == CheckinMethod.MANUAL else f"{rng.getrandbits(128):032x}",
                        "drop_in": drop_in,
                    })
                    youth = self.youths[i]
                    if i != self.me and scanned > youth["last_active_at"]:
                        youth["last_active_at"] = scanned
                if offer.drop_in:
                    self._head_counts(offer, session_id, row, factor, recorder)

    def _head_counts(self, offer, session_id, row, factor, recorder) -> None:
        """Anonymous drop-ins by age band and gender (many at open clubs, a few elsewhere)."""
        rng = self.rng
        base = rng.randint(4, 14) if not offer.signup else rng.randint(0, 3)
        total = round(base * offer.popularity * factor)
        bands = sorted({AgeBand.for_age(a) for a in range(offer.min_age, offer.max_age + 1)})
        cells: dict[tuple[AgeBand, Gender], int] = {}
        for _ in range(total):
            gender = (Gender.PIGE if offer.girls_only else
                      rng.choices([Gender.PIGE, Gender.DRENG, Gender.UOPLYST], [94 * offer.girls, 94 * (1 - offer.girls), 6])[0])
            key = (rng.choice(bands), gender)
            cells[key] = cells.get(key, 0) + 1
        for (band, gender), count in sorted(cells.items()):
            self.headcount_rows.append({"session_id": session_id, "age_band": band, "gender": gender, "count": count,
                                        "updated_at": row["ends_at"], "updated_by_id": recorder})

    def insert_people_and_visits(self) -> None:
        youth_ids = db.session.scalars(
            insert(YouthProfile).returning(YouthProfile.id, sort_by_parameter_order=True), _uniform(self.youths),
            execution_options=BULK,
        ).all()
        for rows in (self.signup_rows, self.attendance_rows):
            for row in rows:
                row["youth_id"] = youth_ids[row.pop("youth")]
        for model, rows in ((Signup, self.signup_rows), (Attendance, self.attendance_rows), (HeadCount, self.headcount_rows)):
            if rows:
                db.session.execute(insert(model), _uniform(rows), execution_options=BULK)
        db.session.flush()


def _days(start: date, end: date):
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def _uniform(rows: list[dict]) -> list[dict]:
    """Every row with the same keys, so the insert runs as one executemany."""
    keys = set().union(*(row.keys() for row in rows))
    return [{key: row.get(key) for key in keys} for row in rows]
