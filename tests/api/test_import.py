"""Bulk QC import from a spreadsheet CSV: checked as a whole, written in one go, replayed in time order,
and a no-op when imported again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from tests.factories import make_scan
from ukbstudy.qc.importing import QCImportError, qc_decisions_import
from ukbstudy.qc.models import QCDecision
from ukbstudy.qc.services import qc_decision_record

pytestmark = pytest.mark.django_db

GOOD = """eid,instance,verdict,reason,note,rater,decided_at
1000001,2,fail,water_fat_swap,stations 2-3,rater-user,2023-03-01T10:00:00Z
1000001,,pass,,re-read after recon,analyst-user,2023-03-02T09:30:00+01:00
1000002,2,Questionable,,,rater-user,2023-03-01T11:00:00
1000009,2,pass,,,rater-user,2023-03-01T12:00:00Z
"""


def write(tmp_path, text: str):
    path = tmp_path / "qc.csv"
    path.write_text(text, encoding="utf-8")
    return path


def history() -> list[tuple]:
    return list(QCDecision.all_objects.order_by("scan_id", "decided_at", "id").values_list(
        "scan__subject__eid", "rater__username", "decided_at", "verdict", "reason", "note", "previous_verdict"))


def test_a_good_file_adds_every_decision_in_time_order(tmp_path, users, cohort):
    report = qc_decisions_import(path_or_file=write(tmp_path, GOOD), imported_by=users["admin"])
    assert (report.rows, report.created, report.unchanged, report.withdrawn_skipped) == (4, 3, 0, 1)
    assert history() == [
        (1000001, "rater-user", datetime(2023, 3, 1, 10, tzinfo=UTC), "fail", "water_fat_swap", "stations 2-3", ""),
        (1000001, "analyst-user", datetime(2023, 3, 2, 8, 30, tzinfo=UTC), "pass", "", "re-read after recon", "fail"),
        (1000002, "rater-user", datetime(2023, 3, 1, 11, tzinfo=UTC), "questionable", "", "", ""),
    ]


def test_importing_the_same_file_again_changes_nothing(tmp_path, users, cohort):
    path = write(tmp_path, GOOD + "1000002,2,pass,,fine on a second look,rater-user,\n")  # an undated row too
    assert qc_decisions_import(path_or_file=path, imported_by=users["admin"]).created == 4
    before = history()
    again = qc_decisions_import(path_or_file=path, imported_by=users["admin"])
    assert (again.created, again.unchanged) == (0, 4)
    assert history() == before


def test_previous_verdicts_replay_recorded_and_imported_decisions_together(tmp_path, users, cohort):
    scan = cohort["scans"][0]
    live = qc_decision_record(scan=scan, rater=users["rater"], verdict="pass")
    text = ("eid,verdict,reason,rater,decided_at\n"
            "1000001,fail,metal,analyst-user,\n"  # undated: now, after the live decision
            "1000001,questionable,noise,analyst-user,2001-01-01T00:00:00Z\n")  # before it
    qc_decisions_import(path_or_file=write(tmp_path, text), imported_by=None)
    rows = list(QCDecision.objects.filter(scan=scan).order_by("decided_at", "id").values_list(
        "verdict", "previous_verdict"))
    assert rows == [("questionable", ""), ("pass", ""), ("fail", "pass")]
    live.refresh_from_db()
    assert live.previous_verdict == ""  # history already recorded is never rewritten


def test_a_bad_file_names_every_bad_cell_and_writes_nothing(tmp_path, users, cohort):
    qc_decision_record(scan=cohort["scans"][0], rater=users["rater"], verdict="pass")
    before = history()
    text = ("eid,instance,verdict,reason,note,rater,decided_at\n"
            "1000001,2,pass,,,rater-user,2023-01-01T00:00:00Z\n"
            "1000003,2,pass,,,rater-user,\n"
            "1000002,3,pass,,,rater-user,\n"
            "1000002,2,maybe,,,rater-user,\n"
            "1000002,2,fail,,,rater-user,\n"
            "1000002,2,pass,gremlins,,rater-user,\n"
            "1000002,2,pass,,,nobody,\n"
            "1000002,2,pass,,,rater-user,1 March 2023\n"
            "x,7,pass,,,rater-user,2999-01-01T00:00:00Z\n")
    with pytest.raises(QCImportError) as caught:
        qc_decisions_import(path_or_file=write(tmp_path, text), imported_by=users["admin"])
    assert caught.value.errors == [
        "line 3, column eid: no participant with eid 1000003",
        "line 4, column instance: participant 1000002 has no scan at instance 3",
        "line 5, column verdict: 'maybe' is not a known verdict (pass, questionable, fail)",
        "line 6, column reason: a failed scan needs a reason",
        "line 7, column reason: 'gremlins' is not a known reason (water_fat_swap, noise, metal, positioning, "
        "motion, other_artefact, data_structure, outside_slab_partial, outside_slab_full, skeletal_abnormality, "
        "other)",
        "line 8, column rater: no user named 'nobody'",
        "line 9, column decided_at: '1 March 2023' is not an ISO 8601 date and time (e.g. 2024-05-01T14:30:00Z)",
        "line 10, column eid: 'x' is not an eid",
        "line 10, column instance: '7' is not an imaging visit (2, 3)",
        "line 10, column decided_at: '2999-01-01T00:00:00Z' is in the future",
    ]
    assert history() == before


def test_unknown_participants_scans_and_raters_are_named_and_nothing_is_written(tmp_path, users, cohort):
    text = ("eid,instance,verdict,rater\n"
            "1000001,2,pass,rater-user\n"
            "1000003,2,pass,rater-user\n"
            "1000002,3,pass,rater-user\n"
            "1000002,2,pass,nobody\n")
    with pytest.raises(QCImportError) as caught:
        qc_decisions_import(path_or_file=write(tmp_path, text), imported_by=None)
    assert caught.value.errors == ["line 3, column eid: no participant with eid 1000003",
                                   "line 4, column instance: participant 1000002 has no scan at instance 3",
                                   "line 5, column rater: no user named 'nobody'"]
    assert not QCDecision.all_objects.exists()


def test_a_second_reader_may_disagree_without_a_note(tmp_path, users, cohort):
    text = ("eid,verdict,rater,decided_at\n"
            "1000001,pass,rater-user,2023-01-02T00:00:00Z\n"
            "1000001,questionable,analyst-user,2023-01-01T00:00:00Z\n")
    assert qc_decisions_import(path_or_file=write(tmp_path, text), imported_by=None).created == 2


def test_a_verdict_changed_without_a_reason_or_note_is_named(tmp_path, users, cohort):
    text = ("eid,verdict,rater,decided_at\n"
            "1000001,pass,rater-user,2023-01-02T00:00:00Z\n"
            "1000001,questionable,rater-user,2023-01-01T00:00:00Z\n")  # earlier: the pass is the change
    with pytest.raises(QCImportError) as caught:
        qc_decisions_import(path_or_file=write(tmp_path, text), imported_by=None)
    assert caught.value.errors == ["line 2, column note: changing your verdict from questionable to pass needs a "
                                   "reason or note"]
    assert not QCDecision.all_objects.exists()


def test_the_importer_and_the_service_refuse_a_change_in_the_same_words(tmp_path, users, cohort):
    scan = cohort["scans"][0]
    qc_decision_record(scan=scan, rater=users["rater"], verdict="pass")
    with pytest.raises(ValidationError) as live:
        qc_decision_record(scan=scan, rater=users["rater"], verdict="questionable")
    with pytest.raises(QCImportError) as imported:
        qc_decisions_import(path_or_file=write(tmp_path, "eid,verdict,rater\n1000001,questionable,rater-user\n"))
    assert imported.value.errors == [f"line 2, column note: {live.value.message_dict['note'][0]}"]


def test_imported_decisions_count_each_rater_of_a_scan_once(tmp_path, users, cohort):
    scan = cohort["scans"][0]
    qc_decision_record(scan=scan, rater=users["rater"], verdict="pass")
    text = ("eid,verdict,reason,note,rater,decided_at\n"
            "1000001,fail,noise,,analyst-user,2023-01-01T00:00:00Z\n"
            "1000001,pass,,re-read,analyst-user,2023-01-02T00:00:00Z\n")
    qc_decisions_import(path_or_file=write(tmp_path, text))
    scan.refresh_from_db()
    assert scan.qc_raters == 2


@pytest.mark.parametrize("text, error", [
    ("", "line 1: the file has no header"),
    ("eid,verdict\n", "line 1: column rater is missing"),
    ("eid,verdict,rater,comment\n1000001,pass,rater-user,x\n", "line 1, column comment: unknown column"),
    ("eid,verdict,rater\n", "the file has no decisions"),
    ("eid,verdict,rater\n1000001,pass,rater-user,extra\n", "line 2: 4 cells but the header has 3 columns"),
    ("eid,verdict,rater,note\n1000001,pass,rater-user,\"" + "x" * 200_000 + "\"\n", "line 2: field larger than"),
])
def test_a_malformed_file_is_refused(tmp_path, cohort, users, text, error):
    with pytest.raises(QCImportError, match=error):
        qc_decisions_import(path_or_file=write(tmp_path, text), imported_by=None)


def test_a_file_that_is_not_utf8_is_refused(tmp_path, cohort):
    path = tmp_path / "qc.csv"
    path.write_bytes("eid,verdict,rater,note\n1000001,pass,rater-user,Müller\n".encode("latin-1"))
    with pytest.raises(QCImportError, match="not UTF-8"):
        qc_decisions_import(path_or_file=path, imported_by=None)


def test_the_command_prints_counts_and_fails_loudly_on_a_bad_file(tmp_path, capsys, users, cohort):
    call_command("import_qc", str(write(tmp_path, GOOD)))
    assert "4 rows: 3 decisions created, 0 already recorded, 1 of withdrawn participants skipped" in \
        capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("eid,verdict,rater\n1000001,maybe,rater-user\n", encoding="utf-8")
    with pytest.raises(CommandError, match="nothing imported:\n  line 2, column verdict: 'maybe'"):
        call_command("import_qc", str(bad))
    assert QCDecision.all_objects.count() == 3


def test_the_api_import_reports_counts_and_bad_cells(client_as, users, cohort):
    client = client_as("admin")
    scan = make_scan(cohort["subjects"][1], instance=3)
    good = f"eid,instance,verdict,rater\n{scan.subject.eid},3,pass,rater-user\n".encode()
    response = client.post("/api/qc-decisions/import/", {"file": _upload(good)}, format="multipart")
    assert response.json() == {"rows": 1, "created": 1, "unchanged": 0, "withdrawn_skipped": 0,
                               "imported_by": "admin-user"}
    response = client.post("/api/qc-decisions/import/", {"file": _upload(b"eid,verdict,rater\n1,pass,x\n")},
                           format="multipart")
    assert response.status_code == 400
    assert response.json() == {"file": ["line 2, column eid: no participant with eid 1",
                                        "line 2, column rater: no user named 'x'"]}
    assert client.post("/api/qc-decisions/import/", {}, format="multipart").status_code == 400
    assert QCDecision.objects.count() == 1


def _upload(content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("qc.csv", content, content_type="text/csv")


def test_imported_decisions_take_their_scans_out_of_the_queue(tmp_path, settings):
    from tests.factories import make_scan, make_subject
    from ukbstudy.accounts.services import user_create
    from ukbstudy.qc.importing import qc_decisions_import
    from ukbstudy.qc.selectors import qc_queue

    settings.QC_RATINGS_PER_SCAN = 1
    old_rater = user_create(username="legacy", password="pw-long-enough-1", role="rater")
    new_rater = user_create(username="fresh", password="pw-long-enough-1", role="rater")
    scan = make_scan(make_subject(eid=4444444), processing_state="processed")
    path = tmp_path / "qc.csv"
    path.write_text("eid,instance,verdict,reason,note,rater,decided_at\n"
                    "4444444,2,pass,,,legacy,2024-01-05T10:00:00Z\n")
    assert list(qc_queue(rater=new_rater)) == [scan]
    qc_decisions_import(path_or_file=path, imported_by=old_rater)
    scan.refresh_from_db()
    assert scan.qc_raters == 1 and list(qc_queue(rater=new_rater)) == []


def test_confidence_and_time_spent_are_imported_when_given(tmp_path, users, cohort):
    text = ("eid,verdict,rater,decided_at,confidence,seconds_spent\n"
            "1000001,pass,rater-user,2023-03-01T10:00:00Z,5,8.25\n"
            "1000002,pass,rater-user,2023-03-01T10:01:00Z,,\n"
            "1000001,pass,analyst-user,2023-03-01T10:02:00Z,2,7200\n")
    qc_decisions_import(path_or_file=write(tmp_path, text))
    assert list(QCDecision.all_objects.order_by("decided_at").values_list("confidence", "seconds_spent")) == [
        (5, 8.2), (None, None), (2, 3600.0)]  # a tenth of a second; over the cap recorded as the cap


def test_a_bad_confidence_or_time_is_named_by_line_and_column(tmp_path, users, cohort):
    text = ("eid,verdict,rater,confidence,seconds_spent\n"
            "1000001,pass,rater-user,0,\n"
            "1000002,pass,rater-user,3,soon\n")
    with pytest.raises(QCImportError) as caught:
        qc_decisions_import(path_or_file=write(tmp_path, text))
    assert caught.value.errors == [
        "line 2, column confidence: '0' is not a confidence (1 unsure to 5 certain, or empty)",
        "line 3, column seconds_spent: 'soon' is not a number of seconds (0 or more, or empty)"]
    assert not QCDecision.all_objects.exists()
