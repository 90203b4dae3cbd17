"""`youthclub seed-demo` and `youthclub create-user` on the command line."""
from __future__ import annotations

from datetime import UTC, datetime, time

from sqlalchemy import func, select

from tests.test_schema import ALLOWED_YOUTH_FIELDS
from youthclub.demo import data
from youthclub.demo.seed import count_rows
from youthclub.extensions import db
from youthclub.i18n import local_today, to_local
from youthclub.models import (
    ActionPlan,
    Activity,
    ActivityStatus,
    Attendance,
    Category,
    District,
    FocusArea,
    HeadCount,
    Programme,
    Session,
    Signup,
    SignupStatus,
    User,
    YouthProfile,
)

LOGINS = ["admin@hotspot.example", "koordinator@hotspot.example", "instleder@hotspot.example",
          "personale@hotspot.example", "ung@hotspot.example"]


def seed(app, *args):
    result = app.test_cli_runner().invoke(args=["seed-demo", *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def fingerprint():
    """What the demo holds, by name and date rather than by id or token."""
    youths = db.session.execute(select(YouthProfile.first_name, YouthProfile.last_name, YouthProfile.birth_year,
                                       YouthProfile.birth_month, YouthProfile.gender).order_by(YouthProfile.id)).all()
    signups = db.session.execute(
        select(Activity.title, YouthProfile.first_name, Signup.status, Signup.position)
        .join(Signup.activity).join(Signup.youth).order_by(Signup.id)).all()
    visits = db.session.execute(
        select(Activity.title, Session.starts_at, func.count(Attendance.id))
        .join(Attendance.session).join(Session.activity).group_by(Activity.title, Session.starts_at)
        .order_by(Activity.title, Session.starts_at)).all()
    return youths, signups, visits


def test_seed_twice_adds_nothing_and_a_reseed_is_identical(app):
    from tests.conftest import _empty_tables

    first = seed(app)
    counts = count_rows()
    before = fingerprint()
    assert "Demo data loaded" in first
    for email in LOGINS:
        assert email in first
    assert f"Password: {data.DEFAULT_PASSWORD}" in first

    second = seed(app)
    assert "already there" in second
    assert count_rows() == counts
    for email in LOGINS:
        assert email in second
    assert f"Password: {data.DEFAULT_PASSWORD}" in second

    # deterministic: an emptied database seeded again holds the same people, sign-ups and visits
    db.session.remove()
    _empty_tables()
    seed(app)
    assert fingerprint() == before


def test_the_demo_is_a_living_hotspot_around_today(app):
    seed(app)
    today = local_today()
    now = datetime.now(UTC)

    programme = db.session.scalar(select(Programme))
    assert programme.name == "Hotspot Nørrebro"
    assert (programme.starts_on.isoformat(), programme.ends_on.isoformat()) == ("2011-03-01", f"{today.year + 1}-12-31")
    districts = {d.code: d for d in db.session.scalars(select(District))}
    assert districts["8"].name == "Indre Nørrebro" and districts["12"].name == "Ydre Nørrebro"
    assert districts["12"].note == "inkl. rode 157"
    assert db.session.scalar(select(func.count()).select_from(FocusArea)) == 3
    plans = db.session.scalars(select(ActionPlan)).all()
    assert {(p.district.code, p.year) for p in plans} == {(c, y) for c in ("8", "12") for y in (today.year - 1, today.year)}
    assert all(len(p.initiatives) >= 3 for p in plans)
    assert any(i.target_unique_youths for p in plans for i in p.initiatives)

    counts = count_rows()
    assert 7 <= counts["institutions"] <= 10
    assert 20 <= counts["activities"] <= 30
    assert 280 <= counts["young people"] <= 320
    activities = db.session.scalars(select(Activity)).all()
    assert {a.category for a in activities} == set(Category)
    assert {a.institution.kind for a in activities} >= {"ungdomsklub", "fritidsklub", "skole", "bibliotek", "forening"}
    assert any(not a.requires_signup for a in activities) and any(a.requires_signup and a.capacity for a in activities)
    assert all(a.focus_areas for a in activities) and sum(bool(a.initiatives) for a in activities) >= 20

    # weekly sessions from months ago to weeks ahead, some of them today, in Copenhagen time
    starts = [s.starts_at for s in db.session.scalars(select(Session))]
    assert (now - min(starts)).days > 90 and (max(starts) - now).days > 21
    todays = db.session.scalars(select(Session).where(Session.cancelled_at.is_(None))).all()
    assert sum(to_local(s.starts_at).date() == today for s in todays) >= 3
    club = db.session.scalar(select(Activity).where(Activity.title == "Aftenåben klub"))
    # weekly at 18:00, plus (unless it is one of them) the door's session happening now
    others = [s for s in club.sessions if to_local(s.starts_at).time() != time(18, 0)]
    assert len(others) <= 1 and all(s.starts_at <= datetime.now(UTC) <= s.ends_at for s in others)

    # full activities with a waitlist in order; never more confirmed than places
    full = 0
    for activity in activities:
        statuses = [s for s in db.session.scalars(select(Signup).where(Signup.activity_id == activity.id))]
        confirmed = sum(s.status == SignupStatus.CONFIRMED for s in statuses)
        waiting = sorted(s.position for s in statuses if s.status == SignupStatus.WAITLISTED)
        if activity.capacity:
            assert confirmed <= activity.capacity
        assert waiting == list(range(1, len(waiting) + 1))
        full += bool(waiting) and confirmed == activity.capacity
    assert full >= 3

    # visits only to sessions that happened; anonymous counts beside them
    assert counts["attendances"] > 2000 and counts["head counts"] > 500
    assert db.session.scalar(select(func.count()).select_from(Attendance).join(Attendance.session)
                             .where((Session.ends_at > now) | Session.cancelled_at.is_not(None))) == 0
    assert db.session.scalar(select(func.min(HeadCount.count))) > 0
    assert db.session.scalar(select(func.count()).select_from(Activity)
                             .where(Activity.status != ActivityStatus.PUBLISHED)) >= 1


    # young people's data holds only the allowed fields
    names = set(data.GIRLS) | set(data.BOYS) | set(data.OTHER)
    for youth in db.session.scalars(select(YouthProfile)):
        filled = {c.key for c in YouthProfile.__table__.columns if getattr(youth, c.key) is not None}
        assert filled <= ALLOWED_YOUTH_FIELDS
        assert youth.first_name in names
        assert youth.contact is None  # no phone numbers or e-mails invented for people
        assert 10 <= youth.age_on(today) <= 24
        assert len(youth.pass_token) >= 20
    assert db.session.scalar(select(func.count(func.distinct(YouthProfile.pass_token)))) == count_rows()["young people"]
    assert db.session.scalar(select(func.count()).select_from(Signup).where(Signup.cancel_reason.is_not(None))) == 0

    _the_young_login_has_a_profile_with_signups_and_visits()


def test_each_demo_login_lands_on_a_page(app):
    seed(app)
    for email in LOGINS:
        client = app.test_client()
        response = client.login(email, data.DEFAULT_PASSWORD)
        assert response.status_code == 302, email
        location = response.headers["Location"]
        for _ in range(3):
            response = client.get(location)
            if response.status_code != 302:
                break
            location = response.headers["Location"]
        assert response.status_code == 200, (email, location)
        assert "/login" not in location


def _the_young_login_has_a_profile_with_signups_and_visits():
    youth = db.session.scalar(select(User).where(User.email == "ung@hotspot.example")).youth_profile
    statuses = {s.status for s in db.session.scalars(select(Signup).where(Signup.youth_id == youth.id))}
    assert statuses == {SignupStatus.CONFIRMED, SignupStatus.WAITLISTED}
    assert db.session.scalar(select(func.count()).select_from(Attendance).where(Attendance.youth_id == youth.id)) > 5


def test_password_option_and_if_empty(app, client):
    output = seed(app, "--if-empty")
    assert "Demo data loaded" in output
    counts = count_rows()

    output = seed(app, "--if-empty", "--password", "nyt-demo-kodeord")
    assert "not empty" in output and "admin@hotspot.example" in output
    assert count_rows() == counts

    output = seed(app, "--password", "nyt-demo-kodeord")
    assert "Password: nyt-demo-kodeord" in output
    assert client.login("admin@hotspot.example", "nyt-demo-kodeord").status_code == 302
    # the default no longer works, so it is not printed as if it did
    output = seed(app, "--if-empty")
    assert data.DEFAULT_PASSWORD not in output and "--password" in output

    result = app.test_cli_runner().invoke(args=["seed-demo", "--password", "kort"])
    assert result.exit_code != 0 and "password_too_short" in result.output


def test_if_empty_leaves_a_database_with_other_data_alone(app):
    from tests.factories import make_institution

    make_institution()
    db.session.commit()
    output = seed(app, "--if-empty")
    assert "not empty" in output and "Demo logins" not in output
    assert count_rows()["activities"] == 0


def test_create_user_command(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "Ny.Medarbejder@Example.org", "--name", "Ny Medarbejder",
                                 "--role", "staff", "--institution", str(world.inst_a.id),
                                 "--password", "lang nok adgangskode"])
    assert result.exit_code == 0, result.output
    assert "Created user" in result.output
    user = db.session.scalar(select(User).where(User.email == "ny.medarbejder@example.org"))
    assert user.has_role("staff", world.inst_a.id)

    again = runner.invoke(args=["create-user", "ny.medarbejder@example.org", "--password", "lang nok adgangskode"])
    assert again.exit_code != 0 and "findes allerede" in again.output
    no_institution = runner.invoke(args=["create-user", "x@example.org", "--role", "staff", "--password", "lang nok adgangskode"])
    assert no_institution.exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email == "x@example.org")) == 0


def test_production_needs_a_password_of_its_own(app, monkeypatch):
    monkeypatch.setenv("YOUTHCLUB_ENV", "production")
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0 and "--password" in result.output
    assert count_rows()["users"] == 0


def test_the_demo_door_is_open_at_any_hour_and_says_which_passes_to_try(app):
    from youthclub.attendance.services import is_happening
    from youthclub.demo.seed import keep_door_open

    output = seed(app)
    assert "Try the door" in output and "/me/pass" in output and "/pass-card" in output

    def open_door_sessions(at):
        return [s for s in db.session.scalars(select(Session).join(Session.activity)
                                              .where(Activity.title == data.DOOR_OFFER))
                if is_happening(s, at) and s.activity.allows_drop_in]

    now = datetime.now(UTC)
    assert open_door_sessions(now)
    # make run on another day, at another hour: the door is opened again, once
    for hour in (0, 7, 13, 23):
        later = datetime.combine(local_today(), time(hour, 30), tzinfo=to_local(now).tzinfo).astimezone(UTC)
        with app.test_request_context():
            first = keep_door_open(later)
            again = keep_door_open(later)
        assert first.id == again.id and is_happening(first, later)
        assert to_local(first.starts_at).date() == to_local(later).date()
    # and an earlier demo database gets it from `make run` (seed-demo --if-empty) too
    output = seed(app, "--if-empty")
    assert "Try the door" in output


def _genders(title):
    """(gender, count) of the distinct young people with a sign-up or a visit at ``title``."""
    signed = select(Signup.youth_id).join(Signup.activity).where(Activity.title == title)
    visited = (select(Attendance.youth_id).join(Attendance.session).join(Session.activity)
               .where(Activity.title == title))
    ids = set(db.session.scalars(signed)) | set(db.session.scalars(visited))
    rows = db.session.execute(select(YouthProfile.gender, func.count()).where(YouthProfile.id.in_(ids))
                              .group_by(YouthProfile.gender)).all()
    return {str(g): n for g, n in rows}


def test_the_demo_looks_like_a_real_norrebro(app):
    """Girls' offers have only girls; football and boxing draw more boys, dance more girls; ages fit each offer."""
    seed(app)
    for title in ("Pigefodbold", "Pigeklub"):
        assert set(_genders(title)) == {"pige"}, title
        counted = db.session.scalars(select(HeadCount.gender).join(HeadCount.session).join(Session.activity)
                                     .where(Activity.title == title, HeadCount.count > 0).distinct()).all()
        assert {str(g) for g in counted} <= {"pige"}, title
    u15 = _genders("Fodboldtræning U15")
    assert u15.get("dreng", 0) > 3 * u15.get("pige", 0)
    dance = _genders("Dans: hiphop og afro")
    assert dance.get("pige", 0) > 2 * dance.get("dreng", 0)
    today = local_today()
    for activity in db.session.scalars(select(Activity)):
        youths = db.session.scalars(select(YouthProfile).join(Signup, Signup.youth_id == YouthProfile.id)
                                    .where(Signup.activity_id == activity.id)).all()
        assert all(activity.min_age <= y.age_on(today) <= activity.max_age for y in youths), activity.title
