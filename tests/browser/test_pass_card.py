"""Staff register a young person without e-mail and print the pass card: QR, the claim code, where to claim it, what it is for."""
from __future__ import annotations

import re

from tests.browser.conftest import assert_accessible, login
from youthclub.i18n import local_today


def test_printed_pass_card_carries_the_claim_code_and_what_the_pass_is_for(laptop, world):
    login(laptop, world.staff_a.email)
    laptop.goto(f"/institutions/{world.inst_a.id}/youths/new")
    laptop.fill("input[name=first_name]", "Omar")
    laptop.select_option("select[name=birth_month]", "3")
    laptop.select_option("select[name=birth_year]", str(local_today().year - 12))
    laptop.select_option("select[name=home_district_id]", str(world.district_a.id))
    laptop.locator("main form button[type=submit]").last.click()
    code = laptop.locator(".claim-code .code strong").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", code)
    laptop.get_by_role("button", name="Udskriv pas med koden").click()
    card = laptop.locator(".pass-card")
    text = card.inner_text()
    assert "Omar" in text and code in text and "/claim" in text
    assert "Vis QR-koden ved døren" in text and "Mister du det" in text
    assert card.locator("svg").count() == 1
    assert_accessible(laptop)
    # a made-up code is never printed
    youth_url = laptop.url
    forged = laptop.evaluate(
        """async (url) => {
            const token = document.querySelector('input[name=csrf_token]').value;
            const body = new URLSearchParams({csrf_token: token, code: 'AAAA-BBBB-CCCC'});
            const r = await fetch(url, {method: 'POST', body});
            return await r.text();
        }""",
        youth_url,
    )
    assert "AAAA-BBBB-CCCC" not in forged and "Vis QR-koden ved døren" in forged
