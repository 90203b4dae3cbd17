"""The statistics page itself: filters a coordinator can tell apart."""
from __future__ import annotations

from youthclub.extensions import db
from youthclub.models import ActionPlan, Initiative


def test_initiative_filter_names_the_district_of_same_named_initiatives(client, world):
    year = world.plan.year
    plan_b = ActionPlan(district=world.district_b, year=year)
    db.session.add_all([plan_b, Initiative(action_plan=plan_b, focus_area=world.focus_areas[1],
                                           title=world.initiative.title)])
    db.session.commit()
    client.login_as(world.coordinator)
    page = client.get("/reports").get_data(as_text=True)
    assert f"{world.initiative.title} (Indre Nørrebro {year})</option>" in page
    assert f"{world.initiative.title} (Ydre Nørrebro {year})</option>" in page
