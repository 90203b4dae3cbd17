"""A 13-year-old on a phone registers, joins a full activity's waitlist as number 3, and is mailed when a place frees up."""
from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible
from tests.factories import mailed_link, make_activity, make_session, make_youth
from youthclub.database import write_transactions
from youthclub.extensions import db
from youthclub.i18n import local_today
from youthclub.signups import services
from youthclub.signups.models import Signup


def _cancel(signup_id):
    """Cancel as a background job would: a fresh write transaction beside the running server."""
    db.session.rollback()  # leave the read snapshot taken before the browser wrote
    with write_transactions():
        services.cancel_signup(db.session.get(Signup, signup_id), by_user=None)
        db.session.commit()


def _mails_about_places(smtp_server, to):
    """Mails to ``to`` other than registration's own (the link that made the account)."""
    from email.header import decode_header, make_header

    return [m for m in smtp_server.messages
            if m["To"] == to and "Bekræft" not in str(make_header(decode_header(m["Subject"])))]


def test_phone_registration_waitlist_and_promotion_mail(phone, world, smtp_server):
    activity = make_activity(world.inst_a, title="Streetdance", capacity=2, min_age=12, max_age=16)
    make_session(activity, day=local_today() + timedelta(days=3))
    ahead = [services.sign_up(make_youth(), activity) for _ in range(4)]  # 2 places taken, 2 waiting
    db.session.commit()
    activity_id, ahead_ids = activity.id, [s.id for s in ahead]

    phone.goto("/register")
    assert_accessible(phone)
    phone.fill("input[name=first_name]", "Nour")
    phone.select_option("select[name=birth_month]", "1")
    phone.select_option("select[name=birth_year]", str(local_today().year - 13))
    phone.select_option("select[name=home_district_id]", str(world.district_b.id))
    phone.click("button:has-text('Næste')")
    phone.wait_for_url("**/register/login")
    assert_accessible(phone)
    phone.fill("input[name=email]", "nour@example.org")
    phone.fill("input[name=password]", "dansen er min")
    phone.check("input[name=read_notice]")
    phone.click("button:has-text('Opret konto')")
    # the click starts the submit; the answer's page is read once it has arrived (content() may be the blank in between)
    expect(phone.locator("main")).to_contain_text("Tjek din mail")
    assert_accessible(phone)
    phone.goto(mailed_link("nour@example.org", "/register/confirm/", within=10))
    phone.get_by_role("button", name="Gør min konto klar").click()
    phone.wait_for_url("**/me/activities")
    assert "Velkommen, Nour!" in phone.content()

    # the mobile pages sign up through the JSON API with the session cookie and the CSRF header
    answer = phone.evaluate(
        """async (id) => {
            const token = document.querySelector('input[name=csrf_token]').value;
            const r = await fetch(`/api/v1/activities/${id}/signups`, {method: 'POST', headers: {'X-CSRFToken': token}});
            return [r.status, await r.json()];
        }""",
        activity_id,
    )
    assert answer[0] == 201 and answer[1]["status"] == "waitlisted" and answer[1]["position"] == 3
    phone.goto("/me/activities")
    assert "Nummer 3 på ventelisten" in phone.content()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(phone)

    # two people with a place cancel: the two ahead get the places, Nour moves to number 1
    for signup_id in ahead_ids[:2]:
        _cancel(signup_id)
    phone.reload()
    assert "Nummer 1 på ventelisten" in phone.content()
    assert not _mails_about_places(smtp_server, "nour@example.org")
    # one more cancels: Nour gets the place and an e-mail
    _cancel(ahead_ids[2])
    mails = _mails_about_places(smtp_server, "nour@example.org")
    assert len(mails) == 1 and "Streetdance" in mails[0].get_payload(decode=True).decode("utf-8")
    phone.reload()
    assert "Tilmeldt" in phone.locator(".my-activities").inner_text()
