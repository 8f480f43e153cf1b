"""Interactive docs at /api/docs/ (Swagger UI from this site's static files, under the strict CSP), linked from
the browsable API root; ``page_size`` honoured up to a maximum."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

from tests.factories import make_subject
from ukbstudy.api.pagination import MAX_PAGE_SIZE, StudyPagination

pytestmark = pytest.mark.django_db


def policy_of(response) -> dict:
    return dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))


def test_the_docs_page_renders_swagger_ui_from_local_static_files(client_as):
    response = client_as("viewer").get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    static = [url for url in assets if url.startswith(settings.STATIC_URL)]
    assert {url.rsplit("/", 1)[-1] for url in static} == {
        "swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png"}
    for url in static:  # each one a file of the static files (drf-spectacular-sidecar), not a CDN's
        assert finders.find(url.removeprefix(settings.STATIC_URL)), url
    assert not [url for url in assets if "//" in url], assets
    assert "<style" not in html and re.search(r"<script>", html) is None  # nothing inline for the CSP to refuse


def test_the_docs_start_up_script_is_a_file_of_its_own_that_loads_the_schema(client_as):
    page = client_as("viewer").get("/api/docs/").content.decode()
    script_url = re.search(r'<script src="(/api/docs/\?[^"]*script[^"]*)"', page).group(1)
    script = client_as("viewer").get(script_url.replace("&amp;", "&"))
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    body = script.content.decode()
    assert 'url: "/api/schema/"' in body
    assert '"validatorUrl": null' in body  # no call to the public validator service


def test_the_docs_page_keeps_the_strict_content_security_policy(client_as):
    policy = policy_of(client_as("viewer").get("/api/docs/"))
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'self'"
    assert "unsafe" not in policy["style-src-elem"]
    assert policy.get("connect-src", policy["default-src"]) == "'self'"  # the schema is fetched from here only


def test_someone_not_logged_in_is_sent_to_the_login_page_from_the_docs(client_as):
    response = client_as(None).get("/api/docs/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_browsable_api_root_links_to_the_docs(client_as):
    response = client_as("viewer").get("/api/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert 'href="/api/docs/"' in response.content.decode()


@pytest.fixture
def eleven_subjects(db):
    return [make_subject(eid=5_000_000 + index) for index in range(11)]


def test_page_size_is_honoured(client_as, eleven_subjects):
    page = client_as("viewer").get("/api/subjects/?page_size=4").json()
    assert page["count"] == 11 and len(page["results"]) == 4
    assert "page_size=4" in page["next"]
    assert len(client_as("viewer").get("/api/subjects/").json()["results"]) == 11  # the default, 100


def test_page_size_is_capped_at_the_maximum(client_as, eleven_subjects, monkeypatch):
    assert StudyPagination.max_page_size == MAX_PAGE_SIZE == 1000
    monkeypatch.setattr(StudyPagination, "max_page_size", 5)
    assert len(client_as("viewer").get("/api/subjects/?page_size=10000").json()["results"]) == 5


def test_a_page_size_that_is_no_positive_number_gives_the_default_page(client_as, eleven_subjects):
    for value in ("0", "-3", "many"):
        response = client_as("viewer").get(f"/api/subjects/?page_size={value}")
        assert response.status_code == 200 and len(response.json()["results"]) == 11, value


def test_the_schema_documents_page_size_on_every_numbered_list(client_as):
    schema = client_as("viewer").get("/api/schema/?format=json").json()
    for path in ("/api/subjects/", "/api/scans/", "/api/qc-decisions/", "/api/measurements/"):
        names = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
        assert "page_size" in names, path
