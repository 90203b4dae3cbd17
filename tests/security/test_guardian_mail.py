"""Guardian-consent mail cannot be used to mail anyone, without end, with text the sender chooses."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from youthclub.accounts import youth_services
from youthclub.accounts.models import ConsentKind
from youthclub.accounts.services import AccountError
from youthclub.extensions import db
from youthclub.mail.models import OutboxMessage


def _ask(youth, email, kind=ConsentKind.PHOTOS):
    return youth_services.request_guardian_consent(youth, kind, email)


def _mails(to=None) -> int:
    stmt = select(func.count(OutboxMessage.id))
    if to:
        stmt = stmt.where(OutboxMessage.to_address == to)
    return db.session.scalar(stmt)


def test_a_child_can_have_at_most_two_guardians_waiting(world):
    _ask(world.youth, "mor@example.org")
    _ask(world.youth, "far@example.org", ConsentKind.NEWSLETTER)
    with pytest.raises(AccountError) as refused:
        _ask(world.youth, "tredje@example.org")
    assert refused.value.code == "too_many_guardians"
    _ask(world.youth, "mor@example.org", ConsentKind.NEWSLETTER)  # one already waiting may be asked again
    assert _mails() == 3


def test_requests_are_limited_per_account(world):
    # two guardians, asked in turn: the child's limit comes before either address's
    addresses = ["mor@example.org", "far@example.org"] * youth_services.GUARDIAN_MAILS_PER_CHILD
    for email in addresses[:youth_services.GUARDIAN_MAILS_PER_CHILD]:
        _ask(world.youth, email)
    with pytest.raises(AccountError) as refused:
        _ask(world.youth, addresses[youth_services.GUARDIAN_MAILS_PER_CHILD])
    assert refused.value.code == "rate_limited" and refused.value.status == 429


def test_requests_are_limited_per_address_across_children(world):
    from tests.factories import make_youth

    for _ in range(youth_services.GUARDIAN_MAILS_PER_ADDRESS):
        _ask(make_youth(), "target@example.org")
    with pytest.raises(AccountError) as refused:
        _ask(make_youth(), "target@example.org")
    assert refused.value.code == "rate_limited"
    assert _mails("target@example.org") == youth_services.GUARDIAN_MAILS_PER_ADDRESS


def test_the_subject_holds_no_text_the_young_person_chose(world):
    world.youth.first_name = "KØB BILLIGT NU www.spam.example"
    _ask(world.youth, "mor@example.org")
    message = db.session.scalar(select(OutboxMessage))
    assert "spam" not in message.subject.lower() and "KØB" not in message.subject
    assert message.subject == "Samtykke til et ekstra tilbud hos Hotspot Nørrebro"


def test_a_refusal_reaches_the_page_as_an_error(client, world):
    client.login_as(world.youth_user)
    for email in ("a@example.org", "b@example.org"):
        client.post_form("/me/consents", {"g-kind": "photos", "g-guardian_email": email})
    page = client.post_form("/me/consents", {"g-kind": "photos", "g-guardian_email": "c@example.org"})
    assert page.status_code == 200 and "højst vente på svar fra 2 forældre" in page.get_data(as_text=True)
    assert _mails() == 2
