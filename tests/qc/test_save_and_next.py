"""Save-and-next for the page's script: the decision posted for JSON says which scan is next and the one
after (to fetch meanwhile), with the queue counts; an invalid form or a scan taken by another rater records
nothing and says so; the review page names the scan to fetch ahead."""

import json

import pytest
from django.test import Client

from tests.factories import make_scan, make_subject
from ukbstudy.accounts.services import user_create
from ukbstudy.qc.models import QCDecision, QCLock
from ukbstudy.qc.services import qc_lock_acquire

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


def login(name: str):
    user = user_create(username=name, password="pw-long-enough-1", role="rater")
    client = Client()
    client.force_login(user)
    return user, client


def scans(n: int):
    return [make_scan(make_subject(), processing_state="processed") for _ in range(n)]


def test_the_review_page_names_the_next_scan_to_fetch_ahead():
    first, second, _ = scans(3)
    _, client = login("rita")
    page = client.get(f"/qc/scan/{first.pk}/?centre=").content.decode()
    assert f'data-next="/qc/scan/{second.pk}/"' in page
    last_page = client.get(f"/qc/scan/{first.pk}/?hint=none").content.decode()
    assert f'data-next="/qc/scan/{second.pk}/?hint=none"' in last_page  # the queue's filters are kept


def test_a_decision_posted_for_json_answers_the_next_scan_the_one_after_and_the_counts():
    first, second, third = scans(3)
    rater, client = login("rita")
    client.get(f"/qc/scan/{first.pk}/")
    response = client.post(f"/qc/scan/{first.pk}/decide/", {"verdict": "pass", "confidence": "4"}, **JSON)
    assert response.status_code == 200
    answer = response.json()
    assert answer == {"message": f"{first}: pass saved", "queue": "/qc/",
                      "next": f"/qc/scan/{second.pk}/", "then": f"/qc/scan/{third.pk}/",
                      "counts": {"left": 2, "capped": False, "today": 1}}
    decision = QCDecision.objects.get()
    assert (decision.scan_id, decision.rater_id, decision.verdict, decision.confidence) == (
        first.pk, rater.pk, "pass", 4)
    # The next scan is held for this rater, and the message was not left for a later page to show.
    assert QCLock.objects.get(scan=second).rater_id == rater.pk
    assert "pass saved" not in client.get(f"/qc/scan/{second.pk}/").content.decode()


def test_the_last_scan_answers_no_next_and_the_queue():
    (only,) = scans(1)
    _, client = login("rita")
    answer = client.post(f"/qc/scan/{only.pk}/decide/", {"verdict": "fail", "reason": "noise"}, **JSON).json()
    assert (answer["next"], answer["then"], answer["queue"]) == (None, None, "/qc/")
    assert answer["counts"] == {"left": 0, "capped": False, "today": 1}


def test_an_invalid_decision_records_nothing_and_answers_its_errors():
    first, _ = scans(2)
    _, client = login("rita")
    response = client.post(f"/qc/scan/{first.pk}/decide/", {"verdict": "maybe"}, **JSON)
    assert response.status_code == 400
    assert "verdict" in json.loads(response.content)["errors"]
    assert not QCDecision.objects.exists()
    plain = client.post(f"/qc/scan/{first.pk}/decide/", {"verdict": "maybe"})  # what the page then does
    assert plain.status_code == 400 and 'class="error"' in plain.content.decode()


def test_a_scan_another_rater_holds_is_refused_with_409():
    first, _ = scans(2)
    olga, _ = login("olga")
    qc_lock_acquire(scan=first, rater=olga)
    _, client = login("rita")
    response = client.post(f"/qc/scan/{first.pk}/decide/", {"verdict": "pass"}, **JSON)
    assert response.status_code == 409 and "olga" in response.json()["error"]
    assert not QCDecision.objects.exists()


def test_fetching_the_next_page_ahead_takes_no_hold_and_is_refused_when_another_rater_holds_it():
    first, second, _ = scans(3)
    olga, _ = login("olga")
    rater, client = login("rita")
    ahead = {"HTTP_X_REQUESTED_WITH": "fetch"}
    assert client.get(f"/qc/scan/{second.pk}/", **ahead).status_code == 200
    assert not QCLock.objects.filter(scan=second).exists()  # other raters may still take it meanwhile
    qc_lock_acquire(scan=second, rater=olga)
    assert client.get(f"/qc/scan/{second.pk}/", **ahead).status_code == 409
    client.get(f"/qc/scan/{first.pk}/")
    answer = client.post(f"/qc/scan/{first.pk}/decide/", {"verdict": "pass"}, **JSON).json()
    assert answer["next"] != f"/qc/scan/{second.pk}/"  # the page then loads what the server names
    assert QCLock.objects.get(scan=second).rater_id == olga.pk


def test_a_failure_after_the_decision_is_stored_still_answers_that_it_was_recorded(monkeypatch):
    from django.db import DatabaseError

    from ukbstudy.qc import views

    first, _ = scans(2)
    _, client = login("rita")

    def broken(**kwargs):
        raise DatabaseError("database is locked")

    monkeypatch.setattr(views, "qc_queue_counts", broken)
    response = client.post(f"/qc/scan/{first.pk}/decide/", {"verdict": "pass"}, **JSON)
    assert response.status_code == 200
    assert (response.json()["next"], response.json()["counts"]) == (None, None)
    assert QCDecision.objects.filter(scan=first).count() == 1
