"""Browser journey: an institution admin invites a colleague, who accepts and chooses a password, and removes one who left."""
from __future__ import annotations

import re

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
    assert page.get_by_text("Vi har sendt en invitation til sara.ny@example.org").is_visible()
    assert page.locator("li.staff-invitation", has_text="sara.ny@example.org").get_by_text("Venter på svar").is_visible()

    page.get_by_role("button", name="Fjern Personale A").click()
    assert page.get_by_text("Personale A er fjernet fra").is_visible()
    assert page.locator("li.staff-member", has_text="Personale A").count() == 0
    assert_accessible(page)

    # the colleague opens the mail's link in their own browser and chooses a password
    db.session.rollback()  # a fresh read of what the live server committed
    body = db.session.scalar(select(OutboxMessage.body_text).where(OutboxMessage.to_address == "sara.ny@example.org"))
    link = re.search(r"/invitations/\S+", body).group(0)
    context = browser.new_context(base_url=live_server.url, locale="da-DK")
    colleague = context.new_page()
    colleague.goto(link)
    assert colleague.locator("h1").inner_text() == f"Invitation til {world.inst_a.name}"
    assert colleague.get_by_label("Dit navn").input_value() == "Sara Ny"
    assert_accessible(colleague)
    colleague.get_by_label("Vælg en adgangskode").fill("en lang og god sætning")
    colleague.get_by_role("button", name="Lav mit login").click()
    assert colleague.get_by_text("Dit login er klar.").is_visible()
    login(colleague, "sara.ny@example.org", "en lang og god sætning")
    assert "/login" not in colleague.url
    context.close()
