"""The privacy page's promise: coordinators see numbers, never a young person's name.

Every GET route of the URL map is fetched as a coordinator, in a world whose young people
have names no other text contains: they are signed up, on waitlists, checked in, registered
by staff, in offline-scan conflicts, in mail and in staff's free-text reasons. No answer may
contain one of those names.
"""
from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest

from tests.factories import attend, make_youth, sign_up
from tests.security.conftest import route_url
from youthclub.accounts.models import Gender
from youthclub.attendance import services as attendance_services
from youthclub.attendance.models import ScanConflict
from youthclub.extensions import db
from youthclub.signups import services as signup_services
from youthclub.signups.models import SignupStatus

FIRST_NAMES = ("Zyxwaldo", "Quilvina", "Brumhilde", "Xantorius")
LAST_NAMES = ("Oddelbrask", "Vindelkrog")
NAMES = FIRST_NAMES + LAST_NAMES


def name_world(world):
    """Give the world's young people distinctive names and leave them everywhere a name can land."""
    world.youth.first_name, world.youth.last_name = FIRST_NAMES[0], LAST_NAMES[0]
    world.other_youth.first_name, world.other_youth.last_name = FIRST_NAMES[1], LAST_NAMES[1]
    registered = make_youth(first_name=FIRST_NAMES[2], gender=Gender.DRENG)
    registered.registered_by_institution_id = world.inst_a.id
    waiting = make_youth(first_name=FIRST_NAMES[3])
    world.activity_a.capacity = 1
    sign_up(waiting, world.activity_a, status=SignupStatus.WAITLISTED, position=1)
    attend(world.youth, world.session_a, recorded_by=world.staff_a)
    attend(registered, world.session_a, recorded_by=world.staff_a)
    db.session.add(ScanConflict(session_id=world.session_a.id, nonce="conflict-nonce-1", youth_id=waiting.id,
                                code="waitlisted", scanned_at=world.session_a.starts_at + timedelta(minutes=1),
                                recorded_by_id=world.staff_a.id))
    db.session.flush()
    # staff write free text; some will name the young person
    attendance_services.remove_attendance(
        attendance_services.roll_call(world.session_a)[0][1], world.staff_a,
        reason=f"{FIRST_NAMES[0]} {LAST_NAMES[0]} gik igen")
    signup_services.cancel_signup(world.signup, by_user=world.staff_a, reason=f"Aftalt med {FIRST_NAMES[0]}")
    db.session.commit()
    return world


#: pages opened by a secret link, not by a role: the guardian's consent page names their own child
BY_SECRET_LINK = {"accounts.guardian_consent"}


def _get_rules(app):
    return sorted((r for r in app.url_map.iter_rules()
                   if r.endpoint != "static" and "GET" in r.methods and r.endpoint not in BY_SECRET_LINK),
                  key=lambda r: r.rule)


def _urls(app, rule, world):
    """The route, and the route searching for a name (search boxes and the scanner's name search)."""
    url = route_url(app, rule, world)
    return [url, f"{url}?q={FIRST_NAMES[0][:4]}"]


def _text(response) -> str:
    """The answer as text; a zip (an .xlsx export) is read member by member."""
    data = response.get_data()
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return " ".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    return data.decode("utf-8", "replace")


def _leaks(text: str) -> list[str]:
    return [name for name in NAMES if name.casefold() in text.casefold()]


@pytest.mark.parametrize("role", ["coordinator"])
def test_no_get_route_names_a_young_person_to_a_coordinator(app, client, world, role):
    name_world(world)
    client.login_as(world.user(role))
    leaks = {}
    for rule in _get_rules(app):
        for url in _urls(app, rule, world):
            response = client.get(url)
            assert response.status_code != 500, url
            found = _leaks(_text(response))
            if found:
                leaks[url] = found
    assert not leaks, f"young people's names shown to a {role}: {leaks}"


def test_the_crawl_would_see_a_name(app, client, world):
    """The negative control: staff of institution A do see these names, so the crawl can find them."""
    name_world(world)
    client.login_as(world.staff_a)
    pages = [_text(client.get(url)) for rule in _get_rules(app) for url in _urls(app, rule, world)]
    assert {name for page in pages for name in _leaks(page)} >= {FIRST_NAMES[0], FIRST_NAMES[2], FIRST_NAMES[3]}


def test_every_admin_answer_that_names_a_young_person_is_audited(app, client, world):
    """Admins see names only for support, and each look is in the audit log: crawled, not listed by hand."""
    from sqlalchemy import func, select

    from youthclub.audit.models import AuditEvent

    name_world(world)
    client.login_as(world.admin)

    def admins_events() -> int:
        db.session.commit()
        return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.user_id == world.admin.id))

    unaudited, named = [], []
    for rule in _get_rules(app):
        for url in _urls(app, rule, world):
            before = admins_events()
            response = client.get(url)
            if response.status_code == 200 and _leaks(_text(response)):
                named.append(url)
                if admins_events() == before:
                    unaudited.append(url)
    assert named, "the crawl found no page naming a young person to an admin"
    assert not unaudited, f"an admin saw names without an audit event: {unaudited}"
