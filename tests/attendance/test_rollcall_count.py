"""The roll-call count: signed-up young people present out of those signed up, drop-ins apart."""
from __future__ import annotations

import re

from sqlalchemy import select

from tests.factories import make_youth, sign_up
from youthclub.extensions import db
from youthclub.models import Attendance


def _count(page: str) -> str:
    match = re.search(r'<p class="rollcall-count">(.*?)</p>', page, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def test_the_count_is_signed_up_present_of_signed_up_and_drop_ins_apart(client, world):
    carl = make_youth(first_name="Carl")
    sign_up(carl, world.activity_a)
    visitor = make_youth(first_name="Zeynep")
    visitor.registered_by_institution_id = world.inst_a.id
    db.session.commit()
    client.login_as(world.staff_a)
    url = f"/sessions/{world.session_a.id}/rollcall"
    client.post_form(url, {"action": "present", "youth_id": world.youth.id})
    client.post_form(url, {"action": "present", "youth_id": carl.id})
    client.post_form(url, {"action": "present", "youth_id": visitor.id})
    # two signed up, both here, and a drop-in: not "3 af 2"
    assert _count(client.get(url).get_data(as_text=True)) == "2 af 2 tilmeldte er her · 1 drop-in"
    # a correction that removes a signed-up young person lowers the count
    carl_here = db.session.scalar(select(Attendance).where(Attendance.youth_id == carl.id))
    client.post_form(url, {"action": "absent", "attendance_id": carl_here.id})
    assert _count(client.get(url).get_data(as_text=True)) == "1 af 2 tilmeldte er her · 1 drop-in"
    drop_in = db.session.scalar(select(Attendance).where(Attendance.youth_id == visitor.id))
    client.post_form(url, {"action": "absent", "attendance_id": drop_in.id})
    assert _count(client.get(url).get_data(as_text=True)) == "1 af 2 tilmeldte er her"
