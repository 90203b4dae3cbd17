"""One young person, one profile: staff are warned before registering someone twice, and
search results tell two people with the same first name apart."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from tests import factories as fx
from youthclub.accounts import youth_services
from youthclub.accounts.models import YouthProfile
from youthclub.extensions import db
from youthclub.mail.models import OutboxMessage


def _zara(world, **extra) -> dict:
    return {"first_name": "Zara", "last_name": "", "birth_month": "2", "birth_year": "2014", "gender": "pige",
            "home_district_id": str(world.district_a.id), "contact": "", **extra}


def _count(first_name: str) -> int:
    return db.session.scalar(select(func.count(YouthProfile.id)).where(YouthProfile.first_name == first_name))


def test_a_second_zara_at_the_same_institution_is_not_created_without_asking(client, world):
    client.login_as(world.staff_a)
    first = client.post_form(f"/institutions/{world.inst_a.id}/youths/new", _zara(world))
    assert "er registreret" in first.get_data(as_text=True)

    second = client.post_form(f"/institutions/{world.inst_a.id}/youths/new", _zara(world, first_name=" zara "))
    page = second.get_data(as_text=True)
    assert second.status_code == 200
    assert "Er det en af disse?" in page and "02.2014" in page
    assert _count("Zara") == 1

    anyway = client.post_form(f"/institutions/{world.inst_a.id}/youths/new", _zara(world, create_anyway="y"))
    assert "er registreret" in anyway.get_data(as_text=True)
    assert _count("Zara") == 2


def test_a_contact_known_at_another_institution_is_named_only_as_existing(client, world):
    other = fx.make_youth(first_name="Hemmelig", district=world.district_b)
    other.registered_by_institution_id = world.inst_b.id
    other.contact = "+45 12 34 56 78"
    db.session.commit()
    client.login_as(world.staff_a)
    response = client.post_form(f"/institutions/{world.inst_a.id}/youths/new",
                                _zara(world, contact="12345678"))
    page = response.get_data(as_text=True)
    assert "Der findes allerede en profil med denne kontakt" in page
    assert "Hemmelig" not in page and world.inst_b.name not in page
    assert _count("Zara") == 0


def test_a_login_e_mail_is_a_contact_too(client, world):
    """Aisha takes part at institution A: its staff see her by name, B's only hear that she exists."""
    client.login_as(world.staff_b)
    response = client.post_form(f"/institutions/{world.inst_b.id}/youths/new",
                                _zara(world, contact=" UNG@example.org "))
    page = response.get_data(as_text=True)
    assert "Der findes allerede en profil med denne kontakt" in page and "Aisha" not in page
    client.login_as(world.staff_a)
    page = client.post_form(f"/institutions/{world.inst_a.id}/youths/new",
                            _zara(world, contact="ung@example.org")).get_data(as_text=True)
    assert "Er det en af disse?" in page and "Ja, brug Aisha" in page
    assert "Der findes allerede en profil med denne kontakt" not in page


def test_the_same_name_elsewhere_is_no_match(app, world):
    youth, _code = youth_services.register_youth_by_staff(
        world.inst_b, first_name="Zara", last_name=None, birth_year=2014, birth_month=2, gender=None,
        home_district_id=None,
    )
    matches = youth_services.possible_duplicates(world.staff_a, first_name="Zara", birth_year=2014, birth_month=2,
                                                 contact=None)
    assert not matches
    own = youth_services.possible_duplicates(world.staff_b, first_name="ZARA", birth_year=2014,
                                             birth_month=2, contact=None)
    assert own.youths == [youth]


def test_contacts_are_compared_normalised():
    same = ["+45 12 34 56 78", "0045 12345678", "12-34-56-78", "12345678"]
    assert {youth_services.normalise_contact(c) for c in same} == {"12345678"}
    assert youth_services.normalise_contact(" Zara@Example.ORG ") == "zara@example.org"
    assert youth_services.normalise_contact("  ") is None


def test_search_tells_two_zaras_apart(client, world):
    for last_name, district in (("Hansen", world.district_a), ("Ali", world.district_b)):
        youth, _code = youth_services.register_youth_by_staff(
            world.inst_a, first_name="Zara", last_name=last_name, birth_year=2014, birth_month=2, gender=None,
            home_district_id=district.id,
        )
    db.session.commit()
    client.login_as(world.staff_a)
    results = client.get(f"/sessions/{world.session_a.id}/youth-search?q=zara").get_json()["results"]
    assert len(results) == 2
    labels = {r["details"] for r in results}
    assert len(labels) == 2
    assert any("Zara H." in r["details"] and world.district_a.name in r["details"] for r in results)
    assert all(world.inst_a.name in r["details"] for r in results)
    page = client.get(f"/sessions/{world.session_a.id}/rollcall?q=zara").get_data(as_text=True)
    assert "Zara H." in page and "Zara A." in page


def test_search_does_not_name_another_institution(client, world):
    youth, _code = youth_services.register_youth_by_staff(
        world.inst_b, first_name="Zara", last_name="Berg", birth_year=2014, birth_month=2, gender=None,
        home_district_id=None,
    )
    fx.attend(youth, world.session_a)
    db.session.commit()
    client.login_as(world.staff_a)
    (result,) = client.get(f"/sessions/{world.session_a.id}/youth-search?q=zara").get_json()["results"]
    assert world.inst_b.name not in result["details"] and "anden institution" in result["details"]


def test_registering_yourself_with_the_e_mail_a_club_gave_as_contact_makes_no_second_profile(client, world):
    """The same answer as for any e-mail; the mail tells the mailbox to use the club's claim code."""
    youth, _code = youth_services.register_youth_by_staff(
        world.inst_a, first_name="Zara", last_name=None, birth_year=2014, birth_month=2, gender=None,
        home_district_id=None, contact="Zara@Example.org",
    )
    db.session.commit()
    answers = []
    for email in ("zara@example.org", "ung@example.org"):
        client.post_form("/register", {"first_name": "Zara", "birth_month": "2", "birth_year": "2014", "gender": "",
                                       "home_district_id": "0"})
        response = client.post_form("/register/login", {"email": email, "password": "mit hemmelige ord",
                                                        "read_notice": "y"})
        answers.append(response.get_data(as_text=True).replace(email, "EMAIL"))
    assert "Vi har sendt en mail til EMAIL" in answers[0]
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == "zara@example.org"))
    assert "/claim" in mail.body_text and "/register/confirm/" not in mail.body_text
    assert _count("Zara") == 1
    strip = lambda page: re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", page)  # noqa: E731
    assert strip(answers[0]) == strip(answers[1])
