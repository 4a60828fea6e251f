"""The OpenAPI schema and the docs page describe the contract."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def schema() -> dict:
    response = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_schema_has_both_calls_with_their_shapes():
    paths = schema()["paths"]

    create = paths["/api/v1/create_support_ticket"]["post"]
    assert create["operationId"] == "create_support_ticket"
    assert set(create["responses"]) >= {"200", "400", "401", "403", "409", "413", "429"}
    listing = paths["/api/v1/get_support_tickets"]
    assert set(listing) == {"get", "post"}


def test_schema_describes_request_fields_and_key_auth():
    document = schema()
    components = document["components"]
    request = components["schemas"]["CreateTicket"]
    assert set(request["required"]) == {"email_address", "subject", "body"}
    assert set(request["properties"]) == {
        "id", "username", "email_address", "subject", "body", "tags", "account_id",
        "location", "info",
    }  # fmt: skip
    create = document["paths"]["/api/v1/create_support_ticket"]["post"]
    assert create["security"] == [{"apiKeyBasic": []}, {"apiKeyBearer": []}]
    assert components["securitySchemes"]["apiKeyBasic"]["scheme"] == "basic"
    assert components["securitySchemes"]["apiKeyBearer"]["scheme"] == "bearer"
    assert set(components["schemas"]["Error"]["properties"]) == {"event", "id", "error", "fields"}


def test_docs_page_renders_without_external_assets():
    response = Client().get("/api/v1/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn.jsdelivr" not in html
