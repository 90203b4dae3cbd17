"""The demo logins keep working for a newcomer: seed-demo prints the authenticator key and `mfa-code`."""
from __future__ import annotations

from urllib.parse import urlsplit

import pyotp

from tests import second_factor
from youthclub.demo import data

from .test_seed_demo import seed

KEY = " ".join(data.DEMO_TOTP_SECRET[i:i + 4] for i in range(0, 32, 4))


def _mfa_code(app, email, env=None):
    return app.test_cli_runner().invoke(args=["mfa-code", email], env=env or {})


def test_seed_demo_prints_what_a_newcomer_needs(app):
    output = seed(app)
    assert KEY in output and "youthclub mfa-code admin@hotspot.example" in output
    assert "admin@hotspot.example, koordinator@hotspot.example:" in output
    assert KEY in seed(app, "--if-empty")  # and again when the demo is already there


def test_the_printed_code_logs_the_demo_admin_in(app, client):
    seed(app)
    response = client.post_form("/login", {"email": "admin@hotspot.example", "password": data.DEFAULT_PASSWORD})
    assert urlsplit(response.location).path == second_factor.CHALLENGE
    result = _mfa_code(app, "admin@hotspot.example")
    assert result.exit_code == 0 and pyotp.TOTP(data.DEMO_TOTP_SECRET).verify(result.output.strip(), valid_window=1)
    response = client.post_form(second_factor.CHALLENGE, {"code": result.output.strip()})
    assert response.status_code == 302 and client.get("/admin/users").status_code == 200
    # the next code it prints is a fresh one (the one just used is not accepted again)
    assert _mfa_code(app, "admin@hotspot.example").output.strip() != result.output.strip()


def test_staff_get_the_demo_key_where_their_role_needs_it(app):
    app.config["MFA_REQUIRED_ROLES"] = ["admin", "coordinator", "staff", "institution_admin"]
    output = seed(app)
    assert "instleder@hotspot.example" in output and "personale@hotspot.example" in output


def test_mfa_code_only_for_demo_logins_and_never_in_production(app):
    seed(app)
    production = _mfa_code(app, "admin@hotspot.example", env={"YOUTHCLUB_ENV": "production"})
    assert production.exit_code != 0 and "never in production" in production.output
    other = _mfa_code(app, "someone@example.org")
    assert other.exit_code != 0 and "demo logins" in other.output
    youth = _mfa_code(app, "ung@hotspot.example")
    assert youth.exit_code != 0


def test_seed_demo_in_production_publishes_no_key(app, monkeypatch):
    monkeypatch.setenv("YOUTHCLUB_ENV", "production")
    output = seed(app, "--password", "et-helt-eget-demo-ord")
    assert KEY not in output and "mfa-code" not in output
    assert second_factor.factor_of("admin@hotspot.example") is None  # set up at the first log-in instead
