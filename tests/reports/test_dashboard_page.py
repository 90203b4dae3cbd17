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


def test_the_dashboard_opens_while_the_doors_write(client, world):
    """SQLite: the page reads for a while, then writes its audit line. A check-in committed in between
    (every few seconds at an open door) left that read unable to become a write (SQLITE_BUSY_SNAPSHOT),
    and the coordinator saw a 503; the audit write now ends the reads and takes the write lock first."""
    import pytest
    from sqlalchemy import event, text

    from youthclub.audit.models import AuditEvent

    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL has no database-wide write lock")
    client.login_as(world.coordinator)
    db.session.commit()
    before = db.session.query(AuditEvent).filter_by(action="stats.view").count()
    done = []

    def a_check_in_elsewhere(conn, cursor, statement, *args):
        if not done and statement.lstrip().upper().startswith("SELECT") and \
                not conn.get_execution_options().get("another_writer"):
            done.append(True)
            with db.engine.connect().execution_options(another_writer=True) as other:
                other.execute(text("UPDATE activity SET title = title || '.'"))
                other.commit()

    event.listen(db.engine, "after_cursor_execute", a_check_in_elsewhere)
    try:
        page = client.get("/reports")
    finally:
        event.remove(db.engine, "after_cursor_execute", a_check_in_elsewhere)
    assert done and page.status_code == 200
    db.session.remove()
    assert db.session.query(AuditEvent).filter_by(action="stats.view").count() == before + 1
