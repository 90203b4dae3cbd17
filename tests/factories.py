"""Small builders for test data. Each adds to the session and flushes; tests commit when needed."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pyotp

from youthclub.activities.services import session_times
from youthclub.extensions import db
from youthclub.i18n import local_now, local_today
from youthclub.mfa.models import TotpFactor
from youthclub.models import (
    ActionPlan,
    Activity,
    ActivityStatus,
    Attendance,
    Category,
    CheckinMethod,
    District,
    FocusArea,
    Gender,
    Initiative,
    Institution,
    InstitutionKind,
    Membership,
    Programme,
    Role,
    Session,
    Signup,
    SignupStatus,
    User,
    YouthProfile,
)

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def _n() -> int:
    return next(_seq)


def make_programme() -> Programme:
    programme = Programme(name="Hotspot Nørrebro", starts_on=date(2011, 3, 1), ends_on=date(local_today().year + 2, 12, 31))
    db.session.add(programme)
    db.session.flush()
    return programme


def make_district(programme=None, code=None, name=None) -> District:
    programme = programme or make_programme()
    n = _n()
    district = District(programme=programme, code=code or f"d{n}", name=name or f"Distrikt {n}")
    db.session.add(district)
    db.session.flush()
    return district


def make_focus_areas() -> list[FocusArea]:
    areas = [
        FocusArea(number=1, title="Styrket samordning af den kriminalpræventive indsats"),
        FocusArea(number=2, title="Børn og unge med uroskabende adfærd og inklusion"),
        FocusArea(number=3, title="Sammenhængskraft i lokalområdet"),
    ]
    db.session.add_all(areas)
    db.session.flush()
    return areas


def make_institution(district=None, name=None, kind=InstitutionKind.UNGDOMSKLUB) -> Institution:
    district = district or make_district()
    institution = Institution(name=name or f"Klub {_n()}", kind=kind, district=district, address="Nørrebrogade 1")
    db.session.add(institution)
    db.session.flush()
    return institution


def make_user(role: Role | None = None, institution=None, email=None, name=None, password=PASSWORD) -> User:
    from youthclub.accounts.passwords import hash_password

    n = _n()
    user = User(email=email or f"user{n}@example.org", name=name or f"Bruger {n}", password_hash=hash_password(password))
    if role is not None:
        user.memberships.append(Membership(role=role, institution_id=institution.id if institution else None))
    db.session.add(user)
    db.session.flush()
    return user


def make_second_factor(user) -> TotpFactor:
    """An authenticator app ``user`` set up earlier (a random key; codes come from pyotp in tests/second_factor.py)."""
    factor = TotpFactor(user_id=user.id, secret=pyotp.random_base32(), confirmed_at=datetime.now(UTC))
    db.session.add(factor)
    db.session.flush()
    return factor


def make_youth(
    *, with_login=False, birth_year=None, birth_month=6, gender=Gender.PIGE, district=None, first_name=None, email=None
) -> YouthProfile:
    user = make_user(email=email) if with_login else None
    youth = YouthProfile(
        user=user,
        first_name=first_name or f"Ung{_n()}",
        birth_year=birth_year or (local_today().year - 14),
        birth_month=birth_month,
        gender=gender,
        home_district=district,
    )
    db.session.add(youth)
    db.session.flush()
    return youth


def make_activity(institution, **kw) -> Activity:
    defaults = dict(
        title=f"Aktivitet {_n()}",
        description="Fodbold og hygge",
        category=Category.SPORT,
        min_age=10,
        max_age=24,
        capacity=20,
        requires_signup=True,
        allows_drop_in=True,
        status=ActivityStatus.PUBLISHED,
        district_id=institution.district_id,
    )
    defaults.update(kw)
    activity = Activity(institution=institution, **defaults)
    activity.refresh_search_text()
    db.session.add(activity)
    db.session.flush()
    return activity


def make_session(activity, day: date | None = None, start=time(16, 0), end=time(18, 0)) -> Session:
    day = day or local_today()
    starts_at, ends_at = session_times(day, start, end)  # an end before the start is on the next day
    session = Session(activity=activity, starts_at=starts_at, ends_at=ends_at)
    db.session.add(session)
    db.session.flush()
    return session


def make_session_now(activity, before=timedelta(hours=1), after=timedelta(hours=1)) -> Session:
    """A session happening now (scans are accepted), kept within today's local date."""
    now = local_now().replace(second=0, microsecond=0)
    midnight = now.replace(hour=0, minute=0)
    start = max(midnight, now - before)
    end = min(midnight.replace(hour=23, minute=59), now + after)
    session = Session(activity=activity, starts_at=start.astimezone(UTC), ends_at=end.astimezone(UTC))
    db.session.add(session)
    db.session.flush()
    return session


def sign_up(youth, activity, status=SignupStatus.CONFIRMED, position=None) -> Signup:
    signup = Signup(youth=youth, activity=activity, status=status, position=position,
                    confirmed_at=datetime.now(UTC) if status == SignupStatus.CONFIRMED else None)
    db.session.add(signup)
    db.session.flush()
    return signup


def attend(youth, session, method=CheckinMethod.QR, recorded_by=None) -> Attendance:
    attendance = Attendance(youth=youth, session=session, method=method,
                            recorded_by_id=recorded_by.id if recorded_by else None,
                            scanned_at=session.starts_at + timedelta(minutes=5))
    db.session.add(attendance)
    db.session.flush()
    return attendance


@dataclass
class World:
    programme: Programme
    district_a: District
    district_b: District
    focus_areas: list[FocusArea]
    plan: ActionPlan
    initiative: Initiative
    inst_a: Institution
    inst_b: Institution
    admin: User
    coordinator: User
    staff_a: User
    inst_admin_a: User
    staff_b: User
    youth_user: User
    youth: YouthProfile
    other_youth: YouthProfile
    activity_a: Activity
    activity_b: Activity
    session_a: Session
    session_b: Session
    signup: Signup

    def user(self, role: str):
        return {
            "anonymous": None,
            "youth": self.youth_user,
            "staff_a": self.staff_a,
            "staff_b": self.staff_b,
            "inst_admin_a": self.inst_admin_a,
            "coordinator": self.coordinator,
            "admin": self.admin,
        }[role]


def build_world() -> World:
    programme = make_programme()
    district_a = make_district(programme, code="8", name="Indre Nørrebro")
    district_b = make_district(programme, code="12", name="Ydre Nørrebro")
    focus_areas = make_focus_areas()
    plan = ActionPlan(district=district_a, year=local_today().year)
    initiative = Initiative(action_plan=plan, focus_area=focus_areas[1], title="Flere unge i klubberne",
                            target_unique_youths=100, target_visits=1000)
    db.session.add_all([plan, initiative])
    inst_a = make_institution(district_a, name="Klub A")
    inst_b = make_institution(district_b, name="Klub B")
    admin = make_user(Role.ADMIN, email="admin@example.org", name="Admin")
    coordinator = make_user(Role.COORDINATOR, email="koordinator@example.org", name="Koordinator")
    make_second_factor(admin)  # their role needs one: each has an authenticator app already
    make_second_factor(coordinator)
    staff_a = make_user(Role.STAFF, inst_a, email="staff.a@example.org", name="Personale A")
    inst_admin_a = make_user(Role.INSTITUTION_ADMIN, inst_a, email="leder.a@example.org", name="Leder A")
    staff_b = make_user(Role.STAFF, inst_b, email="staff.b@example.org", name="Personale B")
    youth = make_youth(with_login=True, email="ung@example.org", first_name="Aisha", district=district_a)
    other_youth = make_youth(first_name="Bo", district=district_b)
    activity_a = make_activity(inst_a, title="Fodbold i hallen")
    activity_b = make_activity(inst_b, title="Musikværksted", category=Category.MUSIK)
    # happening now, so a scan at any hour of the test run is inside the check-in window
    session_a = make_session_now(activity_a)
    session_b = make_session_now(activity_b)
    signup = sign_up(youth, activity_a)
    sign_up(other_youth, activity_b)
    db.session.commit()
    return World(
        programme, district_a, district_b, focus_areas, plan, initiative, inst_a, inst_b, admin, coordinator,
        staff_a, inst_admin_a, staff_b, youth.user, youth, other_youth, activity_a, activity_b, session_a,
        session_b, signup,
    )


def mailed_link(to: str, path_prefix: str, *, within: float = 0) -> str | None:
    """The path of the newest link starting with ``path_prefix`` mailed to ``to`` (from the outbox), or None.

    ``within`` waits up to that many seconds for the mail: a live server writes some mails after its
    answer has gone out (registration does, so its timing tells nothing), so a browser test that has
    seen the page may look before the mail is there.
    """
    import re
    import time

    from sqlalchemy import select

    from youthclub.mail.models import OutboxMessage

    deadline = time.monotonic() + within
    while True:
        db.session.commit()  # a fresh read: the mail was written by another request or the live server
        bodies = db.session.scalars(select(OutboxMessage.body_text).where(OutboxMessage.to_address == to)
                                    .order_by(OutboxMessage.id.desc()))
        for body in bodies:
            match = re.search(r"https?://[^/\s]+(" + re.escape(path_prefix) + r"\S*)", body)
            if match:
                return match.group(1)
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.05)


def confirm_registration(client, email: str):
    """Follow the registration mail's link to ``email`` and press its button, as the young person does."""
    link = mailed_link(email, "/register/confirm/")
    assert link, f"no registration link mailed to {email}"
    return client.post_form(link)


def tap_head_count(client, session_id: int, band: str, gender: str, delta: str, **extra):
    """Press + or − on a head count cell as the page offers it (with the count the cell shows)."""
    import re

    url = f"/sessions/{session_id}/headcount"
    page = client.get(url).get_data(as_text=True)
    cell = page[page.index(f'id="cell-{band}-{gender}"'):]
    seen = re.search(r'name="seen" value="(\d+)"', cell).group(1)
    return client.post_form(url, {"band": band, "gender": gender, "delta": delta, "seen": seen, **extra})
