"""Random and hostile input into every form, every query string and every API endpoint, as every role.

Routes come from the URL map, so routes added later are fuzzed too. Nothing may give a
500, and a request that is refused (4xx) must not have written anything.
"""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from .conftest import allowed_role, route_url
from .fuzzing import (
    COMMON_FIELDS,
    FUZZ_SETTINGS,
    RAW_JSON,
    SWEEP,
    as_role,
    field_names,
    hostile_json,
    hostile_text,
    roles,
    table_counts,
)

SKIP = {"HEAD", "OPTIONS"}


def _rules(api: bool, methods: set[str]):
    from tests.conftest import TestConfig
    from youthclub import create_app

    app = create_app(TestConfig)
    cases = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith("/api/") != api:
            continue
        for method in sorted((rule.methods - SKIP) & methods):
            cases.append(pytest.param(rule.rule, rule.endpoint, method, id=f"{method} {rule.rule}"))
    return cases


def _werkzeug_rule(app, rule, endpoint):
    return next(r for r in app.url_map.iter_rules(endpoint) if r.rule == rule)


def _check(response, before, after, what):
    assert response.status_code < 500, f"{what}: {response.status_code}"
    if response.status_code >= 400:
        changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
        assert not changed, f"{what}: refused with {response.status_code} but wrote {changed}"


def _form_fields(app, client, world, url, endpoint, methods):
    """The names of the fields on the form's own page (as a role that may see it), plus common ones."""
    names = set(COMMON_FIELDS)
    role = allowed_role(endpoint)
    if "GET" in methods and role is not None:
        as_role(client, world, role)
        response = client.get(url)
        # only pages have forms: a download (the XLSX export) is not text to search
        if response.status_code == 200 and response.mimetype == "text/html":
            names.update(field_names(response.get_data(as_text=True)))
    return sorted(names)


@pytest.mark.parametrize("rule,endpoint,method", _rules(api=False, methods={"POST", "PUT", "PATCH", "DELETE"}))
def test_forms_survive_hostile_input(app, client, world, rule, endpoint, method):
    werkzeug_rule = _werkzeug_rule(app, rule, endpoint)
    url = route_url(app, werkzeug_rule, world)
    names = _form_fields(app, client, world, url, endpoint, werkzeug_rule.methods)
    # first a deterministic sweep: every field at once gets each of the nastiest values, as a role that may post
    allowed = allowed_role(endpoint, method) or "anonymous"
    for value in SWEEP:
        token = as_role(client, world, allowed)
        data = {name: value for name in names}
        data["csrf_token"] = token
        before = table_counts()
        response = client.open(url, method=method, data=data)
        _check(response, before, table_counts(), f"{method} {url} as {allowed} with every field = {value!r}")

    # then a random search over roles, field subsets and values
    values = st.one_of(
        st.fixed_dictionaries({name: hostile_text for name in names}),
        st.dictionaries(st.sampled_from(names), hostile_text, max_size=len(names)),
        st.dictionaries(hostile_text, hostile_text, max_size=3),
    )

    @FUZZ_SETTINGS
    @given(role=roles, data=values)
    def fuzz(role, data):
        data = dict(data, csrf_token=as_role(client, world, role))
        before = table_counts()
        response = client.open(url, method=method, data=data)
        _check(response, before, table_counts(), f"{method} {url} as {role} with {data!r}")

    fuzz()


@pytest.mark.parametrize("rule,endpoint,method", _rules(api=False, methods={"GET"}))
def test_query_strings_survive_hostile_input(app, client, world, rule, endpoint, method):
    werkzeug_rule = _werkzeug_rule(app, rule, endpoint)
    url = route_url(app, werkzeug_rule, world)
    names = _form_fields(app, client, world, url, endpoint, werkzeug_rule.methods)

    @FUZZ_SETTINGS
    @given(role=roles, args=st.dictionaries(st.sampled_from(names), hostile_text, max_size=4))
    def fuzz(role, args):
        as_role(client, world, role)
        before = table_counts()
        response = client.get(url, query_string=args)
        _check(response, before, table_counts(), f"GET {url} as {role} with {args!r}")

    fuzz()


@pytest.mark.parametrize("rule,endpoint,method", _rules(api=True, methods={"GET", "POST", "PUT", "PATCH", "DELETE"}))
def test_api_survives_hostile_input(app, client, world, rule, endpoint, method):
    werkzeug_rule = _werkzeug_rule(app, rule, endpoint)
    url = route_url(app, werkzeug_rule, world)
    body = st.one_of(hostile_json, st.dictionaries(st.sampled_from(COMMON_FIELDS), hostile_json, max_size=5))
    raw = st.sampled_from(RAW_JSON)

    @FUZZ_SETTINGS
    @given(role=roles, payload=st.one_of(body.map(lambda b: ("json", b)), raw.map(lambda r: ("raw", r))),
           args=st.dictionaries(st.sampled_from(COMMON_FIELDS), hostile_text, max_size=3))
    def fuzz(role, payload, args):
        headers = {"X-CSRFToken": as_role(client, world, role)}
        kind, value = payload
        kwargs = {"json": value} if kind == "json" else {"data": value, "content_type": "application/json"}
        before = table_counts()
        response = client.open(url, method=method, headers=headers, query_string=args, **kwargs)
        what = f"{method} {url} as {role} with {payload!r}"
        _check(response, before, table_counts(), what)
        if response.status_code != 204:
            assert response.is_json, f"{what}: not JSON ({response.mimetype})"

    fuzz()


def test_the_fuzzers_csrf_tokens_are_accepted(client, world):
    """Otherwise every fuzzed post would be a harmless 400 and the fuzzing would prove nothing."""
    token = as_role(client, world, "admin")
    response = client.post("/admin/users/new", data={
        "csrf_token": token, "name": "Fuzz", "email": "fuzz@example.org", "password": "lang nok adgangskode",
        "role": "coordinator"})
    assert response.status_code == 302
    from youthclub.accounts.models import User
    from youthclub.extensions import db

    assert db.session.scalar(db.select(User).where(User.email == "fuzz@example.org")) is not None
    response = client.post("/admin/users/new", data={
        "csrf_token": token + "x", "name": "Fuzz", "email": "fuzz2@example.org", "password": "lang nok adgangskode",
        "role": "coordinator"})
    assert response.status_code == 400  # and a wrong token is refused, so the check is live
