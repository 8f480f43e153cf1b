"""QC history: append-only in the model and in the database itself."""

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction

from tests.factories import make_scan
from ukbstudy.qc.models import AppendOnlyError, QCDecision
from ukbstudy.qc.selectors import qc_current_decision, qc_history, scans_with_qc_status
from ukbstudy.qc.services import qc_decision_record

pytestmark = pytest.mark.django_db


def test_the_newest_decision_is_the_current_status(rater, other_rater):
    scan = make_scan()
    qc_decision_record(scan=scan, rater=rater, verdict="pass")
    second = qc_decision_record(scan=scan, rater=other_rater, verdict="fail", reason="water_fat_swap")
    assert qc_current_decision(scan=scan) == second
    assert second.previous_verdict == "pass"
    assert scans_with_qc_status().get(pk=scan.pk).qc_status == "fail"
    assert [d.verdict for d in qc_history(scan=scan)] == ["fail", "pass"]


def test_an_unreviewed_scan_has_no_status():
    scan = make_scan()
    assert scans_with_qc_status().get(pk=scan.pk).qc_status is None


def test_a_fail_needs_a_reason(rater):
    with pytest.raises(ValidationError, match="a failed scan needs a reason"):
        qc_decision_record(scan=make_scan(), rater=rater, verdict="fail")


def test_changing_a_verdict_needs_a_reason_or_note(rater):
    scan = make_scan()
    qc_decision_record(scan=scan, rater=rater, verdict="pass")
    with pytest.raises(ValidationError, match="changing your verdict from pass to questionable"):
        qc_decision_record(scan=scan, rater=rater, verdict="questionable")
    qc_decision_record(scan=scan, rater=rater, verdict="questionable", note="slight fold-over at station 3")
    assert QCDecision.objects.count() == 2


def test_a_scan_counts_each_of_its_raters_once(rater, other_rater):
    scan = make_scan()
    qc_decision_record(scan=scan, rater=rater, verdict="pass")
    qc_decision_record(scan=scan, rater=rater, verdict="questionable", reason="noise")
    qc_decision_record(scan=scan, rater=other_rater, verdict="pass")
    scan.refresh_from_db()
    assert scan.qc_raters == 2


def test_the_model_refuses_to_change_or_delete_a_decision(rater):
    decision = qc_decision_record(scan=make_scan(), rater=rater, verdict="pass")
    decision.verdict = "fail"
    with pytest.raises(AppendOnlyError):
        decision.save()
    with pytest.raises(AppendOnlyError):
        decision.delete()


def test_the_database_refuses_updates_and_deletes_from_any_client(rater):
    decision = qc_decision_record(scan=make_scan(), rater=rater, verdict="pass")
    statements = ("UPDATE qc_qcdecision SET verdict = 'fail' WHERE id = %s", "DELETE FROM qc_qcdecision WHERE id = %s")
    for statement in statements:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [decision.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        QCDecision.all_objects.filter(pk=decision.pk).update(note="rewritten")
    decision.refresh_from_db()
    assert (decision.verdict, decision.note) == ("pass", "")


def test_triggers_lost_in_a_table_rebuild_come_back_after_migrate(rater):
    from django.core.management import call_command

    from ukbstudy.qc.triggers import append_only_triggers_present, remove_append_only_triggers

    decision = qc_decision_record(scan=make_scan(), rater=rater, verdict="pass")
    remove_append_only_triggers(connection)  # what SQLite does when a migration rebuilds the table
    assert not append_only_triggers_present(connection)
    call_command("migrate", verbosity=0)
    assert append_only_triggers_present(connection)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        QCDecision.all_objects.filter(pk=decision.pk).update(note="rewritten")
