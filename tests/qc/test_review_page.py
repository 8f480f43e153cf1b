"""The review page's aids: the keyboard help, what is left and done, the queue filters and the eid search."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import make_scan, make_subject
from ukbstudy.accounts.services import user_create
from ukbstudy.qc.models import QCDecision
from ukbstudy.qc.selectors import QueueFilters, qc_queue_counts
from ukbstudy.qc.services import qc_decision_record
from ukbstudy.subjects.services.withdrawal import subjects_withdraw

pytestmark = pytest.mark.django_db


def processed_scan(**subject):
    return make_scan(make_subject(**subject), processing_state="processed")


def login(role, name=None):
    user = user_create(username=name or role, password="pw-long-enough-1", role=role)
    client = Client()
    client.force_login(user)
    return user, client


def review_page(client) -> str:
    response = client.get("/qc/", follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_the_review_page_has_a_help_overlay_listing_every_shortcut():
    _, client = login("rater")
    processed_scan()
    page = review_page(client)
    help_dialog = re.search(r'<dialog id="help".*?</dialog>', page, re.S).group(0)
    for key in ("?", "p", "q", "f", "1", "5", "9", "c", "Shift", "n", "Enter", "s", "b", "l", "←", "↑", "↓",
                "PgUp", "PgDn", "t", "[", "]", ",", ".", "r", "z", "/", "Esc"):
        assert f"<kbd>{key}</kbd>" in help_dialog, key
    assert 'id="help-open"' in page and "ukbstudy/qc.js" in page


def test_a_viewer_gets_the_image_keys_in_the_help_but_no_decision_keys():
    _, client = login("viewer")
    scan = processed_scan()
    page = client.get(f"/qc/scan/{scan.pk}/").content.decode()
    help_dialog = re.search(r'<dialog id="help".*?</dialog>', page, re.S).group(0)
    assert "<caption>Images</caption>" in help_dialog and "<caption>Decision</caption>" not in help_dialog
    assert 'id="queue-counts"' not in page


def test_the_review_page_counts_the_scans_left_and_the_decisions_made_today():
    rater, client = login("rater")
    _, other = login("rater", "olga")
    scans = [processed_scan() for _ in range(5)]
    qc_decision_record(scan=scans[0], rater=rater, verdict="pass")
    qc_decision_record(scan=scans[1], rater=rater, verdict="pass")
    yesterday = QCDecision.objects.create(scan=scans[2], rater=rater, verdict="pass",
                                          decided_at=timezone.now() - timedelta(days=1, hours=1))
    assert other.get(f"/qc/scan/{scans[4].pk}/").status_code == 200  # held by another rater: not left for us
    page = review_page(client)
    assert re.search(r'<b id="queue-left">1</b> left in your queue', page)  # scans[3], the one shown
    assert '<b id="decided-today">2</b> decided by you today' in page
    assert yesterday.decided_at.date() < timezone.now().date()


def test_the_count_of_scans_left_stops_at_its_cap():
    rater, _ = login("rater")
    for _ in range(4):
        processed_scan()
    counts = qc_queue_counts(rater=rater, cap=3)
    assert (counts.left, counts.capped, counts.today) == (3, True, 0)
    assert qc_queue_counts(rater=rater, cap=4).capped is False


def test_the_count_follows_the_queue_filters():
    rater, _ = login("rater")
    processed_scan(centre=11025)
    processed_scan(centre=11027)
    processed_scan(centre=11027)
    assert qc_queue_counts(rater=rater, filters=QueueFilters(centre=11027)).left == 2


def test_the_queue_filters_are_on_the_review_page_and_keep_their_values():
    _, client = login("rater")
    scan = processed_scan(centre=11027)
    response = client.get("/qc/?centre=11027&hint=none")
    assert response["Location"] == f"/qc/scan/{scan.pk}/?centre=11027&hint=none"
    page = client.get(response["Location"]).content.decode()
    filters = re.search(r'<details class="panel" id="queue-filters" open>.*?</details>', page, re.S).group(0)
    assert 'action="/qc/"' in filters and 'method="get"' in filters
    for name in ("centre", "hint", "status", "mine"):
        assert f'name="{name}"' in filters
    assert '<option value="11027" selected>' in filters and '<option value="none" selected>' in filters


def test_every_page_has_the_eid_search_box():
    _, client = login("viewer")
    page = client.get("/qc/agreement/").content.decode()
    assert re.search(r'<form class="eid-search" method="get" action="/qc/search/" role="search">\s*<input '
                     r'type="search" id="nav-eid" name="eid"', page)


def test_the_eid_search_goes_to_the_participants_page():
    _, client = login("viewer")
    subject = make_subject(eid=1234567)
    response = client.get("/qc/search/", {"eid": " 1234567 "})
    assert response.status_code == 302 and response["Location"] == f"/results/participants/{subject.eid}/"
    assert f"Participant {subject.eid}</h1>" in client.get(response["Location"]).content.decode()


def test_the_eid_search_says_when_no_participant_has_that_eid():
    _, client = login("viewer")
    response = client.get("/qc/search/", {"eid": "7654321"})
    assert response.status_code == 404
    assert "There is no participant with eid 7654321." in response.content.decode()


def test_the_eid_search_says_a_participant_has_withdrawn_and_shows_nothing_of_them():
    _, client = login("viewer")
    make_subject(eid=1111111, age=61.5)
    subjects_withdraw(eids=[1111111])
    response = client.get("/qc/search/", {"eid": "1111111"})
    page = response.content.decode()
    assert response.status_code == 404 and "Participant 1111111 has withdrawn from the study" in page
    assert "61.5" not in page


@pytest.mark.parametrize("eid", ["", "abc", "12.5", "-3", "99999999999"])
def test_the_eid_search_refuses_what_is_not_an_eid(eid):
    _, client = login("viewer")
    response = client.get("/qc/search/", {"eid": eid})
    assert response.status_code == 400 and "An eid is a whole number" in response.content.decode()


def test_the_eid_search_needs_a_login(client):
    response = client.get("/qc/search/", {"eid": "1234567"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
