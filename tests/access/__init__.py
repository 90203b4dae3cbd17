"""The route × role access matrix, one module per domain.

Each module defines ``RULES``: endpoint -> an expectation. An expectation is either a
dict role -> outcome (used for every method of the route), or a dict with the keys
"GET"/"POST"/... holding such dicts, plus an optional "params" callable(world) -> dict
of URL values (by default URL values are taken from ``DEFAULT_PARAMS``, which point at
institution A's objects, so staff of institution B are "guessing ids").

Outcomes: OK (allowed: not 401/403/404 and not sent to log in), LOGIN (anonymous is
sent to log in, or 401 under /api/), DENY (403 or 404).
"""
from __future__ import annotations

import importlib
import pkgutil

OK = "ok"
LOGIN = "login"
DENY = "deny"

ROLES = ("anonymous", "youth", "staff_a", "staff_b", "inst_admin_a", "coordinator", "admin")


def roles(default, **overrides) -> dict:
    table = {role: default for role in ROLES}
    table.update(overrides)
    return table


def public() -> dict:
    return roles(OK)


def logged_in() -> dict:
    return roles(OK, anonymous=LOGIN)


def admin_only() -> dict:
    return roles(DENY, anonymous=LOGIN, admin=OK)


def coordinator_only() -> dict:
    return roles(DENY, anonymous=LOGIN, coordinator=OK, admin=OK)


def institution_a() -> dict:
    """Staff of institution A and programme-wide roles."""
    return roles(DENY, anonymous=LOGIN, staff_a=OK, inst_admin_a=OK, coordinator=OK, admin=OK)


def names_of_institution_a() -> dict:
    """Pages that name young people of institution A: its staff, and admins for support (audited).

    Coordinators work with numbers only; the privacy page promises children that.
    """
    return roles(DENY, anonymous=LOGIN, staff_a=OK, inst_admin_a=OK, admin=OK)


def door_of_institution_a() -> dict:
    """The door tools of institution A (scanner, name search, check-in): its staff only."""
    return roles(DENY, anonymous=LOGIN, staff_a=OK, inst_admin_a=OK)


def institution_a_admin() -> dict:
    return roles(DENY, anonymous=LOGIN, inst_admin_a=OK, coordinator=OK, admin=OK)


def youth_only() -> dict:
    return roles(DENY, anonymous=LOGIN, youth=OK)


def DEFAULT_PARAMS(w) -> dict:
    return {
        "institution_id": w.inst_a.id,
        "activity_id": w.activity_a.id,
        "session_id": w.session_a.id,
        "user_id": w.staff_a.id,
        "membership_id": w.staff_a.memberships[0].id,
        "youth_id": w.youth.id,
        "signup_id": w.signup.id,
        "district_id": w.district_a.id,
        "plan_id": w.plan.id,
        "initiative_id": w.initiative.id,
    }


def load_rules() -> dict:
    rules: dict = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        overlap = rules.keys() & module.RULES.keys()
        assert not overlap, f"endpoints specified twice: {overlap}"
        rules.update(module.RULES)
    return rules
