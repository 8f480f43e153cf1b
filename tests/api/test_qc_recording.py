"""Recording QC decisions through the API goes through the QC service: its rules become field errors,
another rater's hold a 409 naming them, and each decision a new history row."""

from __future__ import annotations

import pytest
from django.utils import timezone

from ukbstudy.qc.models import QCDecision
from ukbstudy.qc.services import qc_decision_record, qc_lock_acquire

pytestmark = pytest.mark.django_db


def test_a_rater_records_a_decision_and_gets_it_back(client_as, users, cohort):
    scan = cohort["scans"][0]
    response = client_as("rater").post(f"/api/scans/{scan.pk}/qc/",
                                       {"verdict": "fail", "reason": "water_fat_swap", "note": "station 3"},
                                       format="json")
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("scan", "eid", "rater", "verdict", "reason", "note", "previous_verdict")} == {
        "scan": scan.pk, "eid": scan.subject.eid, "rater": "rater-user", "verdict": "fail",
        "reason": "water_fat_swap", "note": "station 3", "previous_verdict": ""}
    decision = QCDecision.objects.get()
    assert (decision.pk, decision.rater, decision.verdict) == (body["id"], users["rater"], "fail")
    assert body["decided_at"] == decision.decided_at.isoformat().replace("+00:00", "Z")


def test_the_history_lists_every_decision_newest_first(client_as, users, cohort):
    scan = cohort["scans"][0]
    qc_decision_record(scan=scan, rater=users["rater"], verdict="pass")
    qc_decision_record(scan=scan, rater=users["analyst"], verdict="fail", reason="noise")
    history = client_as("viewer").get(f"/api/scans/{scan.pk}/qc/").json()
    assert [(d["rater"], d["verdict"], d["previous_verdict"]) for d in history] == [
        ("analyst-user", "fail", "pass"), ("rater-user", "pass", "")]


def test_head_and_options_on_the_history_record_nothing(client_as, cohort):
    url = f"/api/scans/{cohort['scans'][0].pk}/qc/"
    assert client_as("rater").head(url).status_code == 200
    assert client_as("rater").options(url).status_code == 200
    assert not QCDecision.objects.exists()


def test_a_fail_without_a_reason_is_a_field_error(client_as, cohort):
    response = client_as("rater").post(f"/api/scans/{cohort['scans'][0].pk}/qc/", {"verdict": "fail"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"reason": ["a failed scan needs a reason"]}
    assert not QCDecision.objects.exists()


def test_changing_a_verdict_without_a_reason_or_note_is_a_field_error(client_as, users, cohort):
    scan = cohort["scans"][0]
    qc_decision_record(scan=scan, rater=users["rater"], verdict="pass")
    response = client_as("rater").post("/api/qc-decisions/", {"scan": scan.pk, "verdict": "questionable"},
                                       format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["note"]
    assert QCDecision.objects.count() == 1


@pytest.mark.parametrize("body, field", [({"verdict": "maybe"}, "verdict"), ({}, "verdict"),
                                         ({"verdict": "fail", "reason": "gremlins"}, "reason")])
def test_unknown_verdicts_and_reasons_are_field_errors(client_as, cohort, body, field):
    response = client_as("rater").post(f"/api/scans/{cohort['scans'][0].pk}/qc/", body, format="json")
    assert response.status_code == 400 and field in response.json()


def test_a_scan_held_by_another_rater_is_a_conflict_naming_them(client_as, users, cohort):
    scan = cohort["scans"][0]
    lock = qc_lock_acquire(scan=scan, rater=users["analyst"])
    for url, body in ((f"/api/scans/{scan.pk}/qc/", {"verdict": "pass"}),
                      ("/api/qc-decisions/", {"scan": scan.pk, "verdict": "pass"})):
        response = client_as("rater").post(url, body, format="json")
        assert response.status_code == 409
        assert response.json()["locked_by"] == "analyst-user"
        assert response.json()["expires_at"] == lock.expires_at.isoformat().replace("+00:00", "Z")
    assert not QCDecision.objects.exists()


def test_the_holder_of_the_lock_records_and_an_expired_lock_blocks_nobody(client_as, users, cohort):
    scan, other = cohort["scans"]
    qc_lock_acquire(scan=scan, rater=users["rater"])
    assert client_as("rater").post(f"/api/scans/{scan.pk}/qc/", {"verdict": "pass"}, format="json").status_code == 201
    lock = qc_lock_acquire(scan=other, rater=users["analyst"])
    type(lock).objects.filter(pk=lock.pk).update(expires_at=timezone.now())
    assert client_as("rater").post(f"/api/scans/{other.pk}/qc/", {"verdict": "pass"}, format="json").status_code == 201


def test_a_withdrawn_participants_scan_cannot_be_seen_or_decided(client_as, cohort):
    scan = cohort["withdrawn_scan"]
    client = client_as("admin")
    assert client.get(f"/api/scans/{scan.pk}/").status_code == 404
    assert client.get(f"/api/scans/{scan.pk}/qc/").status_code == 404
    assert client.post(f"/api/scans/{scan.pk}/qc/", {"verdict": "pass"}, format="json").status_code == 404
    response = client.post("/api/qc-decisions/", {"scan": scan.pk, "verdict": "pass"}, format="json")
    assert response.status_code == 400 and "scan" in response.json()
    assert not QCDecision.all_objects.exists()


def test_confidence_and_time_spent_are_recorded_and_listed(client_as, cohort):
    scan = cohort["scans"][0]
    response = client_as("rater").post(f"/api/scans/{scan.pk}/qc/",
                                       {"verdict": "pass", "confidence": 4, "seconds_spent": 12.34}, format="json")
    assert response.status_code == 201
    assert (response.json()["confidence"], response.json()["seconds_spent"]) == (4, 12.3)
    listed = client_as("viewer").get("/api/qc-decisions/").json()["results"][0]
    assert (listed["confidence"], listed["seconds_spent"]) == (4, 12.3)
    unrated = client_as("rater").post(f"/api/scans/{cohort['scans'][1].pk}/qc/", {"verdict": "pass"}, format="json")
    assert (unrated.json()["confidence"], unrated.json()["seconds_spent"]) == (None, None)


@pytest.mark.parametrize("body, field", [({"confidence": 6}, "confidence"), ({"confidence": "sure"}, "confidence"),
                                         ({"seconds_spent": -1}, "seconds_spent")])
def test_a_confidence_or_time_out_of_range_is_a_field_error(client_as, cohort, body, field):
    response = client_as("rater").post(f"/api/scans/{cohort['scans'][0].pk}/qc/", {"verdict": "pass", **body},
                                       format="json")
    assert response.status_code == 400 and field in response.json()
    assert not QCDecision.objects.exists()
