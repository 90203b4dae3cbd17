"""The accessibility statement public-sector sites must publish: /was and a link in every page's footer."""
from __future__ import annotations

import pytest

FOOTER_LINK = '<a href="/was">Tilgængelighedserklæring</a>'


@pytest.mark.parametrize("path", ["/login", "/activities", "/privacy", "/was"])
def test_every_page_links_the_statement_in_its_footer(client, world, path):
    html = client.get(path).get_data(as_text=True)
    assert FOOTER_LINK in html.split("<footer", 1)[1]


def test_the_footer_link_is_there_for_staff_too(client, world):
    client.login_as(world.staff_a)
    html = client.get(f"/institutions/{world.inst_a.id}/activities").get_data(as_text=True)
    assert FOOTER_LINK in html


def test_without_an_address_was_says_where_the_statement_will_be(client, world):
    response = client.get("/was")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Tilgængelighedserklæring</h1>" in html and "Digitaliseringsstyrelsens værktøj WAS" in html
    client.post_form("/language", {"lang": "en", "next": "/was"})
    html = client.get("/was").get_data(as_text=True)
    assert "<h1>Accessibility statement</h1>" in html and "Agency for Digital Government" in html


def test_with_an_address_was_leads_to_the_published_statement(app, client, world):
    app.config["ACCESSIBILITY_STATEMENT_URL"] = "https://www.was.digst.dk/hotspot-norrebro-kk-dk"
    response = client.get("/was")
    assert response.status_code == 302
    assert response.headers["Location"] == "https://www.was.digst.dk/hotspot-norrebro-kk-dk"


def test_an_address_that_is_not_https_is_not_followed(app, client, world):
    app.config["ACCESSIBILITY_STATEMENT_URL"] = "javascript:alert(1)"
    assert client.get("/was").status_code == 200
