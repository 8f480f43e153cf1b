"""The synthetic cohort command and the demo pipeline, end to end on tiny volumes."""

import csv
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from ukbstudy.imaging.models import Scan
from ukbstudy.showcase.models import CovariateValue
from ukbstudy.subjects.models import Subject

pytestmark = pytest.mark.django_db


def test_make_synthetic_cohort_writes_archives_showcase_truth_and_labels(tmp_path, capsys):
    out = tmp_path / "cohort"
    call_command("make_synthetic_cohort", "--subjects", "2", "--out", str(out), "--seed", "5", "--scale", "0.2",
                 "--repeat-fraction", "0", "--clean")
    assert len(list((out / "archives").glob("*_20201_2_0.zip"))) == 2
    with (out / "ground_truth.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 and all(row["faults"] == "" for row in rows)
    assert len(list((out / "labels").rglob("liver.nii.gz"))) == 2
    assert "2 archives" in capsys.readouterr().out
    with pytest.raises(CommandError, match="is not empty"):
        call_command("make_synthetic_cohort", "--subjects", "1", "--out", str(out), "--scale", "0.2")


@pytest.mark.django_db(transaction=True)  # the demo's jobs start when their transactions commit
def test_the_demo_runs_the_pipeline_and_leaves_an_admin_to_log_in_with(settings, tmp_path, capsys, client,
                                                                       erasable_qc_history):
    settings.DATA_DIR = tmp_path / "data"
    call_command("demo", "--subjects", "4", "--scale", "0.2", "--no-serve")
    out = capsys.readouterr().out
    assert "visual QC (simulated rater): 4 decisions recorded" in out and "1 scans left in the QC queue" in out
    assert "dataset A is too small to train on" in out  # four subjects: the network says so instead of failing
    for step in ("liverfat", "atlas", "marrow", "results"):
        assert f"({step}: " in out
    assert Subject.objects.count() == 4 and Scan.objects.filter(instance=3).count() == 1 == Scan.objects.count() - 4
    assert CovariateValue.objects.filter(field="23204-2.0").count() == 4
    assert set(Scan.objects.values_list("processing_state", flat=True)) == {"processed"}
    assert "preprocessing: " in out and " 0 failed" in out
    password = out.rsplit("as demo / ", 1)[1].split()[0]
    rater_password = out.rsplit("rater / ", 1)[1].split()[0]
    rater = Client()
    assert rater.login(username="rater", password=rater_password)
    assert rater.get("/qc/")["Location"].startswith("/qc/scan/")  # a preprocessed scan to review
    assert client.login(username="demo", password=password)
    scan = Scan.objects.first()
    listing = client.get("/admin/imaging/scan/")
    assert listing.status_code == 200 and str(scan) in listing.content.decode()
    detail = client.get(f"/admin/imaging/scan/{scan.pk}/change/")
    assert detail.status_code == 200 and "Dixon_" in detail.content.decode()
    call_command("demo", "--subjects", "4", "--scale", "0.2", "--no-serve")  # a second run imports nothing new
    assert "0 imported" in capsys.readouterr().out and Subject.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_the_demo_serves_once_the_scans_are_ready_and_runs_the_networks_meanwhile(settings, tmp_path, capsys,
                                                                                 monkeypatch, erasable_qc_history):
    import threading

    from ukbstudy.demo.management.commands import demo

    settings.DATA_DIR = tmp_path / "data"
    served = {}

    def fake_call_command(name, *args, **kwargs):
        if name != "runserver":
            return call_command(name, *args, **kwargs)
        served["processed"] = Scan.objects.filter(processing_state="processed").count()
        served["out"] = capsys.readouterr().out  # what the newcomer has read when the server starts
        steps = next(t for t in threading.enumerate() if t.name == "demo-steps")
        steps.join(timeout=600)  # the server would answer meanwhile; here the test waits for the steps
        served["alive"] = steps.is_alive()

    monkeypatch.setattr(demo, "call_command", fake_call_command)
    monkeypatch.setattr("ukbstudy.demo.progress.INTERVAL_S", 0.5)
    call_command("demo", "--subjects", "4", "--scale", "0.2", "--skip", "results")
    assert served["processed"] == Scan.objects.count() >= 4  # preprocessing had finished before the server started
    assert "Open http://127.0.0.1:8000/" in served["out"] and "/jobs/" in served["out"]
    assert not served["alive"]
    later = capsys.readouterr().out
    assert "(liverfat: " in later and "(marrow: " in later and "demo pipeline finished in" in later
    # the progress lines of the jobs as they run (the atlas job's: four subjects are too few to train on)
    assert re.search(r"^\[00:\d\d\] job \d+ \(multi-atlas measurement\): \d+ of 3", later, re.MULTILINE), later
