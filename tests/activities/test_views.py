"""Activities over HTTP: staff forms, validation next to the field, the catalogue's filters, detail, iCal, Today."""
from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import make_activity, make_session, make_youth, sign_up
from youthclub.activities.models import Activity, ActivityStatus, Category, Session, SessionPattern
from youthclub.extensions import db
from youthclub.i18n import local_today


def next_weekday(weekday: int, after: int = 1) -> date:
    """The first ``weekday`` (Monday = 0) at least ``after`` days from today."""
    day = local_today() + timedelta(days=after)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def field_error(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', html)
    return match.group(1) if match else ""


ACTIVITY_FORM = {
    "title": "Street dance", "description": "Hiphop og house for begyndere", "category": "kreativ",
    "min_age": "12", "max_age": "16", "address": "Nørrebrogade 1", "room": "Salen", "capacity": "15",
    "waitlist_enabled": "y", "allows_drop_in": "y",
}


def test_staff_put_a_weekly_offer_online_through_the_forms(client, world):
    client.login_as(world.staff_a)
    district = str(world.district_a.id)
    response = client.post_form(f"/institutions/{world.inst_a.id}/activities/new", {**ACTIVITY_FORM, "district_id": district})
    activity = db.session.scalar(select(Activity).where(Activity.title == "Street dance"))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/activities/{activity.id}/patterns/new")
    assert activity.status == ActivityStatus.DRAFT and activity.capacity == 15 and activity.institution_id == world.inst_a.id

    first = next_weekday(1)
    response = client.post_form(f"/activities/{activity.id}/patterns/new", {
        "weekdays": ["1", "3"], "start_time": "16:30", "end_time": "18:00",
        "starts_on": first.isoformat(), "ends_on": (first + timedelta(days=27)).isoformat(),
        "skip_dates": (first + timedelta(days=7)).strftime("%d.%m.%Y"),
    })
    assert response.status_code == 302
    db.session.expire_all()
    assert len(activity.sessions) == 7  # 8 Tuesdays and Thursdays in four weeks, one skipped
    page = client.get(f"/activities/{activity.id}/manage").get_data(as_text=True)
    assert page.count("<td>16:30–18:00</td>") == 7

    assert client.post_form(f"/activities/{activity.id}/publish").status_code == 302
    catalogue = client.get("/activities?q=street").get_data(as_text=True)
    assert "Street dance" in catalogue


@pytest.mark.parametrize("change,field,message", [
    ({"min_age": "16", "max_age": "12"}, "max_age", "Maksimumalderen skal være mindst lige så høj som minimumsalderen."),
    ({"capacity": "0"}, "capacity", "Antal pladser skal være mindst 1"),
    ({"min_age": "tolv"}, "min_age", "Skriv et helt tal."),
    ({"title": ""}, "title", "Skriv en titel."),
    ({"signup_opens_at": "2026-12-02T10:00", "signup_closes_at": "2026-12-01T10:00"}, "signup_closes_at",
     "Tilmeldingen skal lukke efter den åbner."),
])
def test_bad_activity_input_shows_a_danish_message_next_to_the_field(client, world, change, field, message):
    client.login_as(world.staff_a)
    before = db.session.scalar(select(func.count(Activity.id)))
    response = client.post_form(f"/institutions/{world.inst_a.id}/activities/new",
                                {**ACTIVITY_FORM, "district_id": str(world.district_a.id), **change})
    assert response.status_code == 200
    assert field_error(response.get_data(as_text=True), field).startswith(message)
    assert db.session.scalar(select(func.count(Activity.id))) == before


@pytest.mark.parametrize("change,field,message", [
    ({"weekdays": []}, "weekdays", "Vælg mindst én ugedag."),
    ({"end_time": "15:00"}, "end_time", "Sluttidspunktet skal være efter starttidspunktet (slutter en mødegang efter midnat"),
    ({"starts_on": "2010-01-04", "ends_on": "2010-03-01"}, "starts_on", "Datoen skal ligge i programmets periode"),
    ({"ends_on": "2001-01-01"}, "ends_on", "Slutdatoen skal være samme dag som eller efter startdatoen."),
    ({"skip_dates": "31.02.2027"}, "skip_dates", "Ukendt dato: 31.02.2027."),
])
def test_bad_patterns_show_a_danish_message_next_to_the_field(client, world, change, field, message):
    client.login_as(world.staff_a)
    first = next_weekday(0)
    data = {"weekdays": ["0"], "start_time": "16:00", "end_time": "18:00", "starts_on": first.isoformat(),
            "ends_on": (first + timedelta(days=21)).isoformat(), **change}
    response = client.post_form(f"/activities/{world.activity_a.id}/patterns/new", data)
    assert response.status_code == 200
    assert field_error(response.get_data(as_text=True), field).startswith(message)
    assert db.session.scalar(select(func.count(SessionPattern.id))) == 0
    assert db.session.scalar(select(func.count(Session.id))) == 2


def test_one_submit_of_the_offer_form_shows_every_error_next_to_its_field(client, world):
    client.login_as(world.staff_a)
    response = client.post_form(f"/institutions/{world.inst_a.id}/activities/new", {
        **ACTIVITY_FORM, "district_id": str(world.district_a.id), "title": "", "min_age": "16", "max_age": "12",
        "capacity": "0", "signup_opens_at": "2026-12-02T10:00", "signup_closes_at": "2026-12-01T10:00",
    })
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert field_error(html, "title") == "Skriv en titel."
    assert field_error(html, "max_age") == "Maksimumalderen skal være mindst lige så høj som minimumsalderen."
    assert field_error(html, "capacity").startswith("Antal pladser skal være mindst 1")
    assert field_error(html, "signup_closes_at") == "Tilmeldingen skal lukke efter den åbner."


def test_a_field_the_form_cannot_read_and_the_rules_are_reported_together(client, world):
    client.login_as(world.staff_a)
    response = client.post_form(f"/activities/{world.activity_a.id}/edit", {
        **ACTIVITY_FORM, "district_id": str(world.district_a.id), "min_age": "tolv", "capacity": "-2",
    })
    html = response.get_data(as_text=True)
    assert field_error(html, "min_age") == "Skriv et helt tal."  # the form's own message, once
    assert field_error(html, "capacity").startswith("Antal pladser skal være mindst 1")
    db.session.expire_all()
    assert world.activity_a.capacity == 20


def test_one_submit_of_the_pattern_form_shows_every_error_next_to_its_field(client, world):
    client.login_as(world.staff_a)
    first = next_weekday(0)
    response = client.post_form(f"/activities/{world.activity_a.id}/patterns/new", {
        "weekdays": [], "start_time": "16:00", "end_time": "", "starts_on": first.isoformat(),
        "ends_on": (first - timedelta(days=3)).isoformat(), "skip_dates": "31.02.2027",
    })
    html = response.get_data(as_text=True)
    assert field_error(html, "weekdays") == "Vælg mindst én ugedag."
    assert field_error(html, "end_time") == "Skriv et gyldigt tidspunkt (tt:mm)."
    assert field_error(html, "ends_on") == "Slutdatoen skal være samme dag som eller efter startdatoen."
    assert field_error(html, "skip_dates").startswith("Ukendt dato: 31.02.2027.")
    assert db.session.scalar(select(func.count(SessionPattern.id))) == 0


def test_an_evening_club_puts_sessions_past_midnight_online(client, world):
    client.login_as(world.staff_a)
    first = next_weekday(4)
    response = client.post_form(f"/activities/{world.activity_a.id}/patterns/new", {
        "weekdays": ["4"], "start_time": "22:00", "end_time": "01:00", "starts_on": first.isoformat(),
        "ends_on": (first + timedelta(days=7)).isoformat(),
    })
    assert response.status_code == 302
    page = client.get(f"/activities/{world.activity_a.id}/manage").get_data(as_text=True)
    assert page.count("<td>22:00–01:00</td>") == 2
    late = db.session.scalars(select(Session).where(Session.pattern_id.is_not(None))).first()
    response = client.post_form(f"/sessions/{late.id}/move", {"day": first.isoformat(), "start_time": "23:00",
                                                              "end_time": "02:00"})
    assert response.status_code == 302
    db.session.expire_all()
    assert late.ends_at - late.starts_at == timedelta(hours=3)


def test_a_new_offer_with_sign_up_does_not_let_everyone_in_unless_staff_choose_it(client, world):
    client.login_as(world.staff_a)
    form = client.get(f"/institutions/{world.inst_a.id}/activities/new").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="allows_drop_in"[^>]*>', form) and " checked" not in re.search(
        r'<input[^>]*id="allows_drop_in"[^>]*>', form).group(0)
    data = {key: value for key, value in ACTIVITY_FORM.items() if key != "allows_drop_in"}
    client.post_form(f"/institutions/{world.inst_a.id}/activities/new", {**data, "district_id": str(world.district_a.id)})
    activity = db.session.scalar(select(Activity).where(Activity.title == "Street dance"))
    assert activity.capacity == 15 and activity.allows_drop_in is False


def test_staff_of_another_institution_change_nothing(client, world):
    client.login_as(world.staff_b)
    a = world.activity_a
    assert client.post_form(f"/activities/{a.id}/edit", {**ACTIVITY_FORM, "district_id": str(world.district_b.id)}).status_code == 403
    assert client.post_form(f"/activities/{a.id}/cancel", {"reason": "hack"}).status_code == 403
    assert client.post_form(f"/sessions/{world.session_a.id}/cancel", {"reason": "hack"}).status_code == 403
    assert client.post_form(f"/institutions/{world.inst_a.id}/activities/new", {**ACTIVITY_FORM, "district_id": "1"}).status_code == 403
    assert client.get(f"/institutions/{world.inst_a.id}/today").status_code == 403
    db.session.expire_all()
    assert a.title == "Fodbold i hallen" and a.status == ActivityStatus.PUBLISHED and not world.session_a.is_cancelled


def test_staff_move_and_cancel_sessions_and_young_people_see_the_reason(client, world):
    day = next_weekday(2)
    s1 = make_session(world.activity_a, day)
    s2 = make_session(world.activity_a, day + timedelta(days=7))
    client.login_as(world.staff_a)
    assert client.post_form(f"/sessions/{s1.id}/move", {"day": (day + timedelta(days=1)).isoformat(), "start_time": "17:00",
                                                        "end_time": "19:00", "reason": "Hallen er optaget"}).status_code == 302
    response = client.post_form(f"/sessions/{s2.id}/cancel", {"reason": ""})
    assert field_error(response.get_data(as_text=True), "reason") == "Skriv en begrundelse."
    assert client.post_form(f"/sessions/{s2.id}/cancel", {"reason": "Personalet er på kursus"}).status_code == 302
    client.post_form("/logout")
    page = client.get(f"/activities/{world.activity_a.id}").get_data(as_text=True)
    assert "Hallen er optaget" in page and "Flyttet fra" in page
    assert "Personalet er på kursus" in page and "Aflyst" in page


def test_coordinators_tag_offers_and_staff_see_the_tags(client, world):
    client.login_as(world.coordinator)
    response = client.post_form(f"/activities/{world.activity_a.id}/tags",
                                {"focus_areas": [str(world.focus_areas[2].id)], "initiatives": [str(world.initiative.id)]})
    assert response.status_code == 302
    client.login_as(world.staff_a)
    page = client.get(f"/activities/{world.activity_a.id}/manage").get_data(as_text=True)
    assert "Børn og unge med uroskabende adfærd og inklusion" in page
    # initiatives of the same name in two districts or years are told apart
    year = world.plan.year
    assert f"Flere unge i klubberne (Indre Nørrebro {year})" in page
    assert "Sammenhængskraft i lokalområdet" in page
    assert f"/activities/{world.activity_a.id}/tags" not in page
    assert client.get(f"/activities/{world.activity_a.id}/tags").status_code == 403


@pytest.fixture
def offers(world):
    """Published offers with coming sessions on known weekdays."""
    monday, friday = next_weekday(0), next_weekday(4)
    football = make_activity(world.inst_a, title="Fodbold", min_age=10, max_age=14, capacity=1)
    make_session(football, monday)
    sign_up(make_youth(), football)  # full
    music = make_activity(world.inst_b, title="Rødder og rytmer", category=Category.MUSIK, min_age=15, max_age=24,
                          description="Sammenspil på Ågade", capacity=None)
    make_session(music, friday)
    cafe = make_activity(world.inst_a, title="Åben café", category=Category.ANDET, min_age=13, max_age=18,
                         requires_signup=False, capacity=None, allows_drop_in=True)
    make_session(cafe, friday, time(19), time(22))
    draft = make_activity(world.inst_a, title="Kladdetilbud", status=ActivityStatus.DRAFT)
    make_session(draft, monday)
    old = make_activity(world.inst_a, title="Sidste års tur")
    make_session(old, local_today() - timedelta(days=30))
    db.session.commit()
    return {"football": football, "music": music, "cafe": cafe}


def titles(client, query: str = "") -> set[str]:
    html = client.get("/activities" + query).get_data(as_text=True)
    return set(re.findall(r'<h2><a href="/activities/\d+">([^<]+)</a></h2>', html)) - {"Fodbold i hallen", "Musikværksted"}


def test_catalogue_filters(client, world, offers):
    assert titles(client) == {"Fodbold", "Rødder og rytmer", "Åben café"}
    assert titles(client, "?age=11") == {"Fodbold"}
    assert titles(client, "?age=16") == {"Rødder og rytmer", "Åben café"}
    assert titles(client, "?weekday=0") == {"Fodbold"}
    assert titles(client, "?weekday=4") == {"Rødder og rytmer", "Åben café"}
    assert titles(client, f"?district={world.district_b.id}") == {"Rødder og rytmer"}
    assert titles(client, "?category=musik") == {"Rødder og rytmer"}
    assert titles(client, "?free=y") == {"Rødder og rytmer"}
    assert titles(client, "?drop_in=y&age=13") == {"Åben café", "Fodbold"}
    assert titles(client, "?q=RØDDER") == {"Rødder og rytmer"}
    assert titles(client, "?q=ågade") == {"Rødder og rytmer"}
    assert titles(client, "?q=%C3%A5ben+caf%C3%A9") == {"Åben café"}
    assert titles(client, "?q=100%25") == set()
    assert titles(client, "?age=abc&weekday=9&category=x") == {"Fodbold", "Rødder og rytmer", "Åben café"}


def test_catalogue_paginates(client, app, world, offers):
    app.config["CATALOGUE_PER_PAGE"] = 2
    first = client.get("/activities").get_data(as_text=True)
    assert "Side 1 af" in first and 'rel="next"' in first
    assert len(re.findall(r"<h2><a href=", client.get("/activities?page=2").get_data(as_text=True))) >= 1


def test_detail_page_and_calendar_feed(client, world, offers):
    music = offers["music"]
    page = client.get(f"/activities/{music.id}").get_data(as_text=True)
    assert "Rødder og rytmer" in page and "Klub B" in page and "15–24 år" in page
    assert "Tilmelding, ingen begrænsning på pladser." in page
    assert f"webcal://localhost/activities/{music.id}/calendar.ics" in page
    full = client.get(f"/activities/{offers['football'].id}").get_data(as_text=True)
    assert "Fuldt." in full and "venteliste" in full
    feed = client.get(f"/activities/{music.id}/calendar.ics")
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    assert feed.get_data(as_text=True).count("BEGIN:VEVENT") == 1


def test_drafts_are_not_public(client, world):
    draft = make_activity(world.inst_a, title="Hemmelig kladde", status=ActivityStatus.DRAFT)
    db.session.commit()
    assert client.get(f"/activities/{draft.id}").status_code == 404
    assert client.get(f"/activities/{draft.id}/calendar.ics").status_code == 404
    client.login_as(world.staff_b)
    assert client.get(f"/activities/{draft.id}").status_code == 404
    client.login_as(world.staff_a)
    assert "Kladde: kun synlig for personalet." in client.get(f"/activities/{draft.id}").get_data(as_text=True)


def test_today_page_lists_the_week_with_signup_counts_and_session_actions(client, app, world, monkeypatch):
    from jinja2 import ChoiceLoader, DictLoader

    from youthclub import nav

    tomorrow = make_session(world.activity_a, local_today() + timedelta(days=1), time(15), time(17))
    make_session(world.activity_b, local_today() + timedelta(days=1))  # another institution's
    make_session(world.activity_a, local_today() + timedelta(days=9))  # beyond the week
    db.session.commit()
    monkeypatch.setattr(app.jinja_env, "loader", ChoiceLoader([
        DictLoader({"test/scan.html": '<a class="scan" href="/scan/{{ session.id }}">Scan {{ activity.title }}</a>'}),
        app.jinja_env.loader]))
    monkeypatch.setitem(nav.SLOTS, "session_actions", [(50, "test/scan.html")])
    client.login_as(world.staff_a)
    assert client.get("/").headers["Location"].endswith(f"/institutions/{world.inst_a.id}/today")
    html = client.get(f"/institutions/{world.inst_a.id}/today").get_data(as_text=True)
    assert html.count(f"/activities/{world.activity_a.id}/manage\">Fodbold i hallen</a>") == 2
    assert "Musikværksted" not in html
    assert "Tilmeldte: 1 / 20" in html
    # an open drop-in offer says so, not "Tilmeldte: drop-in"
    world.activity_a.requires_signup = False
    db.session.commit()
    html = client.get(f"/institutions/{world.inst_a.id}/today").get_data(as_text=True)
    assert '<span class="badge">Drop-in</span>' in html and "Tilmeldte:" not in html
    assert f'href="/scan/{tomorrow.id}"' in html and f'href="/scan/{world.session_a.id}"' in html
    assert html.count('class="scan"') == 2


def test_anonymous_visitors_start_in_the_catalogue_and_english_is_one_click_away(client, world):
    assert client.get("/").headers["Location"].endswith("/activities")
    client.post_form("/language", {"lang": "en", "next": "/activities"})
    html = client.get("/activities").get_data(as_text=True)
    assert "Find an offer" in html and "All days" in html


def test_an_offer_tagged_to_another_districts_initiative_is_saved_with_a_warning(client, world):
    client.login_as(world.coordinator)
    response = client.post_form(f"/activities/{world.activity_b.id}/tags",
                                {"focus_areas": [], "initiatives": [str(world.initiative.id)]}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Tilbuddets indsatsområder er gemt." in html
    assert 'class="flash flash-warning">Bemærk: Flere unge i klubberne (Indre Nørrebro' in html
    assert "end tilbuddets (Ydre Nørrebro)" in html
    db.session.expire_all()
    assert world.activity_b.initiatives == [world.initiative]  # a warning, not a refusal
    client.login_as(world.staff_b)
    assert "Bemærk: Flere unge i klubberne" in client.get(f"/activities/{world.activity_b.id}/manage").get_data(as_text=True)


def test_staff_moving_a_tagged_offer_to_another_district_are_warned(client, world):
    client.login_as(world.coordinator)
    client.post_form(f"/activities/{world.activity_a.id}/tags", {"initiatives": [str(world.initiative.id)]})
    page = client.get(f"/activities/{world.activity_a.id}/manage").get_data(as_text=True)
    assert "Bemærk:" not in page  # the initiative is the offer's own district's
    client.login_as(world.staff_a)
    response = client.post_form(f"/activities/{world.activity_a.id}/edit",
                                {**ACTIVITY_FORM, "district_id": str(world.district_b.id)}, follow_redirects=True)
    assert "flash-warning\">Bemærk: Flere unge i klubberne" in response.get_data(as_text=True)


def test_moving_a_session_into_the_hour_summer_time_skips_is_refused_in_danish(client, world):
    client.login_as(world.staff_a)
    before = (world.session_a.starts_at, world.session_a.ends_at)
    response = client.post_form(f"/sessions/{world.session_a.id}/move", {
        "day": "2027-03-28", "start_time": "02:15", "end_time": "04:00", "reason": "Natlåsning"})
    assert response.status_code in (200, 422)
    assert "Klokken 02:15 findes ikke den 28.03.2027" in response.get_data(as_text=True)
    db.session.expire_all()
    assert (world.session_a.starts_at, world.session_a.ends_at) == before
