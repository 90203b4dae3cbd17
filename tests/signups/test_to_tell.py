"""A young person without e-mail who moves up from the waitlist: staff see who, and a to-do until they mark it told."""
from __future__ import annotations

from tests.factories import make_activity, make_youth
from youthclub.extensions import db
from youthclub.signups import services
from youthclub.signups.models import Signup


def test_staff_see_who_moved_up_and_tell_those_without_email(client, world):
    offer = make_activity(world.inst_a, title="Cykelværksted", capacity=1)
    first = services.sign_up(make_youth(with_login=True, email="har.mail@example.org"), offer)
    no_mail = make_youth(first_name="Yasmin")
    no_mail.contact = "22 33 44 55"
    waiting = services.sign_up(no_mail, offer)
    db.session.commit()
    client.login_as(world.staff_a)

    response = client.post_form(f"/signups/{first.id}/staff-cancel", {"reason": "Flyttet"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Fra ventelisten har fået plads: Yasmin" in html and "Yasmin har ingen e-mail" in html
    manage = client.get(f"/activities/{offer.id}/manage").get_data(as_text=True)
    assert "Skal have besked" in manage and "Yasmin" in manage and "22 33 44 55" in manage

    # a coordinator, and staff of another institution, see no names (and cannot tick it off)
    client.login_as(world.coordinator)
    assert "Yasmin" not in client.get(f"/activities/{offer.id}/manage").get_data(as_text=True)
    assert client.post_form(f"/signups/{waiting.id}/told").status_code == 403
    client.login_as(world.staff_b)
    assert client.post_form(f"/signups/{waiting.id}/told").status_code == 403

    client.login_as(world.staff_a)
    response = client.post_form(f"/signups/{waiting.id}/told", {"next": f"/activities/{offer.id}/manage"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/activities/{offer.id}/manage")
    db.session.expire_all()
    assert db.session.get(Signup, waiting.id).told_at is not None
    assert "Skal have besked" not in client.get(f"/activities/{offer.id}/manage").get_data(as_text=True)
    assert services.to_tell(offer.id) == []


def test_someone_with_email_is_mailed_and_needs_no_to_do(world):
    offer = make_activity(world.inst_a, capacity=1)
    first = services.sign_up(make_youth(), offer)
    services.sign_up(make_youth(with_login=True, email="mailbar@example.org"), offer)
    promoted = services.cancel_signup(first, by_user=None)
    assert promoted[0].promoted_at is not None and services.to_tell(offer.id) == []
