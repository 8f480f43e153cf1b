"""A decision's optional confidence and the seconds it took: validated, capped, append-only, and summed up per
rater on the agreement page."""

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test import Client

from tests.factories import make_scan, make_subject
from ukbstudy.accounts.services import user_create
from ukbstudy.qc.models import SECONDS_SPENT_CAP, QCDecision
from ukbstudy.qc.selectors import qc_rater_effort
from ukbstudy.qc.services import qc_decision_record
from ukbstudy.qc.triggers import append_only_triggers_present

pytestmark = pytest.mark.django_db


def processed_scan():
    return make_scan(make_subject(), processing_state="processed")


def login(role, name=None):
    user = user_create(username=name or role, password="pw-long-enough-1", role=role)
    client = Client()
    client.force_login(user)
    return user, client


def test_the_form_records_confidence_and_time_spent():
    rater, client = login("rater")
    scan = processed_scan()
    response = client.post(f"/qc/scan/{scan.pk}/decide/", {"verdict": "pass", "confidence": "4",
                                                            "seconds_spent": "12.34"})
    assert response.status_code == 302
    decision = QCDecision.objects.get()
    assert (decision.rater, decision.confidence, decision.seconds_spent) == (rater, 4, 12.3)


def test_confidence_and_time_are_optional():
    _, client = login("rater")
    scan = processed_scan()
    assert client.post(f"/qc/scan/{scan.pk}/decide/", {"verdict": "pass", "confidence": "",
                                                        "seconds_spent": ""}).status_code == 302
    decision = QCDecision.objects.get()
    assert (decision.confidence, decision.seconds_spent) == (None, None)


def test_a_time_over_the_cap_is_recorded_as_the_cap():
    _, client = login("rater")
    scan = processed_scan()
    client.post(f"/qc/scan/{scan.pk}/decide/", {"verdict": "pass", "seconds_spent": "86400"})
    assert QCDecision.objects.get().seconds_spent == SECONDS_SPENT_CAP == 3600


@pytest.mark.parametrize(("field", "value"), [("seconds_spent", "-1"), ("seconds_spent", "soon"),
                                              ("seconds_spent", "inf"), ("seconds_spent", "nan"),
                                              ("confidence", "0"), ("confidence", "6"), ("confidence", "high")])
def test_the_page_refuses_a_bad_confidence_or_time(field, value):
    _, client = login("rater")
    scan = processed_scan()
    response = client.post(f"/qc/scan/{scan.pk}/decide/", {"verdict": "pass", field: value})
    assert response.status_code == 400 and not QCDecision.objects.exists()


@pytest.mark.parametrize(("confidence", "seconds"), [(0, None), (6, None), (None, -0.1), (None, float("nan"))])
def test_the_service_refuses_a_bad_confidence_or_time(rater, confidence, seconds):
    with pytest.raises(ValidationError):
        qc_decision_record(scan=make_scan(), rater=rater, verdict="pass", confidence=confidence,
                           seconds_spent=seconds)
    assert not QCDecision.objects.exists()


@pytest.mark.parametrize("values", [{"confidence": 9}, {"seconds_spent": -5.0},
                                    {"seconds_spent": SECONDS_SPENT_CAP + 1}])
def test_the_database_refuses_a_confidence_or_time_out_of_range(rater, values):
    with pytest.raises(IntegrityError), transaction.atomic():
        QCDecision.objects.create(scan=make_scan(), rater=rater, verdict="pass", **values)


def test_a_decisions_confidence_and_time_cannot_be_rewritten_in_the_database(rater):
    qc_decision_record(scan=make_scan(), rater=rater, verdict="pass", confidence=2, seconds_spent=30)
    assert append_only_triggers_present(connection)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("UPDATE qc_qcdecision SET confidence = 5, seconds_spent = 1")
    decision = QCDecision.objects.get()
    assert (decision.confidence, decision.seconds_spent) == (2, 30)


def test_the_migration_puts_the_append_only_triggers_back_after_rebuilding_the_table():
    """SQLite rebuilds the table for the check constraints, dropping its triggers; the migration's last step
    installs them again (on its own, not only through the post-migrate signal)."""
    from importlib import import_module

    from ukbstudy.qc.triggers import remove_append_only_triggers

    migration = import_module("ukbstudy.qc.migrations.0006_confidence_and_time")
    last = migration.Migration.operations[-1]
    remove_append_only_triggers(connection)
    assert not append_only_triggers_present(connection)
    last.code(None, type("SchemaEditor", (), {"connection": connection})())
    assert append_only_triggers_present(connection)


def test_the_review_page_sends_the_time_and_offers_confidence_buttons():
    _, client = login("rater")
    processed_scan()
    page = client.get("/qc/", follow=True).content.decode()
    assert '<input type="hidden" name="seconds_spent" id="id_seconds_spent" value="">' in page
    assert '<input type="hidden" name="confidence" id="id_confidence" value="">' in page
    for value in range(1, 6):
        assert f'<button type="button" data-confidence="{value}" aria-pressed="false">{value}</button>' in page


def test_the_history_shows_confidence_and_time():
    rater, client = login("rater")
    scan = processed_scan()
    qc_decision_record(scan=scan, rater=rater, verdict="pass", confidence=3, seconds_spent=41.6)
    page = client.get(f"/qc/scan/{scan.pk}/").content.decode()
    assert "confidence 3/5, 42 s" in page


def test_the_effort_per_rater_has_the_median_time_and_the_confidence_counts():
    alice, _ = login("rater", "alice")
    bob, _ = login("rater", "bob")
    for confidence, seconds in [(5, 10.0), (5, 20.0), (3, 90.0), (None, None)]:
        qc_decision_record(scan=make_scan(), rater=alice, verdict="pass", confidence=confidence,
                           seconds_spent=seconds)
    qc_decision_record(scan=make_scan(), rater=bob, verdict="pass")
    effort = {row.rater: row for row in qc_rater_effort()}
    assert (effort["alice"].decisions, effort["alice"].timed, effort["alice"].median_seconds) == (4, 3, 20.0)
    assert effort["alice"].confidence == (0, 0, 1, 0, 2) and effort["alice"].no_confidence == 1
    assert (effort["bob"].median_seconds, effort["bob"].confidence, effort["bob"].no_confidence) == (
        None, (0, 0, 0, 0, 0), 1)


def test_the_agreement_page_shows_median_time_and_confidence_per_rater():
    alice, _ = login("rater", "alice")
    _, viewer = login("viewer")
    for confidence, seconds in [(4, 8.0), (4, 12.0), (2, 100.0)]:
        qc_decision_record(scan=make_scan(), rater=alice, verdict="pass", confidence=confidence,
                           seconds_spent=seconds)
    page = viewer.get("/qc/agreement/").content.decode()
    row = page.split('<table id="rater-effort">', 1)[1].split("</table>", 1)[0]
    assert "<th>Median time per decision</th>" in row and "Confidence 5</th>" in row
    cells = row.split("<td>alice</td>", 1)[1].split("</tr>", 1)[0]
    assert cells.startswith("<td>3</td><td>12.0 s")
    assert cells.endswith("<td>0</td><td>1</td><td>0</td><td>2</td><td>0</td><td>0</td>")
