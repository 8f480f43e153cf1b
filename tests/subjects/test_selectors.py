"""Reads of participants and scans for pages and the API: withdrawn participants are never among them."""

import pytest

from tests.factories import make_scan, make_subject
from ukbstudy.accounts.services import user_create
from ukbstudy.imaging.selectors import scan_get, scan_list, scans_pending_processing
from ukbstudy.subjects.selectors import subject_get, subject_list

pytestmark = pytest.mark.django_db


def test_a_withdrawn_participant_and_their_scans_are_never_found():
    kept, gone = make_subject(eid=4000001), make_subject(eid=4000002, withdrawn=True)
    kept_scan, gone_scan = make_scan(kept), make_scan(gone)
    assert list(subject_list()) == [kept] and subject_get(eid=4000001) == kept and subject_get(eid=4000002) is None
    assert list(scan_list()) == [kept_scan] and scan_get(pk=gone_scan.pk) is None
    assert scan_get(pk=kept_scan.pk).subject.eid == 4000001


def test_pending_scans_are_those_not_processed_yet():
    states = ["imported", "processing", "failed", "processed"]
    scans = [make_scan(processing_state=state) for state in states]
    assert set(scans_pending_processing()) == set(scans[:3])


def test_the_jobs_page_counts_the_pending_scans(client):
    make_scan(processing_state="imported")
    make_scan(processing_state="processed")
    client.force_login(user_create(username="analyst", password="pw-long-enough-1", role="analyst"))
    assert client.get("/jobs/").context["pending_scans"] == 1
