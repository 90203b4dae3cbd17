"""Coordinators manage action plans and initiatives; the report puts targets beside actual figures, focus area 2 first."""
from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import func, select

from tests import factories as fx
from tests.reports.conftest import started_today
from youthclub.extensions import db
from youthclub.i18n import local_today
from youthclub.models import ActionPlan, Attendance, AuditEvent, Initiative, Institution
from youthclub.reports.disclosure import released_count
from youthclub.reports.stats import StatsFilter, compute_table


def test_coordinator_creates_a_plan_and_an_initiative_with_targets(app, client, world):
    client.login_as(world.coordinator)
    year = local_today().year + 1  # the world has this year's plan for Indre Nørrebro
    response = client.post_form("/plans/new", {"district_id": world.district_b.id, "year": year, "title": "Plan for Ydre"})
    assert response.status_code == 302
    plan = db.session.scalar(select(ActionPlan).where(ActionPlan.year == year))
    assert plan.district_id == world.district_b.id and plan.title == "Plan for Ydre"
    # one plan per district and year
    again = client.post_form("/plans/new", {"district_id": world.district_b.id, "year": year})
    assert again.status_code == 200 and "allerede en handlingsplan" in again.get_data(as_text=True)

    response = client.post_form(f"/plans/{plan.id}/initiatives/new", {
        "title": "Fredagsklub", "focus_area_id": world.focus_areas[1].id, "description": "",
        "target_unique_youths": "120", "target_visits": "",
    })
    assert response.status_code == 302
    initiative = db.session.scalar(select(Initiative).where(Initiative.title == "Fredagsklub"))
    assert (initiative.target_unique_youths, initiative.target_visits) == (120, None)

    client.post_form(f"/initiatives/{initiative.id}/edit", {
        "title": "Fredagsklub", "focus_area_id": world.focus_areas[1].id, "target_unique_youths": "150", "target_visits": "900",
    })
    db.session.expire_all()
    assert (initiative.target_unique_youths, initiative.target_visits) == (150, 900)
    assert "Fredagsklub" in client.get(f"/plans/{plan.id}").get_data(as_text=True)
    initiative_id = initiative.id
    client.post_form(f"/initiatives/{initiative_id}/delete")
    db.session.expunge_all()
    assert db.session.get(Initiative, initiative_id) is None
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["action_plan.create", "initiative.create", "initiative.update", "initiative.delete"]


def test_report_shows_focus_area_two_first_with_targets_beside_actuals(app, client, world):
    # seven young people at an offer tagged with the world's initiative (focus area 2, target 100 / 1000)
    world.activity_a.focus_areas = [world.focus_areas[1]]
    world.activity_a.initiatives = [world.initiative]
    started_today(world.session_a)
    seven = [fx.make_youth(district=world.district_a) for _ in range(7)]
    for youth in seven:
        fx.attend(youth, world.session_a)
    client.login_as(world.coordinator)
    page = client.get("/reports/action-plan", query_string={"district": world.district_a.id, "year": world.plan.year}).get_data(as_text=True)
    first, second = page.index("Indsatsområde 2:"), page.index("Indsatsområde 1:")
    assert first < second < page.index("Indsatsområde 3:")
    section = page[first:second]
    assert "Flere unge i klubberne" in section
    row = section[section.index("Flere unge i klubberne"):]
    cells = [c.split("<")[0].strip() for c in row.split('<td class="num">')[1:5]]
    # 7 young people, 7 visits: released by their cell keys (one visit each, so the same key and the same value)
    released = released_count(7, sum(y.record_key for y in seven) % 256, 5)
    assert cells == ["100", str(released), "1.000", str(released)]
    assert f"({released} %)" in row  # of the target of 100, as a whole percent
    assert "ændret en smule tilfældigt" in page
    assert "data-print" in page


def test_generate_load_builds_a_data_set_the_figures_can_read(app):
    runner = CliRunner()
    result = runner.invoke(app.cli, ["generate-load", "--youths", "60", "--attendances", "900", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(Attendance)) == 900
    assert db.session.scalar(select(func.count()).select_from(Institution)) >= 2
    from datetime import date

    headline = compute_table(StatsFilter(date(2000, 1, 1), date(2099, 12, 31)))[0].values
    assert headline["visits"] == 900 and 0 < headline["unique"] <= 60 and headline["sessions"] > 0
    # a second run adds to the same districts and focus areas instead of failing on them
    again = runner.invoke(app.cli, ["generate-load", "--youths", "10", "--attendances", "100"])
    assert again.exit_code == 0, again.output
    assert db.session.scalar(select(func.count()).select_from(Attendance)) == 1000
