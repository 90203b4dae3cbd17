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


@pytest.fixture
def young_child(world):
    from youthclub.i18n import local_today

    world.youth.birth_year = local_today().year - 12
    db.session.commit()
    return world.youth.id


def test_the_limits_hold_when_requests_race(app, young_child, live_server):
    """Eight requests at once from one child, each to a new address: the count-then-write must not
    let them all through (on PostgreSQL nothing serialises them unless the child's row is locked)."""
    import re
    import threading

    import requests

    from tests.factories import PASSWORD
    from youthclub.accounts.models import ConsentRecord, ConsentStatus
    base = live_server.url
    http = requests.Session()
    csrf = re.compile(r'name="(?:g-)?csrf_token"[^>]*value="([^"]+)"')
    token = csrf.search(http.get(f"{base}/login", timeout=30).text).group(1)
    assert http.post(f"{base}/login", data={"email": "ung@example.org", "password": PASSWORD, "csrf_token": token},
                     allow_redirects=False, timeout=30).status_code == 302
    token = csrf.search(http.get(f"{base}/me/consents", timeout=30).text).group(1)
    n = 8
    barrier = threading.Barrier(n)

    def ask(i):
        barrier.wait()
        http.post(f"{base}/me/consents", data={"g-kind": "photos", "g-guardian_email": f"forælder{i}@example.org",
                                               "g-csrf_token": token, "csrf_token": token}, timeout=60)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    db.session.expire_all()
    waiting = db.session.scalar(select(func.count(ConsentRecord.id)).where(
        ConsentRecord.youth_id == young_child, ConsentRecord.status == ConsentStatus.PENDING))
    assert waiting <= youth_services.MAX_PENDING_GUARDIANS, f"{waiting} guardians waiting after a race"
    assert _mails() <= youth_services.MAX_PENDING_GUARDIANS
