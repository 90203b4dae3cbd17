"""Browser journeys: staff put a weekly offer online; a young person on a phone finds one. Axe on every page."""
from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from playwright.sync_api import expect

from bench.report import write_section
from tests.browser.conftest import assert_accessible, login
from tests.factories import make_activity, make_session
from youthclub.activities.models import Category
from youthclub.extensions import db
from youthclub.i18n import local_today

PAGE_WEIGHT_GOAL_KB = 60


def _next(weekday: int, after: int = 1) -> date:
    day = local_today() + timedelta(days=after)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def test_staff_create_a_weekly_activity_and_see_its_sessions(laptop, world):
    page = laptop
    login(page, "staff.a@example.org")
    assert page.url.endswith(f"/institutions/{world.inst_a.id}/today")
    assert_accessible(page)

    page.goto(f"/institutions/{world.inst_a.id}/activities")
    assert_accessible(page)
    page.get_by_role("link", name="Opret tilbud").click()
    page.get_by_label("Titel").fill("Klatring for begyndere")
    page.get_by_label("Beskrivelse").fill("Vi klatrer i hallen. Udstyr kan lånes.")
    page.get_by_label("Kategori").select_option("sport")
    page.get_by_label("Fra alder").fill("12")
    page.get_by_label("Til alder").fill("17")
    page.get_by_label("Antal pladser").fill("0")
    assert not page.get_by_label("Unge uden tilmelding må også komme (drop-in)").is_checked()
    assert_accessible(page)
    # a first try with the ages swapped and no places: both refused at once, each next to its field
    page.get_by_label("Fra alder").fill("17")
    page.get_by_label("Til alder").fill("12")
    page.get_by_role("button", name="Opret tilbud").click()
    assert page.locator("#max_age-error").inner_text().startswith("Maksimumalderen skal være")
    assert page.locator("#capacity-error").inner_text().startswith("Antal pladser skal være mindst 1")
    assert_accessible(page)
    page.get_by_label("Fra alder").fill("12")
    page.get_by_label("Til alder").fill("17")
    page.get_by_label("Antal pladser").fill("10")
    page.get_by_role("button", name="Opret tilbud").click()

    # the pattern form: first without a weekday and with the dates swapped, both refused at once
    expect(page.locator("h1")).to_have_text("Tilføj mødegange", use_inner_text=True)
    first = _next(1)
    page.get_by_label("Starter kl.").fill("16:30")
    page.get_by_label("Slutter kl.").fill("18:00")
    page.get_by_label("Første dato").fill(first.isoformat())
    page.get_by_label("Sidste dato").fill((first - timedelta(days=2)).isoformat())
    page.get_by_role("button", name="Gem mødegange").click()
    expect(page.locator("#weekdays-error")).to_have_text("Vælg mindst én ugedag.", use_inner_text=True)
    assert page.locator("#ends_on-error").inner_text().startswith("Slutdatoen skal være")
    assert_accessible(page)
    page.get_by_label("Sidste dato").fill((first + timedelta(days=20)).isoformat())
    page.get_by_label("tirsdag").check()
    page.get_by_label("torsdag").check()
    page.get_by_role("button", name="Gem mødegange").click()

    expect(page.locator("h1")).to_have_text("Klatring for begyndere", use_inner_text=True)
    rows = page.locator("table.sessions-table tbody tr")
    assert rows.count() == 6
    assert "16:30–18:00" in rows.first.inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Offentliggør").click()
    expect(page.get_by_text("Tilbuddet er offentliggjort.")).to_be_visible()


def test_staff_on_a_phone_add_a_late_evening_that_ends_after_midnight(phone, world):
    page = phone
    login(page, "staff.a@example.org")
    page.goto(f"/activities/{world.activity_a.id}/patterns/new")
    friday = _next(4)
    page.get_by_label("fredag").check()
    page.get_by_label("Starter kl.").fill("22:00")
    page.get_by_label("Slutter kl.").fill("01:00")
    page.get_by_label("Første dato").fill(friday.isoformat())
    page.get_by_label("Sidste dato").fill((friday + timedelta(days=14)).isoformat())
    page.get_by_role("button", name="Gem mødegange").click()
    expect(page.get_by_text("Mødegangene er gemt.")).to_be_visible()
    assert page.locator("table.sessions-table tbody tr", has_text="22:00–01:00").count() == 3
    assert_accessible(page)


# the boxing offer's weekday is never today's, where the world's own "Fodbold i hallen" meets
BOXING_WEEKDAY = (local_today().weekday() + 2) % 7
WEEKDAY_NAMES = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")


@pytest.fixture
def catalogue_offers(world):
    boxing_day, friday = _next(BOXING_WEEKDAY), _next(4)
    for n in range(22):  # more than a page of 20
        activity = make_activity(world.inst_a if n % 2 else world.inst_b, title=f"Værksted {n}",
                                 category=Category.KREATIV, min_age=10, max_age=13)
        make_session(activity, friday)
    boxing = make_activity(world.inst_a, title="Boksning for piger", category=Category.SPORT, min_age=13, max_age=17,
                           description="Teknik, kondition og fællesskab. Handsker kan lånes.")
    for week in range(4):
        make_session(boxing, boxing_day + timedelta(weeks=week), time(17), time(19))
    db.session.commit()
    return boxing


def test_young_person_on_a_phone_filters_the_catalogue_and_opens_an_offer(phone, world, catalogue_offers):
    page = phone
    page.goto("/")
    assert page.url.endswith("/activities")
    weight = page.evaluate(
        """() => {
            const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
            return entries.map(e => ({name: e.name, transfer: e.transferSize, body: e.encodedBodySize}));
        }"""
    )
    shown = page.locator("li.offer").count()
    found = page.locator("main p[role=status]").inner_text()
    assert shown == 20
    assert_accessible(page)

    page.get_by_label("Alder").fill("14")
    page.get_by_label("Ugedag").select_option(label=WEEKDAY_NAMES[BOXING_WEEKDAY])
    page.get_by_role("button", name="Vis tilbud").click()
    page.wait_for_url(lambda url: "age=14" in url and f"weekday={BOXING_WEEKDAY}" in url)
    offers = page.locator("li.offer h2")
    assert offers.all_inner_texts() == ["Boksning for piger"]
    assert_accessible(page)

    offers.first.get_by_role("link").click()
    expect(page.locator("h1")).to_have_text("Boksning for piger")
    expect(page.locator("ul.sessions li")).to_have_count(4)
    assert page.get_by_role("link", name="Abonnér i din kalender").get_attribute("href").startswith("webcal://")
    assert_accessible(page)

    total = sum(e["transfer"] or e["body"] for e in weight)
    rows = "\n".join(f"| `{e['name'].split('/', 3)[-1] or '/'}` | {(e['transfer'] or e['body']) / 1024:.1f} KB |"
                     for e in weight)
    write_section(
        "catalogue-page-weight",
        "## Catalogue page weight\n\n"
        f"The public catalogue (`/activities`, a full first page of {shown} of {found.split()[0]} offers) loaded on a 360×740 "
        "phone viewport in headless Chromium with an empty cache; sizes are the browser's transfer sizes "
        "(HTML, CSS, JS, icon; headers included; the development server sends them uncompressed, so a "
        f"compressing proxy only makes them smaller).\n\n| resource | transferred |\n| --- | --- |\n{rows}\n| **total** | "
        f"**{total / 1024:.1f} KB** (goal < {PAGE_WEIGHT_GOAL_KB} KB) |",
    )
    assert total < PAGE_WEIGHT_GOAL_KB * 1024, weight
