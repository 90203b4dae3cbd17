"""schemathesis against /api/v1/openapi.json: no 500s, and every response matches the document.

Every operation in the document is tried (the document grows as domains add endpoints),
as an admin with a personal API token and as nobody at all.
"""
from __future__ import annotations

import hashlib
import secrets

import pytest
import schemathesis
from hypothesis import given
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from youthclub.accounts.models import ApiToken
from youthclub.extensions import db

from .fuzzing import FUZZ_SETTINGS

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


def _operations():
    from tests.conftest import TestConfig
    from youthclub import create_app

    app = create_app(TestConfig)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return [pytest.param(op.ok().label, id=op.ok().label) for op in schema.get_all_operations()]


@pytest.fixture
def bearer(world):
    secret = "yc_" + secrets.token_urlsafe(24)
    db.session.add(ApiToken(user_id=world.admin.id, name="schemathesis", prefix=secret[:8],
                            token_hash=hashlib.sha256(secret.encode()).hexdigest()))
    db.session.commit()
    return secret


def test_the_document_is_valid_openapi(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    schema = schemathesis.openapi.from_dict(document)
    assert list(schema.get_all_operations())


@pytest.mark.parametrize("label", _operations())
def test_api_conforms_to_its_document(app, world, bearer, label):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema.find_operation_by_label(label)
    assert operation is not None, label

    @FUZZ_SETTINGS
    @given(case=operation.as_strategy())
    def run(case):
        for headers in ({"Authorization": f"Bearer {bearer}"}, {}):
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS, headers=headers)

    run()
