"""A forged Host header never ends up in a link the app builds (calendar feeds, webcal links, mail).

In production the host is checked (a 400 for any other); in development and tests it is not, so
every absolute link must be built from PUBLIC_BASE_URL. These run without the host check.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from config import DevelopmentConfig
from youthclub.extensions import db
from youthclub.mail.models import OutboxMessage

EVIL = "evil.example"


@pytest.fixture
def forged_host(app, monkeypatch):
    """Every request reaches the app with ``Host: evil.example`` (the test client keeps its cookies)."""
    inner = app.wsgi_app

    def forging(environ, start_response):
        environ["HTTP_HOST"] = EVIL
        return inner(environ, start_response)

    monkeypatch.setattr(app, "wsgi_app", forging)


def _get(client, url):
    return client.get(url)


def test_the_development_config_does_not_check_the_host(app):
    # so the tests below are what a developer's `make run` does
    assert not getattr(DevelopmentConfig, "TRUSTED_HOSTS", None) and not app.config.get("TRUSTED_HOSTS")


def test_calendar_links_and_feeds_use_the_public_base_url(client, world, forged_host):
    activity = world.activity_a
    pages = [f"/activities/{activity.id}", f"/activities/{activity.id}/calendar.ics"]
    client.login_as(world.youth_user)
    client.post_form("/me/calendar")
    db.session.refresh(world.youth)
    assert world.youth.calendar_token is not None
    pages += ["/me/activities", f"/calendar/{world.youth.calendar_token}.ics"]
    for url in pages:
        response = _get(client, url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        assert EVIL not in body, url
    detail = _get(client, f"/activities/{activity.id}").get_data(as_text=True)
    assert "webcal://localhost/" in detail  # PUBLIC_BASE_URL of the tests


def test_mailed_links_use_the_public_base_url(client, world, forged_host):
    from tests.factories import mailed_link

    client.post_form("/password/forgot", {"email": "staff.a@example.org"})
    client.post_form("/register", {"first_name": "Ali", "birth_month": "2", "birth_year": "2012", "gender": "",
                                   "home_district_id": "0"})
    client.post_form("/register/login", {"email": "ny.host@example.org", "password": "en lang adgangskode",
                                         "read_notice": "y"})
    bodies = list(db.session.scalars(select(OutboxMessage.body_text)))
    assert len(bodies) == 2 and all(EVIL not in body for body in bodies)
    assert mailed_link("ny.host@example.org", "/register/confirm/")
