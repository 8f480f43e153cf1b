"""/api/visits/: every imaging visit with what UK Biobank measured at it and its scans; participants show
their visits nested; scans name their visit; withdrawn participants' visits are hidden."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils.dateparse import parse_datetime

from tests.factories import make_scan, make_subject, make_visit

pytestmark = pytest.mark.django_db

FIELDS = {"id", "eid", "instance", "date", "age", "height", "bmi", "centre", "scans", "created_at", "updated_at"}


@pytest.fixture
def visits(db) -> dict:
    """1002 (created first) with both imaging visits and a scan at each; 1001 with a first visit and no scan;
    1009 withdrawn, with both visits and scans."""
    later = make_subject(eid=1002, sex="M", date=date(2016, 5, 3), age=61.5, height_cm=178.0, bmi=27.2, centre=11025)
    repeat = make_visit(later, 3, date=date(2019, 1, 10), age=64.2, height_cm=177.5, bmi=26.1, centre=11027)
    scan_2, scan_3 = make_scan(later, 2), make_scan(later, 3)
    first = make_subject(eid=1001, sex="F", age=48.0, centre=11026)
    gone = make_subject(eid=1009, sex="F", age=70.0, centre=11025, withdrawn=True)
    make_visit(gone, 3, age=73.0)
    gone_scans = [make_scan(gone, 2), make_scan(gone, 3)]
    return {"later": later, "visit_2": scan_2.visit, "visit_3": repeat, "scan_2": scan_2, "scan_3": scan_3,
            "first": first.visits.get(), "gone": gone, "gone_scans": gone_scans}


def results(client, url: str) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_visits_list_in_eid_and_instance_order_with_their_attributes_and_scans(client_as, visits):
    rows = results(client_as("viewer"), "/api/visits/")
    assert [(row["eid"], row["instance"]) for row in rows] == [(1001, 2), (1002, 2), (1002, 3)]
    assert all(set(row) == FIELDS for row in rows)
    repeat = rows[2]
    assert {key: repeat[key] for key in FIELDS - {"created_at", "updated_at"}} == {
        "id": visits["visit_3"].pk, "eid": 1002, "instance": 3, "date": "2019-01-10", "age": 64.2, "height": 177.5,
        "bmi": 26.1, "centre": 11027, "scans": [visits["scan_3"].pk]}
    assert rows[1]["date"] == "2016-05-03" and rows[1]["age"] == 61.5 and rows[1]["scans"] == [visits["scan_2"].pk]
    assert (rows[0]["age"], rows[0]["height"], rows[0]["bmi"], rows[0]["date"], rows[0]["scans"]) == (
        48.0, None, None, None, [])
    assert parse_datetime(repeat["created_at"]) is not None and parse_datetime(repeat["updated_at"]) is not None


def test_visits_filter_by_eid_and_instance(client_as, visits):
    client = client_as("viewer")
    assert [(r["eid"], r["instance"]) for r in results(client, "/api/visits/?eid=1002")] == [(1002, 2), (1002, 3)]
    assert [r["id"] for r in results(client, "/api/visits/?instance=3")] == [visits["visit_3"].pk]
    assert [r["eid"] for r in results(client, "/api/visits/?instance=2")] == [1001, 1002]
    assert [r["id"] for r in results(client, "/api/visits/?eid=1002&instance=2")] == [visits["visit_2"].pk]
    assert results(client, "/api/visits/?eid=1003") == []


@pytest.mark.parametrize("query", ["instance=", "instance=4", "eid=x", "eid=0"])
def test_a_bad_filter_is_a_400(client_as, visits, query):
    response = client_as("viewer").get(f"/api/visits/?{query}")
    assert response.status_code == 400, response.content
    assert query.partition("=")[0] in response.content.decode()


def test_one_visit_by_id(client_as, visits):
    client = client_as("viewer")
    row = client.get(f"/api/visits/{visits['visit_2'].pk}/").json()
    assert (row["eid"], row["instance"], row["height"], row["centre"], row["scans"]) == (
        1002, 2, 178.0, 11025, [visits["scan_2"].pk])
    assert client.get("/api/visits/999999/").status_code == 404


def test_a_participant_shows_their_visits_nested(client_as, visits):
    row = client_as("viewer").get("/api/subjects/1002/").json()
    assert row["visits"] == [
        {"instance": 2, "date": "2016-05-03", "age": 61.5, "height": 178.0, "bmi": 27.2, "centre": 11025},
        {"instance": 3, "date": "2019-01-10", "age": 64.2, "height": 177.5, "bmi": 26.1, "centre": 11027},
    ]
    assert "age" not in row and "centre" not in row  # attributes live on the visits only
    listed = {r["eid"]: r["visits"] for r in results(client_as("viewer"), "/api/subjects/")}
    assert [v["instance"] for v in listed[1001]] == [2] and listed[1001][0]["age"] == 48.0


def test_participants_filter_by_the_centre_of_any_visit(client_as, visits):
    client = client_as("viewer")
    assert [r["eid"] for r in results(client, "/api/subjects/?centre=11027")] == [1002]
    assert [r["eid"] for r in results(client, "/api/subjects/?centre=11025")] == [1002]  # not twice


def test_scans_carry_their_visit(client_as, visits):
    rows = {row["id"]: row for row in results(client_as("viewer"), "/api/scans/")}
    assert rows[visits["scan_2"].pk]["visit"] == visits["visit_2"].pk
    assert rows[visits["scan_3"].pk]["visit"] == visits["visit_3"].pk
    assert client_as("viewer").get(f"/api/scans/{visits['scan_3'].pk}/").json()["visit"] == visits["visit_3"].pk


@pytest.mark.parametrize("role", ["none", None])
def test_visits_need_a_role(client_as, visits, role):
    client = client_as(role)
    assert client.get("/api/visits/").status_code in ((403,) if role else (401, 403))
    assert client.get(f"/api/visits/{visits['visit_2'].pk}/").status_code in ((403,) if role else (401, 403))


@pytest.mark.parametrize("role", ["viewer", "rater", "analyst", "admin"])
def test_every_role_may_read_visits(client_as, visits, role):
    assert client_as(role).get("/api/visits/").status_code == 200


def test_withdrawn_participants_visits_are_hidden(client_as, visits):
    client = client_as("viewer")
    assert 1009 not in {row["eid"] for row in results(client, "/api/visits/")}
    assert results(client, "/api/visits/?eid=1009") == []
    for visit in visits["gone"].visits(manager="all_objects").all():
        assert client.get(f"/api/visits/{visit.pk}/").status_code == 404
    gone_ids = {scan.pk for scan in visits["gone_scans"]}
    assert not gone_ids & {scan for row in results(client, "/api/visits/") for scan in row["scans"]}
    assert client.get("/api/subjects/1009/").status_code == 404


def test_a_withdrawn_participants_scans_never_show_among_a_visits_scans(client_as, visits):
    """Even through a visit of someone else nothing leaks: every listed scan belongs to the visit's eid."""
    client = client_as("viewer")
    scans = {row["id"]: row["eid"] for row in results(client, "/api/scans/")}
    for row in results(client, "/api/visits/"):
        assert all(scans[pk] == row["eid"] for pk in row["scans"])


def test_the_change_between_the_visits_is_read_per_participant_with_the_cohorts_statistics(client_as, rater):
    from analysis.longitudinal import paired_change
    from ukbstudy.measurements.services import measurement_record
    from ukbstudy.qc.services import qc_decision_record

    first, second = [3.0, 5.0, 8.0, 12.0], [4.0, 5.5, 10.0, 12.5]
    for index, values in enumerate(zip(first, second, strict=True)):
        subject = make_subject(eid=2001 + index)
        for instance, value in zip((2, 3), values, strict=True):
            scan = make_scan(subject, instance, processing_state="processed")
            qc_decision_record(scan=scan, rater=rater, verdict="pass")
            measurement_record(scan=scan, quantity="liver_ff", method="network", value=value)
    response = client_as("viewer").get("/api/visits/changes/", {"column": "network"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert [(p["eid"], p["first"], p["second"], p["change"]) for p in body["pairs"]] == [
        (2001 + i, a, b, b - a) for i, (a, b) in enumerate(zip(first, second, strict=True))]
    expected = paired_change(first, second)
    assert body["change"]["n"] == 4 and body["change"]["mean_change"] == pytest.approx(expected.mean_change)
    assert body["repeatability"]["rc"] > 0
    assert client_as("viewer").get("/api/visits/changes/", {"column": "bogus"}).status_code == 400
    assert client_as("viewer").get("/api/visits/changes/", {"column": "age"}).status_code == 400
    assert client_as("viewer").get("/api/visits/changes/", {"quantity": "x"}).status_code == 400
