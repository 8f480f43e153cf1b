"""The list endpoints: their filters, what a scan row tells, cursor pagination of measurements, and
withdrawn participants hidden everywhere."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_scan, make_subject
from ukbstudy.measurements.models import Measurement, ModelVersion
from ukbstudy.measurements.services import measurement_record
from ukbstudy.qc.models import QCDecision
from ukbstudy.qc.services import qc_decision_record

pytestmark = pytest.mark.django_db


def results(client, url: str) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_subjects_filter_by_eid_sex_and_centre(client_as, cohort):
    client = client_as("viewer")
    assert [s["eid"] for s in results(client, "/api/subjects/")] == [1_000_001, 1_000_002]
    assert [s["eid"] for s in results(client, "/api/subjects/?sex=M")] == [1_000_002]
    assert [s["eid"] for s in results(client, "/api/subjects/?centre=11025")] == [1_000_001]
    assert [s["eid"] for s in results(client, "/api/subjects/?eid=1000002")] == [1_000_002]
    assert client.get("/api/subjects/1000002/").json()["sex"] == "M"


def test_a_scan_shows_its_qc_status_hints_and_deviations(client_as, users):
    hint = {"code": "water_fat_swap", "severity": "high", "message": "station 3 swapped", "station": 3}
    scan = make_scan(qc_hints=[hint], hint_rank=0, n_deviations=2, deviations=[
        {"code": "repeated_station", "message": "station 2 twice", "station": 2},
        {"code": "extra_series", "message": "a localiser", "station": None}])
    qc_decision_record(scan=scan, rater=users["rater"], verdict="questionable")
    row = client_as("viewer").get(f"/api/scans/{scan.pk}/").json()
    assert (row["eid"], row["qc_status"], row["hints"], row["deviations"]) == (
        scan.subject.eid, "questionable", [hint], {"count": 2, "codes": ["extra_series", "repeated_station"]})


def test_scans_filter_by_qc_status_hint_rank_state_instance_and_eid(client_as, users):
    subject = make_subject()
    passed, failed = make_scan(subject, hint_rank=0), make_scan(subject, instance=3, processing_state="processed")
    unreviewed = make_scan()
    qc_decision_record(scan=passed, rater=users["rater"], verdict="pass")
    qc_decision_record(scan=failed, rater=users["rater"], verdict="fail", reason="metal")

    def ids(query: str) -> list[int]:
        return [s["id"] for s in results(client_as("viewer"), f"/api/scans/?{query}")]

    assert ids("qc_status=pass") == [passed.pk]
    assert ids("qc_status=fail") == [failed.pk]
    assert ids("qc_status=unreviewed") == [unreviewed.pk]
    assert ids("hint_rank=0") == [passed.pk]
    assert ids("processing_state=processed") == [failed.pk]
    assert ids("instance=3") == [failed.pk]
    assert ids(f"eid={subject.eid}") == [passed.pk, failed.pk]
    assert client_as("viewer").get("/api/scans/?qc_status=great").status_code == 400


def test_decisions_filter_by_eid_rater_verdict_reason_and_date(client_as, users, cohort):
    first, second = cohort["scans"]
    old = qc_decision_record(scan=first, rater=users["rater"], verdict="pass")
    QCDecision.all_objects.bulk_create([QCDecision(scan=second, rater=users["analyst"], verdict="fail",
                                                   reason="noise", decided_at=datetime(2020, 1, 1, tzinfo=UTC))])
    client = client_as("viewer")

    def verdicts(query: str) -> list[str]:
        return [d["verdict"] for d in results(client, f"/api/qc-decisions/?{query}")]

    assert verdicts("") == ["pass", "fail"]  # newest first
    assert verdicts(f"eid={first.subject.eid}") == ["pass"]
    assert verdicts("rater=analyst-user") == ["fail"]
    assert verdicts("verdict=pass") == ["pass"]
    assert verdicts("reason=noise") == ["fail"]
    assert verdicts("decided_before=2021-01-01T00:00:00Z") == ["fail"]
    assert verdicts(f"decided_after={old.decided_at.year}-01-01T00:00:00Z") == ["pass"]
    assert client.get("/api/qc-decisions/?decided_after=yesterday").status_code == 400


def test_date_filters_take_any_iso_offset_and_refuse_times_out_of_range(client_as, users, cohort):
    qc_decision_record(scan=cohort["scans"][0], rater=users["rater"], verdict="pass")
    client = client_as("viewer")
    # +16:55 is valid ISO 8601 but beyond what PostgreSQL accepts as an offset: compared in UTC instead.
    assert len(results(client, "/api/qc-decisions/?decided_after=2001-01-01T00:00:00%2B16:55")) == 1
    assert results(client, "/api/measurements/?created_before=1086-11-15T13:37:16-18:24") == []
    response = client.get("/api/qc-decisions/?decided_after=0001-01-01T00:00:00%2B01:00")
    assert response.status_code == 400 and "out of range" in str(response.json())


def make_measurements(n: int, scans) -> list[Measurement]:
    """``n`` network liver fat values, each from its own model version (one value per scan and version)."""
    versions = [ModelVersion.objects.create(task="liver_ff_regression", name="resnet50", version=f"v{i}")
                for i in range(n)]
    return [measurement_record(scan=scans[i % len(scans)], quantity="liver_ff", method="network", value=i,
                               model_version=version) for i, version in enumerate(versions)]


def test_cursor_pagination_walks_every_measurement_once_even_when_timestamps_tie(client_as, cohort):
    made = make_measurements(23, cohort["scans"])
    Measurement.objects.filter(pk__in=[m.pk for m in made[5:15]]).update(created_at=made[5].created_at)
    client, seen, url = client_as("viewer"), [], "/api/measurements/?page_size=4"
    while url:
        page = client.get(url).json()
        assert set(page) == {"next", "previous", "results"}  # a cursor page: no count, no page numbers
        seen += [m["id"] for m in page["results"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 23
    assert set(seen) == {m.pk for m in made}


def test_measurements_filter_by_eid_quantity_method_model_version_and_date(client_as, cohort):
    made = make_measurements(3, cohort["scans"])
    manual = measurement_record(scan=cohort["scans"][1], quantity="bmff_spine", method="manual", value=55.0)
    client = client_as("viewer")

    def ids(query: str) -> set[int]:
        return {m["id"] for m in results(client, f"/api/measurements/?{query}")}

    assert ids(f"eid={cohort['subjects'][1].eid}") == {made[1].pk, manual.pk}
    assert ids("quantity=bmff_spine") == ids("method=manual") == {manual.pk}
    assert ids(f"model_version={made[2].model_version_id}") == {made[2].pk}
    assert ids("created_before=2000-01-01T00:00:00Z") == set()
    assert ids("created_after=2000-01-01T00:00:00Z") == {m.pk for m in made} | {manual.pk}
    row = client.get(f"/api/measurements/{manual.pk}/").json()
    assert (row["eid"], row["value"], row["model_version"]) == (cohort["subjects"][1].eid, 55.0, None)


def test_withdrawn_participants_appear_nowhere(client_as, users, cohort):
    withdrawn, scan = cohort["withdrawn"], cohort["withdrawn_scan"]
    measurement_record(scan=scan, quantity="liver_ff", method="manual", value=4.0)
    QCDecision.all_objects.bulk_create([QCDecision(scan=scan, rater=users["rater"], verdict="pass")])
    client = client_as("admin")
    for url in ("/api/subjects/", "/api/scans/", "/api/qc-decisions/", "/api/measurements/"):
        assert withdrawn.eid not in {row["eid"] for row in results(client, url)}, url
        assert results(client, f"{url}?eid={withdrawn.eid}") == [], url
    assert client.get(f"/api/subjects/{withdrawn.eid}/").status_code == 404
    assert client.get(f"/api/scans/{scan.pk}/").status_code == 404



def test_list_queries_do_not_grow_with_the_rows(client_as, users):
    """Rows are serialised from joined or annotated queries, never with a query per row."""

    def add_rows(n: int):
        for _ in range(n):
            scan = make_scan()
            qc_decision_record(scan=scan, rater=users["rater"], verdict="pass")
            measurement_record(scan=scan, quantity="liver_ff", method="manual", value=1.0)
        return scan

    def queries(urls: list[str]) -> list[int]:
        client, counts = client_as("viewer"), []
        for url in urls:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            counts.append(len(captured))
        return counts

    scan = add_rows(1)
    urls = ["/api/subjects/", "/api/scans/", "/api/qc-decisions/", "/api/measurements/", f"/api/scans/{scan.pk}/qc/"]
    few = queries(urls)
    add_rows(12)
    qc_decision_record(scan=scan, rater=users["analyst"], verdict="pass")
    assert queries(urls) == few
