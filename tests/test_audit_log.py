"""The audit log reads in words, and links objects where the reader may open them."""
from __future__ import annotations

from datetime import date

from youthclub.accounts.models import Role
from youthclub.audit.services import record_event
from youthclub.extensions import db
from youthclub.reports.stats import StatsFilter


def _trail(world):
    f = StatsFilter(start=date(2026, 1, 1), end=date(2026, 1, 31), institution_ids=frozenset({world.inst_a.id}))
    record_event("stats.export", user=world.coordinator, format="xlsx", filters=f.as_dict())
    record_event("activity.update", world.activity_a, user=world.staff_a)
    record_event("role.grant", world.staff_a, user=world.admin, role=str(Role.STAFF), institution_id=world.inst_a.id)
    record_event("session.cancel", world.session_a, user=world.staff_a, reason="Træneren er syg")
    record_event("signup.create", world.signup, user=world.staff_a, status="waitlisted", position=3)
    db.session.commit()


def test_details_are_words_and_objects_are_links(client, world):
    _trail(world)
    client.login_as(world.coordinator)
    html = client.get("/audit").get_data(as_text=True)
    assert "filters=" not in html and "institution_ids" not in html and "None" not in html
    assert "<dt>Filtre</dt><dd>periode 01.01.2026–31.01.2026; institutioner: Klub A</dd>" in html
    assert "<dt>Format</dt><dd>Excel</dd>" in html
    assert f'<a href="/activities/{world.activity_a.id}/manage">tilbud nr. {world.activity_a.id}</a>' in html
    assert f'<dt>Institution</dt><dd><a href="/institutions/{world.inst_a.id}">Klub A</a></dd>' in html
    assert "<dt>Rolle</dt><dd>medarbejder</dd>" in html
    assert "<dt>Status</dt><dd>på venteliste</dd><dt>Nummer på ventelisten</dt><dd>3</dd>" in html
    # a session opens its offer; a user's page is for admins; staff's free text is for admins only
    assert html.count(f'href="/activities/{world.activity_a.id}/manage"') == 2
    assert f'href="/admin/users/{world.staff_a.id}"' not in html
    assert "Træneren er syg" not in html and "<dt>Begrundelse</dt><dd>(skjult)</dd>" in html


def test_admins_open_users_and_read_reasons(client, world):
    _trail(world)
    client.login_as(world.admin)
    html = client.get("/audit").get_data(as_text=True)
    assert f'<a href="/admin/users/{world.staff_a.id}">bruger nr. {world.staff_a.id}</a>' in html
    assert "<dt>Begrundelse</dt><dd>Træneren er syg</dd>" in html


def test_the_log_reads_in_english_too(client, world):
    _trail(world)
    client.login_as(world.coordinator)
    client.post_form("/language", {"lang": "en", "next": "/audit"})
    html = client.get("/audit").get_data(as_text=True)
    assert "<dt>Filters</dt><dd>period 01.01.2026–31.01.2026; institutions: Klub A</dd>" in html


def test_a_coordinator_cannot_look_a_young_person_up_by_e_mail_in_the_log(client, world):
    """The log shows a young person as "ung #id"; filtering by their e-mail would tie an identified
    child to what they did (signed up, asked a guardian: under 15). For a coordinator a young
    person's e-mail matches nothing, the same answer as an address nobody has."""
    from youthclub.accounts import youth_services
    from youthclub.accounts.models import ConsentKind

    record_event("signup.create", world.signup, user=world.youth_user, status="active", position=None)
    youth_services.withdraw_consent(world.youth, ConsentKind.PHOTOS)
    record_event("user.password_change", world.youth_user, user=world.youth_user)
    record_event("activity.update", world.activity_a, user=world.staff_a)
    db.session.commit()
    client.login_as(world.coordinator)

    def rows(who: str) -> str:
        html = client.get("/audit", query_string={"user": who}).get_data(as_text=True)
        return html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]

    nobody = rows("nobody-has-this@example.org")
    assert "Ingen hændelser matcher filtrene." in nobody
    assert rows("ung@example.org") == nobody, "a young person's e-mail finds their events for a coordinator"
    assert "Ingen hændelser" not in rows("staff.a@example.org")  # colleagues are still found by e-mail

    client.login_as(world.admin)  # support may (and the admin's look at the log is audited)
    assert f"#{world.youth_user.id}" in rows("ung@example.org")


def test_a_coordinator_reads_what_happened_to_young_people_never_to_which_one(client, world):
    """Security test: the coordinator's log showed "ung #5" with "tilmelding nr. 178" and "ung nr. 5":
    no name, but one person's trail, and one event known from elsewhere (a place taken at a certain
    minute on the public page) names all of it. For a coordinator the log says what happened to a
    young person, with no number that ties two events to the same one; an admin still reads them."""
    from tests.factories import make_session
    from youthclub.attendance import services as attendance

    record_event("signup.create", world.signup, user=world.youth_user, status="confirmed", position=None)
    record_event("user.password_change", world.youth_user, user=world.youth_user)
    record_event("pass.revoke", world.youth, user=world.staff_a)
    last_week = make_session(world.activity_a, day=date.today().replace(day=1))
    attendance.mark_present(last_week, world.youth, world.staff_a, reason="glemt at scanne")
    record_event("activity.update", world.activity_a, user=world.staff_a)
    db.session.commit()
    numbers = {f"ung #{world.youth_user.id}", f"tilmelding nr. {world.signup.id}", f"ung nr. {world.youth.id}",
               f"bruger nr. {world.youth_user.id}", f"<dt>Ung</dt><dd>nr. {world.youth.id}"}

    client.login_as(world.coordinator)
    html = client.get("/audit").get_data(as_text=True)
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    for number in numbers:
        assert number not in body, number
    assert "<td>ung</td>" in body and "<dt>Ung</dt><dd>(skjult)</dd>" in body
    assert f"tilbud nr. {world.activity_a.id}" in body  # offers, sessions and staff keep their numbers
    # nor is the trail found by the young person's login number
    by_number = client.get("/audit", query_string={"user": str(world.youth_user.id)}).get_data(as_text=True)
    assert "Ingen hændelser matcher filtrene." in by_number

    client.login_as(world.admin)
    admin = client.get("/audit").get_data(as_text=True)
    assert f"ung #{world.youth_user.id}" in admin and f"tilmelding nr. {world.signup.id}" in admin
