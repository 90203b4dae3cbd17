"""A coordinator reads the statistics, downloads the workbook and prints the action-plan report."""
from __future__ import annotations

import io
from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import expect

from tests import factories as fx
from tests.browser.conftest import assert_accessible, login
from youthclub.extensions import db
from youthclub.i18n import local_today
from youthclub.reports.disclosure import released_count


def test_coordinator_reads_figures_for_ydre_norrebro_downloads_xlsx_and_prints_the_plan(laptop, world):
    world.activity_b.focus_areas = [world.focus_areas[1]]
    nine = [fx.make_youth(district=world.district_b, birth_year=local_today().year - 12 - i % 6) for i in range(9)]
    for youth in nine:
        fx.attend(youth, world.session_b)
    db.session.commit()
    # nine young people, released by their cell key (docs/metrics.md)
    unique = released_count(9, sum(y.record_key for y in nine) % 256, 5)
    page = laptop
    login(page, "koordinator@example.org")
    assert "/reports" in page.url
    page.select_option("#f-district", label="Ydre Nørrebro")
    page.fill("#f-year", str(local_today().year))
    page.click("button:has-text('Vis tal')")
    page.wait_for_load_state()
    headline = page.locator(".stat-card", has_text="Unikke unge").first.locator("dd").inner_text()
    assert headline == str(unique)
    assert "ændret en smule tilfældigt" in page.locator("#disclosure-note").inner_text()
    # the charts are labelled images with their numbers in tables beside them
    assert page.locator("svg[role=img] title").count() == 3
    assert page.locator("table.stats-table caption", has_text="aldersgruppe og køn").count() == 1
    assert_accessible(page)

    with page.expect_download() as info:
        page.click("a:has-text('Hent XLSX')")
    wb = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    assert wb["Overblik"]["E2"].value == unique and "Definitioner" in wb.sheetnames

    page.click("nav a:text-is('Planrapport')")
    page.select_option("#p-district", label="Indre Nørrebro")
    page.click("button:has-text('Vis rapport')")
    page.wait_for_load_state()
    headings = page.locator("h2[id^=fa-]").all_inner_texts()
    assert headings[0].startswith("Indsatsområde 2")
    assert_accessible(page)
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator("form.stats-filters")).to_be_hidden()
    expect(page.locator("h1", has_text="Handlingsplan")).to_be_visible()
