"""Property-based run of the whole API against its own OpenAPI schema (schemathesis): no request the
schema allows, or nearly allows, makes the server fail (5xx).

Schemathesis loads the schema from /api/schema/ and calls the Django WSGI application in-process (same
test database, no server), authenticated as an admin with a token so every operation is reachable. A
few participants, scans and decisions exist so that generated ids sometimes hit real rows.
"""

from __future__ import annotations

import os

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from rest_framework.authtoken.models import Token
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import make_scan
from ukbstudy.accounts.services import user_create
from ukbstudy.qc.services import qc_decision_record

from .conftest import PASSWORD

# Examples per operation: the default keeps the run well under a minute; raise it for a longer hunt.
MAX_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", 25))


@pytest.fixture
def keep_the_test_connection():
    """Requests made straight to the WSGI handler would close the database connection when they finish
    (it is inside the test's transaction, so it looks unusable); Django's own test client prevents that
    the same way."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def admin_headers(db, cohort) -> dict:
    """Token authentication of an admin who has decided one scan."""
    admin = user_create(username="schema-admin", password=PASSWORD, role="admin")
    qc_decision_record(scan=make_scan(cohort["subjects"][0], instance=3), rater=admin, verdict="pass")
    return {"Authorization": f"Token {Token.objects.create(user=admin).key}"}


@pytest.fixture
def api_schema(settings, admin_headers, keep_the_test_connection):
    settings.ALLOWED_HOSTS = ["localhost"]  # schemathesis's WSGI client calls the application as localhost
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), headers=admin_headers)


schema = schemathesis.pytest.from_fixture("api_schema")
# No 5xx, no status code the schema does not list (ukbstudy.api.schema documents the error answers), and
# every answer matches its documented body and content type.
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]


@schema.parametrize()
# derandomize: the same examples on every run, so a test run is repeatable; API_FUZZ_EXAMPLES=300 explores
# further by hand.
@hypothesis.settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                     suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture,
                                            hypothesis.HealthCheck.too_slow, hypothesis.HealthCheck.filter_too_much])
def test_no_request_makes_the_server_fail(case, admin_headers):
    case.call_and_validate(headers=admin_headers, checks=CHECKS)
