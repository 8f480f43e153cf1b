"""The QC pages: queue order, locks, decisions by POST, later, previous, roles and agreement."""

import pytest
from django.test import Client

from tests.factories import make_scan, make_subject
from ukbstudy.accounts.services import user_create
from ukbstudy.qc.models import QCDecision, QCLock
from ukbstudy.qc.selectors import QueueFilters, qc_queue
from ukbstudy.qc.services import qc_decision_record

pytestmark = pytest.mark.django_db


def processed_scan(hint_rank=3, **subject):
    return make_scan(make_subject(**subject), processing_state="processed", hint_rank=hint_rank)


def login(role, name=None):
    user = user_create(username=name or role, password="pw-long-enough-1", role=role)
    client = Client()
    client.force_login(user)
    return user, client


def test_every_page_needs_a_login(client):
    for url in ("/qc/", "/qc/agreement/", "/qc/scan/1/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_queue_puts_hinted_scans_first_then_unreviewed_then_later():
    rater, _ = login("rater")
    plain, hinted, later = processed_scan(), processed_scan(hint_rank=0), processed_scan()
    from ukbstudy.qc.services import qc_defer

    qc_defer(scan=later, rater=rater)
    make_scan(processing_state="imported")  # not preprocessed: not reviewable yet
    assert list(qc_queue(rater=rater)) == [hinted, plain, later]
    assert list(qc_queue(rater=rater, filters=QueueFilters(hint="high"))) == [hinted]


def test_a_rater_records_a_decision_and_gets_the_next_scan():
    rater, client = login("rater")
    first, second = processed_scan(), processed_scan()
    second.derived = {"folder": "derived/run-1", "qc_fat_coronal": "derived/run-1/qc_fat_coronal.png"}
    second.save(update_fields=["derived"])
    response = client.get("/qc/")
    assert response["Location"] == f"/qc/scan/{first.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert f'<link rel="prefetch" href="/scans/{second.pk}/images/qc_fat_coronal.png?v=run-1"' in page
    response = client.post(f"/qc/scan/{first.pk}/decide/", {"verdict": "fail", "reason": "noise", "note": "pq fn"})
    assert response.status_code == 302 and response["Location"] == f"/qc/scan/{second.pk}/"  # next, locked
    decision = QCDecision.objects.get()
    assert (decision.scan, decision.rater, decision.verdict, decision.reason, decision.note) == (
        first, rater, "fail", "noise", "pq fn")
    assert QCLock.objects.get().scan == second


def test_two_raters_never_get_the_same_scan():
    _, alice = login("rater", "alice")
    _, bob = login("rater", "bob")
    first, second = processed_scan(), processed_scan()
    assert alice.get("/qc/")["Location"] == f"/qc/scan/{first.pk}/"
    assert bob.get("/qc/")["Location"] == f"/qc/scan/{second.pk}/"
    response = bob.post(f"/qc/scan/{first.pk}/decide/", {"verdict": "pass"})
    assert response.status_code == 302 and not QCDecision.objects.exists()  # alice holds it


def test_a_viewer_sees_a_scan_but_may_not_record():
    _, client = login("viewer")
    scan = processed_scan()
    page = client.get(f"/qc/scan/{scan.pk}/")
    assert page.status_code == 200 and 'id="decision"' not in page.content.decode()
    assert client.post(f"/qc/scan/{scan.pk}/decide/", {"verdict": "pass"}).status_code == 403
    assert "recording decisions needs the rater role" in client.get("/qc/").content.decode()
    assert not QCDecision.objects.exists() and not QCLock.objects.exists()


def test_changing_a_verdict_without_reason_is_refused_on_the_page():
    rater, client = login("rater")
    scan = processed_scan()
    qc_decision_record(scan=scan, rater=rater, verdict="pass")
    response = client.post(f"/qc/scan/{scan.pk}/decide/", {"verdict": "questionable"})
    assert response.status_code == 400 and "needs a reason or note" in response.content.decode()
    assert QCDecision.objects.count() == 1


def test_previous_goes_back_to_the_last_scan_decided():
    rater, client = login("rater")
    first, second = processed_scan(), processed_scan()
    qc_decision_record(scan=first, rater=rater, verdict="pass")
    assert client.get(f"/qc/previous/?from={second.pk}")["Location"] == f"/qc/scan/{first.pk}/"


def test_double_reading_keeps_a_scan_in_the_queue_until_two_raters_rated_it(settings):
    settings.QC_RATINGS_PER_SCAN = 2
    alice, _ = login("rater", "alice")
    bob, _ = login("rater", "bob")
    scan = processed_scan()
    qc_decision_record(scan=scan, rater=alice, verdict="pass")
    assert list(qc_queue(rater=alice)) == [] and list(qc_queue(rater=bob)) == [scan]
    qc_decision_record(scan=scan, rater=bob, verdict="fail", reason="metal")
    assert list(qc_queue(rater=bob)) == []


def test_the_agreement_page_shows_kappa_and_disagreements(settings):
    settings.QC_RATINGS_PER_SCAN = 2
    alice, _ = login("rater", "alice")
    bob, _ = login("rater", "bob")
    _, viewer = login("viewer")
    scans = [processed_scan() for _ in range(4)]
    for scan, (a, b) in zip(scans, [("pass", "pass"), ("fail", "fail"), ("pass", "fail"), ("pass", "pass")],
                            strict=True):
        qc_decision_record(scan=scan, rater=alice, verdict=a, reason="noise" if a == "fail" else "")
        qc_decision_record(scan=scan, rater=bob, verdict=b, reason="noise" if b == "fail" else "",
                           note="second read")
    page = viewer.get("/qc/agreement/").content.decode()
    assert "alice" in page and "bob" in page and "0.500" in page
    assert str(scans[2]) in page and str(scans[0]) not in page


def test_re_reviewing_mine_moves_on_instead_of_returning_to_the_same_scan():
    rater, client = login("rater")
    scans = [processed_scan() for _ in range(3)]
    for scan in scans:
        qc_decision_record(scan=scan, rater=rater, verdict="pass")
    assert client.get("/qc/?mine=on")["Location"] == f"/qc/scan/{scans[0].pk}/?mine=on"
    response = client.post(f"/qc/scan/{scans[0].pk}/decide/?mine=on", {"verdict": "pass"})
    assert response["Location"] == f"/qc/scan/{scans[1].pk}/?mine=on"


def test_previous_keeps_stepping_back_and_survives_a_bad_parameter():
    rater, client = login("rater")
    scans = [processed_scan() for _ in range(3)]
    for scan in scans:
        qc_decision_record(scan=scan, rater=rater, verdict="pass")
    assert client.get("/qc/previous/")["Location"] == f"/qc/scan/{scans[2].pk}/"
    assert client.get(f"/qc/previous/?from={scans[2].pk}")["Location"] == f"/qc/scan/{scans[1].pk}/"
    assert client.get(f"/qc/previous/?from={scans[1].pk}")["Location"] == f"/qc/scan/{scans[0].pk}/"
    assert client.get("/qc/previous/?from=abc")["Location"] == f"/qc/scan/{scans[2].pk}/"


def test_a_second_reader_sees_no_earlier_verdict_and_may_disagree_without_a_note(settings):
    settings.QC_RATINGS_PER_SCAN = 2
    alice, _ = login("rater", "alice")
    _, bob = login("rater", "bob")
    scan = processed_scan()
    qc_decision_record(scan=scan, rater=alice, verdict="pass", note="alice's reading")
    page = bob.get(f"/qc/scan/{scan.pk}/").content.decode()
    assert "alice's reading" not in page and "appear once you have given yours" in page
    assert bob.post(f"/qc/scan/{scan.pk}/decide/", {"verdict": "questionable"}).status_code == 302
    assert QCDecision.objects.filter(scan=scan).count() == 2
