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
