"""The catalogue's JSON API."""
from __future__ import annotations

from tests.activities.test_views import offers  # noqa: F401 (fixture)
from tests.factories import make_activity
from youthclub.activities.models import ActivityStatus
from youthclub.extensions import db


def test_api_catalogue_filters_like_the_page(client, world, offers):  # noqa: F811
    for session in (world.session_a, world.session_b):  # today's: in the catalogue until they end
        db.session.delete(session)
    data = client.get("/api/v1/activities?age=16&per_page=1").get_json()
    assert data["total"] == 2 and data["pages"] == 2 and len(data["items"]) == 1
    titles = {i["title"] for i in client.get("/api/v1/activities?q=rødder").get_json()["items"]}
    assert titles == {"Rødder og rytmer"}
    football = client.get("/api/v1/activities?weekday=0").get_json()["items"][0]
    assert football["title"] == "Fodbold" and football["free_places"] == 0
    assert football["calendar_url"].endswith(f"/activities/{offers['football'].id}/calendar.ics")


def test_api_rejects_bad_filters_with_a_code(client, world):
    response = client.get("/api/v1/activities?weekday=9")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_parameter"
    assert client.get("/api/v1/activities?category=x").status_code == 400


def test_api_activity_lists_its_sessions_and_hides_drafts(client, world, offers):  # noqa: F811
    music = offers["music"]
    data = client.get(f"/api/v1/activities/{music.id}").get_json()
    assert data["title"] == "Rødder og rytmer" and len(data["sessions"]) == 1 and data["free_places"] is None
    draft = make_activity(world.inst_a, status=ActivityStatus.DRAFT)
    db.session.commit()
    response = client.get(f"/api/v1/activities/{draft.id}")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    assert "/activities" in client.get("/api/v1/openapi.json").get_json()["paths"]
