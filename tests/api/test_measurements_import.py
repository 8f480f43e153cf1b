"""POST /api/measurements/import/: admins import values a lab already has; the list filters by their label."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ukbstudy.measurements.models import Measurement
from ukbstudy.measurements.services import measurement_record
from ukbstudy.subjects.models import ImportBatch

pytestmark = pytest.mark.django_db

URL = "/api/measurements/import/"
GOOD = (b"eid,instance,quantity,method,value\n"
        b"1000001,2,liver_ff,imported,4.5\n"
        b"1000002,2,liver_ff,imported,9\n"
        b"1000009,2,liver_ff,imported,3\n")


def upload(content: bytes, name: str = "values.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_an_admin_imports_a_file_and_gets_the_report(client_as, users, cohort):
    client = client_as("admin")
    response = client.post(URL, {"file": upload(GOOD)}, format="multipart")
    assert response.status_code == 201
    batch = ImportBatch.objects.get(kind=ImportBatch.Kind.MEASUREMENTS)
    assert response.json() == {"rows": 3, "created": 2, "updated": 0, "unchanged": 0, "withdrawn_skipped": 1,
                               "batch_id": batch.pk}
    assert (batch.source, batch.created_by) == ("values.csv", users["admin"])
    assert Measurement.objects.get(subject__eid=1000001).details == {"file": "values.csv", "line": 2}


def test_importing_the_same_file_again_answers_200_and_writes_nothing(client_as, cohort):
    client = client_as("admin")
    client.post(URL, {"file": upload(GOOD)}, format="multipart")
    response = client.post(URL, {"file": upload(GOOD)}, format="multipart")
    assert response.status_code == 200
    assert response.json() == {"rows": 3, "created": 0, "updated": 0, "unchanged": 2, "withdrawn_skipped": 1,
                               "batch_id": None}
    assert ImportBatch.objects.filter(kind=ImportBatch.Kind.MEASUREMENTS).count() == 1


@pytest.mark.parametrize("role", ["viewer", "rater", "analyst"])
def test_only_an_admin_may_import(client_as, cohort, role):
    response = client_as(role).post(URL, {"file": upload(GOOD)}, format="multipart")
    assert response.status_code == 403
    assert not Measurement.all_objects.exists()


def test_an_anonymous_import_is_refused(client_as, cohort):
    assert client_as(None).post(URL, {"file": upload(GOOD)}, format="multipart").status_code in (401, 403)


def test_a_bad_file_answers_400_with_every_problem(client_as, cohort):
    bad = b"eid,instance,quantity,method,value\n1000001,4,liver_ff,network,150\n1000005,2,liver_ff,imported,1\n"
    response = client_as("admin").post(URL, {"file": upload(bad)}, format="multipart")
    assert response.status_code == 400
    errors = response.json()["file"]
    assert [error.split(":")[0] for error in errors] == [
        "line 2, column instance", "line 2, column method", "line 2, column value", "line 3, column eid"]
    assert not Measurement.all_objects.exists()
    assert client_as("admin").post(URL, {}, format="multipart").status_code == 400


def test_the_list_filters_by_an_imported_label(client_as, cohort):
    client = client_as("admin")
    measurement_record(scan=cohort["scans"][0], quantity="liver_ff", method="manual", value=5.0)
    client.post(URL, {"file": upload(GOOD)}, format="multipart")
    imported = client.get("/api/measurements/", {"method": "imported"}).json()["results"]
    assert sorted((m["eid"], m["method"]) for m in imported) == [(1000001, "imported"), (1000002, "imported")]
    manual = client.get("/api/measurements/", {"method": "manual"}).json()["results"]
    assert [m["method"] for m in manual] == ["manual"]


@pytest.mark.parametrize("value", ["", "lab_v9"])
def test_the_method_filter_refuses_an_empty_or_unknown_label(client_as, cohort, value):
    response = client_as("viewer").get("/api/measurements/", {"method": value})
    assert response.status_code == 400
    assert "method" in response.json()
