"""Looking at a roster or a young person's page leaves an audit event (ids only, no names)."""
from sqlalchemy import select

from youthclub.audit.models import AuditEvent
from youthclub.extensions import db


def _events(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_viewing_rosters_and_a_young_person_is_audited(client, world):
    client.login_as(world.staff_a)
    assert client.get(f"/activities/{world.activity_a.id}/signups").status_code == 200
    assert client.get(f"/sessions/{world.session_a.id}/rollcall").status_code == 200
    assert client.get(f"/youths/{world.youth.id}").status_code == 200
    rosters = _events("roster.view")
    assert {(e.object_type, e.object_id) for e in rosters} == {
        ("activity", world.activity_a.id), ("session", world.session_a.id)}
    assert all(e.user_id == world.staff_a.id for e in rosters)
    (youth_view,) = _events("youth.view")
    assert youth_view.object_id == world.youth.id
    assert "Aisha" not in str(youth_view.details)


def test_a_refused_look_is_not_recorded_as_a_view(client, world):
    client.login_as(world.staff_b)
    assert client.get(f"/activities/{world.activity_a.id}/signups").status_code == 403
    assert _events("roster.view") == []
