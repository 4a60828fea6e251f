"""Property-based fuzzing of the API from its own OpenAPI schema (schemathesis).

Whatever a client sends, valid or not, the answer is never a 5xx, conforms to the
schema, and every error has the contract's shape.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from support import keys
from tests.conftest import ACCOUNT

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    # The real WSGI handler closes database connections around each request; inside the
    # test's transaction that would close it. Django's test client disconnects the same.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def headers(db):
    # An account key, so that generated account_ids exercise the 403 path too.
    secret = keys.create_key(account_id=ACCOUNT, name="fuzz")[1]
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_never_fails_and_errors_have_the_contract_shape(case, headers):
    response = case.call(headers=headers)

    case.validate_response(
        response,
        checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
    )
    if response.status_code >= 400:
        body = response.json()
        assert body["event"] == "error"
        assert isinstance(body["error"], str) and body["error"]
        assert body["id"] is None or isinstance(body["id"], str)
