"""Where offers are missing: supply and demand per district, with the waitlist released like every figure."""
from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import select

from tests.factories import make_activity, make_session, make_youth, sign_up
from youthclub.accounts.models import RECORD_KEYS, YouthProfile
from youthclub.activities.models import Category
from youthclub.extensions import db
from youthclub.i18n import local_today
from youthclub.reports.disclosure import released_count
from youthclub.reports.gaps import offer_gaps
from youthclub.reports.views_gaps import is_gap
from youthclub.signups.models import Signup, SignupStatus


def _wait(activity, n, *, age=14):
    for i in range(n):
        sign_up(make_youth(birth_year=local_today().year - age - 1), activity, status=SignupStatus.WAITLISTED,
                position=i + 1)


def _gap_weekday() -> int:
    """Wednesday, or Thursday when today is a Wednesday: the world's offer meets today, and its free
    places would fill the gap on today's weekday."""
    return 2 if local_today().weekday() != 2 else 3


@pytest.fixture
def full_girls_football(world):
    """A full football offer for 13–15-year-olds in Indre Nørrebro on one weekday (``_gap_weekday``), six waiting."""
    day = local_today() + timedelta(days=(_gap_weekday() - local_today().weekday()) % 7 + 7)
    offer = make_activity(world.inst_a, title="Pigefodbold", category=Category.SPORT, min_age=13, max_age=15, capacity=2)
    make_session(offer, day, time(17), time(19))
    for _ in range(2):
        sign_up(make_youth(), offer)
    _wait(offer, 6)
    db.session.commit()
    return offer


def _rows(report, district, dim):
    gaps = next(d for d in report.districts if d.district.id == district.id)
    return {row.key[dim]: row.values for row in gaps.tables[dim]}, gaps


def test_demand_and_supply_per_district_category_weekday_and_age_band(world, full_girls_football):
    report = offer_gaps(threshold=None)
    sport, gaps = _rows(report, world.district_a, "category")
    # Fodbold i hallen (20 places, 1 taken) and the full Pigefodbold
    assert sport["sport"] == {"offers": 2, "full": 1, "free_places": 19, "waitlist": 6}
    assert gaps.total.values == {"offers": 2, "full": 1, "free_places": 19, "waitlist": 6}
    weekdays, _ = _rows(report, world.district_a, "weekday")
    assert weekdays[_gap_weekday()] == {"offers": 1, "full": 1, "free_places": 0, "waitlist": 6}
    bands, _ = _rows(report, world.district_a, "age_band")
    assert bands["13-15"]["offers"] == 2 and bands["13-15"]["waitlist"] == 6
    assert bands["u13"] == {"offers": 1, "full": 0, "free_places": 19, "waitlist": 0}  # Fodbold is 10–24
    music, _ = _rows(report, world.district_b, "category")
    assert music == {"musik": {"offers": 1, "full": 0, "free_places": 19, "waitlist": 0}}
    assert report.total.values["offers"] == 3


def _released_waitlist(activities, threshold=5):
    """What the release must show for the young people waiting for ``activities``: their cell key's perturbation."""
    youths = set(db.session.scalars(
        select(YouthProfile).join(Signup, Signup.youth_id == YouthProfile.id)
        .where(Signup.status == SignupStatus.WAITLISTED, Signup.activity_id.in_([a.id for a in activities]))
    ))
    return released_count(len(youths), sum(y.record_key for y in youths) % RECORD_KEYS, threshold)


def test_waiting_young_people_are_released_by_their_cell_key_and_small_numbers_hidden(world, full_girls_football):
    _wait(world.activity_b, 3, age=16)  # three wait for music in Ydre Nørrebro
    crafts = make_activity(world.inst_b, title="Syværksted", category=Category.KREATIV, capacity=1)
    make_session(crafts, local_today() + timedelta(days=3))
    sign_up(make_youth(), crafts)
    _wait(crafts, 6, age=16)
    db.session.commit()
    report = offer_gaps(threshold=5)
    gaps = next(d for d in report.districts if d.district.id == world.district_b.id)
    by_category = {row.key["category"]: row for row in gaps.tables["category"]}
    assert "waitlist" in by_category["musik"].small and by_category["musik"].get("waitlist") is None
    # the same rule as every figure of the statistics: the district's 9 and the crafts' 6 each
    # carry their own cell key's noise, so 9 − 6 says nothing exact about the music's 3
    assert by_category["kreativ"].get("waitlist") == _released_waitlist([crafts])
    assert gaps.total.get("waitlist") == _released_waitlist([crafts, world.activity_b])
    for table in gaps.tables.values():
        for row in table:
            released = row.get("waitlist")
            assert released is None or released >= 5
    # the same group asked again is released the same way
    again = next(d for d in offer_gaps(threshold=5).districts if d.district.id == world.district_b.id)
    assert again.total.get("waitlist") == gaps.total.get("waitlist")


def test_the_page_shows_where_places_are_missing_and_no_names(client, world, full_girls_football):
    client.login_as(world.coordinator)
    response = client.get("/reports/offer-gaps")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Hvor mangler der tilbud?" in html and "Indre Nørrebro" in html and "Ydre Nørrebro" in html
    assert html.count("Mangler pladser") >= 1  # on the gap's weekday six wait, no place is free
    assert "Pigefodbold" not in html and world.youth.first_name not in html
    data = client.get("/reports/offer-gaps.json").get_json()
    a = next(d for d in data["districts"] if d["district"]["id"] == world.district_a.id)
    assert a["total"]["waitlist"] == _released_waitlist([full_girls_football]) and a["category"][0]["label"] == "Sport"


def test_staff_and_young_people_do_not_see_the_page(client, world):
    client.login_as(world.staff_a)
    assert client.get("/reports/offer-gaps").status_code == 403


def test_a_few_waiting_where_no_place_is_free_are_not_marked_as_missing_places(world):
    """"Mangler pladser" beside a "<5" would tell "a few wait" from "nobody waits"."""
    crafts = make_activity(world.inst_b, title="Syværksted", category=Category.KREATIV, capacity=1)
    make_session(crafts, local_today() + timedelta(days=3))
    sign_up(make_youth(), crafts)
    _wait(crafts, 2, age=16)
    db.session.commit()

    def kreativ(threshold):
        gaps = next(d for d in offer_gaps(threshold=threshold).districts if d.district.id == world.district_b.id)
        return next(row for row in gaps.tables["category"] if row.key["category"] == "kreativ")

    assert is_gap(kreativ(None))  # the exact grid: two wait, no place is free
    released = kreativ(5)
    assert released.get("waitlist") is None and not is_gap(released)
