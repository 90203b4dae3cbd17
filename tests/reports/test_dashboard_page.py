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


def test_the_three_focus_areas_are_named_in_english_in_english(client, world):
    world.activity_a.focus_areas.append(world.focus_areas[1])
    db.session.commit()
    client.login_as(world.coordinator)
    client.post_form("/language", {"lang": "en", "next": "/reports"})
    english = "2. Children and young people with disruptive behaviour, and inclusion"
    assert english in client.get("/reports").get_data(as_text=True)  # the filter
    assert english in client.get(f"/plans/{world.plan.id}").get_data(as_text=True)  # the plan's initiatives
    assert english in client.get(f"/activities/{world.activity_a.id}/manage").get_data(as_text=True)
    report = client.get("/reports/action-plan", query_string={"district": world.district_a.id,
                                                              "year": world.plan.year}).get_data(as_text=True)
    assert "Children and young people with disruptive behaviour, and inclusion" in report
    # in Danish, and for a focus area the catalogue does not know, the title stays as written
    world.focus_areas[2].title = "Tryghed i gården"
    db.session.commit()
    client.post_form("/language", {"lang": "da", "next": "/reports"})
    page = client.get("/reports").get_data(as_text=True)
    assert "2. Børn og unge med uroskabende adfærd og inklusion" in page and "3. Tryghed i gården" in page


def test_plan_targets_are_written_like_the_report_writes_them(client, world):
    world.initiative.target_visits = 3200
    world.initiative.target_unique_youths = None
    db.session.commit()
    client.login_as(world.coordinator)
    page = client.get(f"/plans/{world.plan.id}").get_data(as_text=True)
    assert '<td class="num">3.200</td>' in page and '<td class="num">–</td>' in page
