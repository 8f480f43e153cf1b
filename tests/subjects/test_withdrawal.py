"""Withdrawn participants disappear from every default query, but nothing about them is lost."""

import pytest
from django.core.management import call_command

from tests.factories import make_scan, make_subject
from ukbstudy.imaging.models import Scan
from ukbstudy.measurements.models import Measurement
from ukbstudy.measurements.services import measurement_record
from ukbstudy.qc.models import QCDecision
from ukbstudy.qc.services import qc_decision_record
from ukbstudy.showcase.models import ReferenceValue
from ukbstudy.subjects.models import Subject
from ukbstudy.subjects.services.withdrawal import subjects_withdraw

pytestmark = pytest.mark.django_db


def test_a_withdrawn_subject_and_everything_about_them_disappears(rater):
    kept, leaving = make_subject(), make_subject()
    for subject in (kept, leaving):
        scan = make_scan(subject)
        qc_decision_record(scan=scan, rater=rater, verdict="pass")
        measurement_record(scan=scan, quantity="liver_ff", method="manual", value=3.0)
        ReferenceValue.objects.create(subject=subject, field="22402-2.0", value=3.1, import_batch=scan.import_batch)
    outcome = subjects_withdraw(eids=[leaving.eid, 9999999])
    assert outcome == {"withdrawn": [leaving.eid], "already_withdrawn": [], "unknown": [9999999]}
    for model in (Subject, Scan, QCDecision, Measurement, ReferenceValue):
        assert model.objects.count() == 1, model
        assert model.all_objects.count() == 2, model
    assert list(Subject.objects.values_list("eid", flat=True)) == [kept.eid]


def test_the_command_reads_a_withdrawal_file(tmp_path, capsys):
    subject = make_subject()
    path = tmp_path / "w.csv"
    path.write_text(f"{subject.eid}\n1234\n")
    call_command("withdraw_subjects", "--file", str(path))
    assert "1 withdrawn, 0 already withdrawn, 1 not in the study" in capsys.readouterr().out
    assert Subject.all_objects.get(pk=subject.pk).withdrawn
