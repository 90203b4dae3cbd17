"""One iCal writer: the offer's feed and the personal feed write the same event for the same session."""
from __future__ import annotations

import re
from datetime import timedelta

from tests.factories import make_session
from youthclub.extensions import db
from youthclub.i18n import local_today


def _events(body: str) -> dict[str, str]:
    """VEVENTs by UID, unfolded, without DTSTAMP (the time of writing)."""
    body = body.replace("\r\n ", "")
    events = re.findall(r"BEGIN:VEVENT\r\n(.*?)END:VEVENT", body, re.S)
    out = {}
    for event in events:
        lines = [line for line in event.split("\r\n") if line and not line.startswith("DTSTAMP:")]
        uid = next(line for line in lines if line.startswith("UID:"))
        out[uid] = "\r\n".join(lines)
    return out


def test_the_offer_feed_and_the_personal_feed_agree(client, world):
    moved = make_session(world.activity_a, day=local_today() + timedelta(days=4))
    moved.moved_from = moved.starts_at - timedelta(hours=1)
    db.session.commit()
    client.login_as(world.youth_user)  # signed up for activity_a in the world
    client.post_form("/me/calendar")
    db.session.expire_all()
    personal = client.get(f"/calendar/{world.youth.calendar_token}.ics").get_data(as_text=True)
    public = client.get(f"/activities/{world.activity_a.id}/calendar.ics").get_data(as_text=True)
    mine, theirs = _events(personal), _events(public)
    assert mine and set(mine) <= set(theirs)
    for uid, event in mine.items():
        assert event == theirs[uid]
    assert "SEQUENCE:1" in mine[f"UID:session-{moved.id}@localhost"]
    for body in (personal, public):
        assert "PRODID:-//Hotspot Nørrebro//youthclub//DA" in body
