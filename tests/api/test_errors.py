"""Bad input is a 400 that says what is wrong (never a silent 200), every error answer is documented in the
schema, and an /api/ path no endpoint matches is a JSON 404."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

CHOICE_FILTERS = [
    ("/api/measurements/", "quantity"), ("/api/measurements/", "method"), ("/api/measurements/", "model_version"),
    ("/api/scans/", "instance"), ("/api/scans/", "qc_status"), ("/api/scans/", "processing_state"),
    ("/api/subjects/", "sex"), ("/api/qc-decisions/", "verdict"), ("/api/qc-decisions/", "reason"),
]


@pytest.mark.parametrize(("url", "name"), CHOICE_FILTERS)
def test_an_empty_choice_filter_is_a_400_naming_the_parameter(client_as, url, name):
    response = client_as("viewer").get(f"{url}?{name}=")
    assert response.status_code == 400
    assert "No value given" in response.json()[name][0]


@pytest.mark.parametrize(("url", "name"), CHOICE_FILTERS)
def test_an_unknown_choice_filter_is_a_400_naming_the_parameter(client_as, url, name):
    response = client_as("viewer").get(f"{url}?{name}=nope")
    assert response.status_code == 400 and name in response.json()


def test_a_valid_choice_filter_still_filters(client_as, cohort):
    assert client_as("viewer").get("/api/subjects/?sex=F").json()["count"] == 1
    assert client_as("viewer").get("/api/scans/?qc_status=unreviewed").json()["count"] == 2


def test_an_unknown_api_path_is_a_json_404_for_any_method(client_as):
    for response in (client_as("viewer").get("/api/scans/abc/"), client_as(None).post("/api/nothing-here/")):
        assert response.status_code == 404 and response.json() == {"detail": "Not found."}


@pytest.fixture(scope="module")
def schema(django_db_blocker, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("schema") / "schema.json"
    with django_db_blocker.unblock():
        call_command("spectacular", "--format", "openapi-json", "--file", str(out))
    return json.loads(out.read_text())


def operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def test_every_operation_that_takes_input_documents_its_400(schema):
    for name, operation in operations(schema):
        query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        if "requestBody" in operation or query - {"page", "cursor", "page_size"}:
            assert "400" in operation["responses"], name


def test_the_filter_400_and_the_refusals_are_documented(schema):
    listing = schema["paths"]["/api/measurements/"]["get"]["responses"]
    assert {"200", "400", "403", "404"} <= set(listing)
    assert listing["400"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/FieldErrors"
    token = schema["paths"]["/api/auth/token/"]["post"]["responses"]
    assert {"200", "400", "429"} <= set(token) and "403" not in token  # it needs no credentials
    assert "400" not in schema["paths"]["/api/scans/{id}/"]["get"]["responses"]  # nothing to validate there
