"""Browser journey: an institution admin invites a colleague, who accepts and chooses a password, and removes one who left."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import assert_accessible, login
from youthclub.extensions import db
from youthclub.mail.models import OutboxMessage


def test_an_institution_admin_invites_a_colleague_and_removes_one_who_left(laptop, browser, live_server, world):
    page = laptop
    login(page, "leder.a@example.org")
    page.goto(f"/institutions/{world.inst_a.id}/staff")
    assert_accessible(page)
    page.get_by_label("Navn").fill("Sara Ny")
    page.get_by_label("E-mail").fill("sara.ny@example.org")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Vi har sendt en invitation til sara.ny@example.org")).to_be_visible()
    expect(page.locator("li.staff-invitation", has_text="sara.ny@example.org").get_by_text("Venter på svar")).to_be_visible()

    page.get_by_role("button", name="Fjern Personale A").click()
    expect(page.get_by_text("Personale A er fjernet fra")).to_be_visible()
    assert page.locator("li.staff-member", has_text="Personale A").count() == 0
    assert_accessible(page)

    # the colleague opens the mail's link in their own browser and chooses a password
    db.session.rollback()  # a fresh read of what the live server committed
    body = db.session.scalar(select(OutboxMessage.body_text).where(OutboxMessage.to_address == "sara.ny@example.org"))
    link = re.search(r"/invitations/\S+", body).group(0)
    context = browser.new_context(base_url=live_server.url, locale="da-DK")
    colleague = context.new_page()
    colleague.goto(link)
    expect(colleague.locator("h1")).to_have_text(f"Invitation til {world.inst_a.name}", use_inner_text=True)
    assert colleague.get_by_label("Dit navn").input_value() == "Sara Ny"
    assert_accessible(colleague)
    colleague.get_by_label("Vælg en adgangskode").fill("en lang og god sætning")
    colleague.get_by_role("button", name="Lav mit login").click()
    expect(colleague.get_by_text("Dit login er klar.")).to_be_visible()
    login(colleague, "sara.ny@example.org", "en lang og god sætning")
    assert "/login" not in colleague.url
    context.close()
