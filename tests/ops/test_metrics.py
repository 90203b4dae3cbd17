"""/metrics: only for its token, and its figures move with the traffic.

In one process here; several gunicorn workers in test_metrics_gunicorn.py.
"""
from __future__ import annotations

import os
import time
import uuid
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import make_activity, make_session, make_youth
from youthclub.db_types import utcnow
from youthclub.extensions import db
from youthclub.i18n import local_today
from youthclub.mail.models import OutboxMessage

TOKEN = "metrics-test-token-0123456789abcdef"


def parse(text: str) -> dict[tuple[str, tuple], float]:
    """The exposition as {(sample name, sorted labels): value}."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def scrape(app, client):
    """Scrape /metrics with the token, as Prometheus does; returns the parsed samples."""
    app.config["METRICS_TOKENS"] = [TOKEN]

    def scrape_once() -> dict:
        response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.content_type.startswith("text/plain; version=")  # the Prometheus text format
        return parse(response.get_data(as_text=True))

    return scrape_once


# -- only for its token ------------------------------------------------------------------


def test_without_a_configured_token_there_is_no_endpoint(app, client):
    app.config["METRICS_TOKENS"] = []
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer anything-at-all"}).status_code == 404


@pytest.mark.parametrize("authorization", [
    None,
    "Bearer ",
    "Bearer wrong-token-wrong-token-wrong-token",
    f"Bearer {TOKEN}x",
    f"Bearer {TOKEN[:-1]}",
    f"Basic {TOKEN}",
    TOKEN,
])
def test_a_missing_or_wrong_token_is_refused(app, client, authorization):
    app.config["METRICS_TOKENS"] = [TOKEN]
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert "youthclub_" not in response.get_data(as_text=True)


def test_the_token_opens_it_and_two_tokens_allow_a_rotation(app, client):
    app.config["METRICS_TOKENS"] = ["old-token-old-token-old-token", TOKEN]
    for token in ("old-token-old-token-old-token", TOKEN):
        response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert "youthclub_http_requests_total" in response.get_data(as_text=True)
        assert response.headers["Cache-Control"] == "no-store"
        assert "Set-Cookie" not in response.headers


def test_production_refuses_a_short_token(monkeypatch):
    from config import ProductionConfig

    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1/none")
    monkeypatch.setenv("METRICS_TOKEN", "short")
    with pytest.raises(RuntimeError, match="METRICS_TOKEN"):
        ProductionConfig.validate()
    monkeypatch.setenv("METRICS_TOKEN", "a" * 32)
    ProductionConfig.validate()


# -- the figures move with the traffic ------------------------------------------------------


def test_requests_count_by_route_rule_and_status(scrape, client, world):
    before = scrape()
    client.get("/healthz")
    client.get("/healthz")
    client.get(f"/activities/{world.activity_a.id}")
    client.get("/no/such/page/4711")
    after = scrape()
    assert value(after, "youthclub_http_requests_total", route="/healthz", method="GET", status="200") \
        - value(before, "youthclub_http_requests_total", route="/healthz", method="GET", status="200") == 2
    assert value(after, "youthclub_http_request_duration_seconds_count", route="/healthz", method="GET") \
        - value(before, "youthclub_http_request_duration_seconds_count", route="/healthz", method="GET") == 2
    # the rule, not the path: ids never become label values
    rule = "/activities/<int:activity_id>"
    assert value(after, "youthclub_http_requests_total", route=rule, method="GET", status="200") \
        - value(before, "youthclub_http_requests_total", route=rule, method="GET", status="200") == 1
    assert value(after, "youthclub_http_requests_total", route="(unmatched)", method="GET", status="404") \
        - value(before, "youthclub_http_requests_total", route="(unmatched)", method="GET", status="404") == 1
    routes = {dict(labels).get("route") for name, labels in after}
    assert not any("4711" in r or str(world.activity_a.id) == r.rsplit("/", 1)[-1] for r in routes if r)
    # the scrape before this one is counted too, with the response it got
    assert value(after, "youthclub_http_requests_total", route="/metrics", method="GET", status="200") >= 1


def test_a_method_the_client_makes_up_is_other(scrape, client):
    before = scrape()
    for method in ("BREW", "XYZZY"):
        assert client.open("/healthz", method=method).status_code == 405
    after = scrape()
    assert value(after, "youthclub_http_requests_total", route="(unmatched)", method="other", status="405") \
        - value(before, "youthclub_http_requests_total", route="(unmatched)", method="other", status="405") == 2
    assert not any(dict(labels).get("method") in ("BREW", "XYZZY") for _, labels in after)


def checkins(samples, outcome: str) -> float:
    return value(samples, "youthclub_checkins_total", outcome=outcome)


def test_check_ins_count_by_outcome(scrape, client, world):
    client.login_as(world.staff_a)
    url = f"/api/v1/sessions/{world.session_a.id}/checkins"

    def scan(token):
        return client.api("POST", url, json={"token": token, "nonce": str(uuid.uuid4())}).status_code

    before = scrape()
    assert scan(world.youth.pass_token) == 201
    assert scan(world.youth.pass_token) == 200
    assert scan("no-such-pass") == 422
    after = scrape()
    assert checkins(after, "checked_in") - checkins(before, "checked_in") == 1
    assert checkins(after, "already_checked_in") - checkins(before, "already_checked_in") == 1
    assert checkins(after, "unknown_token") - checkins(before, "unknown_token") == 1
    route = "/api/v1/sessions/<int:session_id>/checkins"
    assert value(after, "youthclub_http_requests_total", route=route, method="POST", status="201") \
        - value(before, "youthclub_http_requests_total", route=route, method="POST", status="201") == 1


def signups(samples, outcome: str) -> float:
    return value(samples, "youthclub_signups_total", outcome=outcome)


def test_sign_ups_count_by_outcome(scrape, client, world):
    one_place = make_activity(world.inst_a, title="Parkour", capacity=1)
    make_session(one_place, day=local_today() + timedelta(days=2))
    db.session.commit()
    client.login_as(world.youth_user)
    before = scrape()
    assert client.api("POST", f"/api/v1/activities/{one_place.id}/signups").status_code == 201
    assert client.api("POST", f"/api/v1/activities/{one_place.id}/signups").status_code == 409
    from youthclub.signups import services

    services.sign_up(make_youth(), one_place)  # the place is taken: the next one waits
    db.session.commit()
    after = scrape()
    assert signups(after, "confirmed") - signups(before, "confirmed") == 1
    assert signups(after, "already_signed_up") - signups(before, "already_signed_up") == 1
    assert signups(after, "waitlisted") - signups(before, "waitlisted") == 1


def test_outbox_age_and_failing_mail(scrape, app):
    samples = scrape()
    assert value(samples, "youthclub_metrics_source_up", source="database") == 1
    assert value(samples, "youthclub_outbox_unsent_messages") == 0
    assert value(samples, "youthclub_outbox_oldest_unsent_age_seconds") == 0
    now = utcnow()
    db.session.add_all([
        OutboxMessage(to_address="a@example.org", subject="s", body_text="b", created_at=now - timedelta(hours=2),
                      attempts=3, last_error="421 try later"),
        OutboxMessage(to_address="b@example.org", subject="s", body_text="b", created_at=now - timedelta(minutes=5)),
        OutboxMessage(to_address="c@example.org", subject="s", body_text="b", created_at=now - timedelta(days=3),
                      sent_at=now - timedelta(days=3), attempts=1),
    ])
    db.session.commit()
    samples = scrape()
    assert value(samples, "youthclub_outbox_unsent_messages") == 2
    assert value(samples, "youthclub_outbox_failing_messages") == 1
    # the oldest unsent message, not the older one that was sent
    assert 2 * 3600 <= value(samples, "youthclub_outbox_oldest_unsent_age_seconds") < 2 * 3600 + 120


def test_the_database_pool_in_use(scrape, app):
    idle = value(scrape(), "youthclub_db_pool_checked_out")
    held = db.engine.connect()
    try:
        assert value(scrape(), "youthclub_db_pool_checked_out") == idle + 1
    finally:
        held.close()
    assert value(scrape(), "youthclub_db_pool_checked_out") == idle
    assert value(scrape(), "youthclub_db_pool_size") >= db.engine.pool.size()


# -- the job queue in Redis --------------------------------------------------------------


@pytest.fixture
def test_redis():
    import redis

    url = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError as err:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Redis is not reachable at {url} ({type(err).__name__})")
        pytest.skip(f"Redis is not reachable at {url}")
    for key in ("celery", "celery\x06\x163", "mail"):
        client.delete(key)
    yield url, client
    for key in ("celery", "celery\x06\x163", "mail"):
        client.delete(key)
    client.close()


def test_queue_depth_from_redis(scrape, app, test_redis):
    url, redis_client = test_redis
    app.config.update(REDIS_URL=url, METRICS_QUEUES=["celery", "mail"])
    samples = scrape()
    assert value(samples, "youthclub_metrics_source_up", source="queue") == 1
    assert value(samples, "youthclub_queue_depth", queue="celery") == 0  # no queue yet: empty, not an error
    redis_client.rpush("celery", "job-1", "job-2", "job-3")
    redis_client.rpush("celery\x06\x163", "a-priority-job")  # kombu's list for priority 3
    redis_client.rpush("mail", "job-4")
    samples = scrape()
    assert value(samples, "youthclub_queue_depth", queue="celery") == 4
    assert value(samples, "youthclub_queue_depth", queue="mail") == 1


def test_a_scrape_answers_quickly_while_redis_is_down(scrape, app):
    app.config.update(REDIS_URL="redis://127.0.0.1:9/0")  # nothing listens on the discard port
    started = time.monotonic()
    samples = scrape()
    assert time.monotonic() - started < 3
    assert value(samples, "youthclub_metrics_source_up", source="queue") == 0
    assert value(samples, "youthclub_metrics_source_up", source="database") == 1
    assert not any(name == "youthclub_queue_depth" for name, _ in samples)
    assert "youthclub_http_requests_total" in {name for name, _ in samples}


def test_a_scrape_answers_while_the_database_is_down():
    from tests.ops.test_ops import side_app

    app = side_app("postgresql+psycopg://nobody@127.0.0.1:9/nothing?connect_timeout=2", METRICS_TOKENS=[TOKEN])
    response = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    samples = parse(response.get_data(as_text=True))
    assert value(samples, "youthclub_metrics_source_up", source="database") == 0
    assert not any(name.startswith("youthclub_outbox") for name, _ in samples)


# -- the dashboard and the alerts read what the app exposes --------------------------------


def test_the_dashboard_and_alerts_use_only_exposed_metrics_and_real_routes(app, client, test_redis):
    import json
    import re

    import yaml

    from tests.conftest import ROOT

    url, _ = test_redis
    app.config.update(REDIS_URL=url, METRICS_TOKENS=[TOKEN])
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).get_data(as_text=True)
    # every family the app declares, with or without samples yet, under the names PromQL sees
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
    exposed = {family.name + suffix for family in text_string_to_metric_families(text)
               for suffix in suffixes.get(family.type, ("",))}
    dashboard = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text())
    queries = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    alerts = yaml.safe_load((ROOT / "docs" / "prometheus-alerts.yml").read_text())
    queries += [rule["expr"] for group in alerts["groups"] for rule in group["rules"]]
    assert len(queries) > 15
    used = {name for query in queries for name in re.findall(r"\byouthclub_[a-z_]+\b", query)}
    assert used and not used - exposed, f"not exposed: {sorted(used - exposed)}"
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    routes = {route for query in queries for pattern in re.findall(r'route=~?"([^"]+)"', query)
              for route in pattern.split("|")}
    assert routes and routes <= rules, f"no such route: {sorted(routes - rules)}"


def test_sqlite_counts_how_long_writers_wait_for_the_write_lock(scrape, app, client, world):
    """A writer holding SQLite's one write lock makes the next one wait; the histogram shows the wait."""
    import threading

    from sqlalchemy import text

    from youthclub.database import write_transactions

    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL has row locks, no database-wide write lock")
    before = scrape()
    holder = db.engine.raw_connection()
    holder.driver_connection.isolation_level = None
    holder.driver_connection.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.2, lambda: holder.driver_connection.execute("COMMIT"))
    release.start()
    started = time.monotonic()
    # a writer (as a job or the CLI writes) takes the lock after the holder
    db.session.remove()
    with write_transactions():
        db.session.execute(text("UPDATE activity SET title = title"))
        db.session.commit()
    waited = time.monotonic() - started
    release.join()
    holder.close()
    after = scrape()
    count = value(after, "youthclub_sqlite_write_lock_wait_seconds_count") \
        - value(before, "youthclub_sqlite_write_lock_wait_seconds_count")
    total = value(after, "youthclub_sqlite_write_lock_wait_seconds_sum") \
        - value(before, "youthclub_sqlite_write_lock_wait_seconds_sum")
    assert count >= 1
    assert 0.15 <= total <= waited + 0.05, (total, waited)
