"""Every role against every endpoint: viewers read, raters also record QC, admins also import; nobody
changes or deletes anything; a user without a role sees no data and an anonymous client nothing."""

from __future__ import annotations

import io

import pytest

from ukbstudy.qc.models import QCDecision
from ukbstudy.qc.services import qc_decision_record

pytestmark = pytest.mark.django_db

READERS = ("viewer", "rater", "analyst", "admin")
RECORDERS = ("rater", "analyst", "admin")
EVERYONE = ("viewer", "rater", "analyst", "admin", "none", None)


def read_urls(cohort) -> list[str]:
    scan, subject = cohort["scans"][0], cohort["subjects"][0]
    return ["/api/subjects/", f"/api/subjects/{subject.eid}/", "/api/scans/", f"/api/scans/{scan.pk}/",
            f"/api/scans/{scan.pk}/qc/", "/api/qc-decisions/", "/api/measurements/"]


@pytest.mark.parametrize("role", EVERYONE)
def test_only_users_with_a_role_read_every_endpoint(client_as, cohort, role):
    client = client_as(role)
    for url in read_urls(cohort):
        response = client.get(url)
        if role in READERS:
            assert response.status_code == 200, url
        else:
            assert response.status_code in (401, 403), url
            assert "Location" not in response, url  # a JSON refusal, never a redirect to the login page


@pytest.mark.parametrize("role", EVERYONE)
def test_the_api_root_and_schema_need_a_login_only(client_as, role):
    for url in ("/api/", "/api/schema/"):
        response = client_as(role).get(url)
        if role is None:
            assert response.status_code in (401, 403) and "Location" not in response, url
        else:
            assert response.status_code == 200, url


@pytest.mark.parametrize("role", EVERYONE)
def test_only_raters_and_above_record_through_the_scan(client_as, cohort, role):
    scan = cohort["scans"][0]
    response = client_as(role).post(f"/api/scans/{scan.pk}/qc/", {"verdict": "pass"}, format="json")
    if role in RECORDERS:
        assert response.status_code == 201
    else:
        assert response.status_code in (401, 403) and "Location" not in response
    assert QCDecision.objects.filter(scan=scan).count() == (1 if role in RECORDERS else 0)


@pytest.mark.parametrize("role", EVERYONE)
def test_only_raters_and_above_record_through_the_decision_list(client_as, cohort, role):
    scan = cohort["scans"][0]
    response = client_as(role).post("/api/qc-decisions/", {"scan": scan.pk, "verdict": "pass"}, format="json")
    if role in RECORDERS:
        assert response.status_code == 201
    else:
        assert response.status_code in (401, 403) and "Location" not in response
    assert QCDecision.objects.filter(scan=scan).count() == (1 if role in RECORDERS else 0)


@pytest.mark.parametrize("role", EVERYONE)
def test_only_admins_import_a_qc_spreadsheet(client_as, users, cohort, role):
    csv = f"eid,verdict,rater\n{cohort['subjects'][0].eid},pass,rater-user\n".encode()
    upload = io.BytesIO(csv)
    upload.name = "qc.csv"
    response = client_as(role).post("/api/qc-decisions/import/", {"file": upload}, format="multipart")
    if role == "admin":
        assert response.status_code == 200
        assert response.json()["created"] == 1
    else:
        assert response.status_code in (401, 403) and "Location" not in response
    assert QCDecision.objects.count() == (1 if role == "admin" else 0)


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_nobody_changes_or_deletes_a_decision_through_the_api(client_as, users, cohort, method):
    decision = qc_decision_record(scan=cohort["scans"][0], rater=users["rater"], verdict="pass")
    url = f"/api/qc-decisions/{decision.pk}/"
    assert getattr(client_as("rater"), method)(url, {"verdict": "fail"}, format="json").status_code == 403
    assert getattr(client_as("admin"), method)(url, {"verdict": "fail"}, format="json").status_code == 405
    decision.refresh_from_db()
    assert decision.verdict == "pass" and QCDecision.objects.count() == 1


@pytest.mark.parametrize("url", ["/api/subjects/1000001/", "/api/measurements/"])
def test_read_only_endpoints_refuse_writes_even_from_an_admin(client_as, cohort, url):
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client_as("admin"), method)(url, {}, format="json").status_code == 405
