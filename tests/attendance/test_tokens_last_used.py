"""A personal API token remembers when it was last used."""
from youthclub.extensions import db


def test_bearer_request_sets_last_used(client, world):
    from youthclub.tokens.services import create_token

    token, secret = create_token(world.staff_a, "scanner")
    db.session.commit()
    assert token.last_used_at is None
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    db.session.refresh(token)
    assert token.last_used_at is not None


def test_account_page_offers_api_keys_to_staff_not_to_young_people(client, world):
    from youthclub.tokens.services import create_token

    client.login_as(world.staff_a)
    assert "API-nøgler" in client.get("/account").get_data(as_text=True)
    client.login_as(world.youth_user)
    assert "API-nøgler" not in client.get("/account").get_data(as_text=True)
    # a young person who has a key anyway can still see and revoke it
    create_token(world.youth_user, "gammel")
    db.session.commit()
    page = client.get("/account").get_data(as_text=True)
    assert "API-nøgler" in page and "gammel" in page and "Tilbagekald" in page
