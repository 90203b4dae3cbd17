"""The inputs the outside test answered with a 500: each is now a clear 400 (JSON under /api/), nothing written."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from youthclub.activities.models import Activity, Session
from youthclub.attendance.models import Attendance
from youthclub.extensions import db

BIG = 2**31
HUGE = 99999999999
VERY_HUGE = 2**64

GETS = [
    ("anonymous", "/activities?district={n}"),
    ("coordinator", "/api/v1/stats?district={n}"),
    ("coordinator", "/api/v1/stats?institution={n}"),
    ("coordinator", "/api/v1/stats?initiative={n}"),
    ("coordinator", "/reports?district={n}"),
    ("coordinator", "/reports?focus_area={n}"),
    ("coordinator", "/reports/export.csv?district={n}"),
    ("coordinator", "/audit?user={n}"),
    ("coordinator", "/reports/action-plan?district={n}"),
]


@pytest.mark.parametrize("n", [BIG, HUGE, VERY_HUGE, -BIG])
@pytest.mark.parametrize("role,url", GETS)
def test_large_integers_in_filters_are_not_server_errors(client, world, role, url, n):
    user = world.user(role)
    if user:
        client.login_as(user)
    response = client.get(url.format(n=n))
    assert response.status_code == 400, response.status_code  # a number no row can have: a clear refusal
    if url.startswith("/api/"):
        assert response.json["error"]["message"]
    else:
        assert 'lang="da"' in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/audit?date_to=9999-12-31", "/audit?date_from=0001-01-01&date_to=9999-12-31",
                                 "/reports/action-plan?year=-5", "/reports/action-plan?year=99999",
                                 f"/reports/action-plan?year={VERY_HUGE}"])
def test_dates_and_years_at_the_edges(client, world, url):
    client.login_as(world.coordinator)
    response = client.get(url)
    assert response.status_code in (200, 400), response.status_code
    if response.status_code == 400:
        assert "lang=\"da\"" in response.get_data(as_text=True)


@pytest.mark.parametrize("field", ["youth_id", "attendance_id"])
@pytest.mark.parametrize("n", [BIG, HUGE, VERY_HUGE])
def test_roll_call_ids_beyond_any_row(client, world, field, n):
    client.login_as(world.staff_a)
    action = "present" if field == "youth_id" else "absent"
    response = client.post_form(f"/sessions/{world.session_a.id}/rollcall", {"action": action, field: n})
    assert response.status_code in (400, 404)
    assert db.session.scalar(select(func.count(Attendance.id))) == 0


@pytest.mark.parametrize("n", [BIG, HUGE, VERY_HUGE])
def test_capacity_and_targets_beyond_any_column(client, world, n):
    client.login_as(world.staff_a)
    before = world.activity_a.capacity
    response = client.post_form(f"/activities/{world.activity_a.id}/edit", {
        "title": "Fodbold", "description": "x", "category": "sport", "min_age": 10, "max_age": 20,
        "capacity": n, "district_id": world.district_a.id})
    assert response.status_code in (200, 400)
    db.session.expire_all()
    assert db.session.get(Activity, world.activity_a.id).capacity == before
    client.login_as(world.coordinator)
    response = client.post_form(f"/initiatives/{world.initiative.id}/edit", {
        "title": "Mål", "focus_area_id": world.initiative.focus_area_id, "target_unique_youths": n, "target_visits": n})
    assert response.status_code in (200, 400)
    db.session.expire_all()
    assert world.initiative.target_unique_youths == 100


def test_moving_a_session_to_year_one(client, world):
    client.login_as(world.staff_a)
    starts = world.session_a.starts_at
    response = client.post_form(f"/sessions/{world.session_a.id}/move",
                                {"day": "0001-01-01", "start_time": "00:00", "end_time": "00:30"})
    assert response.status_code in (200, 400)
    assert "Datoen" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Session, world.session_a.id).starts_at == starts


@pytest.mark.parametrize("body", [
    '{"token": "\\ud800", "nonce": "0123456789abcdef"}',
    '{"token": "abc", "nonce": "\\udfff\\ud800abcdefgh"}',
    "[" * 3000 + "]" * 3000,
    '{"a":' * 3000 + "1" + "}" * 3000,
])
def test_lone_surrogates_and_deep_json_are_a_json_400(client, world, body):
    client.login_as(world.staff_a)
    for url in (f"/api/v1/sessions/{world.session_a.id}/checkins", "/api/v1/checkins/batch"):
        response = client.post(url, data=body, content_type="application/json",
                               headers={"X-CSRFToken": client.csrf_token()})
        assert response.status_code == 400, (url, response.status_code)
        assert response.json["error"]["message"]
    assert db.session.scalar(select(func.count(Attendance.id))) == 0


def test_deep_json_in_a_batch_item(client, world):
    client.login_as(world.staff_a)
    body = json.dumps({"items": [{"session_id": world.session_a.id, "token": "x", "nonce": "0123456789"}]})
    body = body.replace('"token": "x"', '"token": ' + "[" * 3000 + "]" * 3000)
    response = client.post("/api/v1/checkins/batch", data=body, content_type="application/json",
                           headers={"X-CSRFToken": client.csrf_token()})
    assert response.status_code in (200, 400)


def test_the_current_password_is_rate_limited(limited_app, world):
    app = limited_app()
    client = app.test_client()
    with app.app_context():
        client.login_as(world.staff_a)
        statuses = [client.post_form("/account", {"current_password": f"guess {i}", "new_password": "a new one 12345"})
                    .status_code for i in range(8)]
    assert 429 in statuses and statuses.index(429) <= 5


def test_closing_an_account_is_rate_limited_too(limited_app, world):
    app = limited_app()
    client = app.test_client()
    with app.app_context():
        client.login_as(world.youth_user)
        statuses = [client.post_form("/account/close", {"password": f"guess {i}", "confirm": "y"}).status_code
                    for i in range(8)]
    assert 429 in statuses
