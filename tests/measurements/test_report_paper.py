"""report paper: every table of both papers from the database, each with its n and dataset, or why not."""

import csv
import io

import numpy as np
import pytest
from django.core.management import call_command

from tests.results.cohort import build_cohort
from ukbstudy.measurements.models import ModelVersion
from ukbstudy.measurements.services import measurement_record
from ukbstudy.results.paper import paper_sections
from ukbstudy.showcase.models import CovariateValue

pytestmark = pytest.mark.django_db

N, WITH_REFERENCE = 60, 45
DXA = {"23205-2.0": None, "23299-2.0": (0.9, 0.1), "23291-2.0": (0.95, 0.1), "23290-2.0": (1.2, 0.1),
       "23276-2.0": (30.0, 6.0), "23247-2.0": (32.0, 6.0), "23288-2.0": (1500.0, 400.0)}  # no trunk fat (23286)
T_SCORES = (0.5, -1.7, -3.0)  # normal, osteopaenia, osteoporosis (WHO), in turn


@pytest.fixture
def cohort(rater):
    """``N`` subjects (build_cohort: reference on the first 45, network and atlas on all, spine BMFF and spine
    BMD), plus BMFF of the three femoral regions, spine T-scores covering the three WHO groups, the other DXA
    fields except trunk fat, and a current segmentation model with held-out Dice."""
    rng = np.random.default_rng(11)
    scans = build_cohort(rater, n=N, with_reference=WITH_REFERENCE)
    for i, scan in enumerate(scans):
        for region, centre in (("femoral_head", 88.0), ("total_hip", 80.0), ("diaphysis", 75.0)):
            value = centre + (2.0 if scan.subject.sex == "M" else 0.0) + float(rng.normal(0, 3))
            measurement_record(scan=scan, quantity=f"bmff_{region}", method="segmentation", value=value)
        for field, spread in DXA.items():
            value = T_SCORES[i % 3] + float(rng.normal(0, 0.2)) if spread is None else float(rng.normal(*spread))
            CovariateValue.objects.create(subject=scan.subject, field=field, value=value,
                                          import_batch=scan.import_batch)
    dice = {"spine": 0.912, "femoral_head": 0.945, "total_hip": 0.912, "diaphysis": 0.866}
    for name, shift, current in (("roi_attention_unet", 0.0, True), ("unet", -0.1, False)):
        metrics = {"dice": {r: {"n": 3, "mean": d + shift, "min": d - 0.2, "sd": 0.01} for r, d in dice.items()}}
        ModelVersion.objects.create(task="bmff_segmentation", name=name, version="run-7", is_current=current,
                                    metrics=metrics)
    return scans


def sections_by_table() -> dict[str, object]:
    return {section.title.split(":")[0]: section for section in paper_sections()}


def test_every_section_is_filled_with_its_n_and_dataset(cohort, capsys):
    call_command("report", "paper")
    out = capsys.readouterr().out
    sections = sections_by_table()
    assert len(sections) == 10 and "cannot be filled" not in out
    liver = sections["Liver fat paper, Table 1"]
    c_size = N - WITH_REFERENCE - 1  # the last subject fails QC
    assert f"n = {WITH_REFERENCE};" in liver.dataset and f"n = {c_size}" in liver.dataset
    assert "Reference vs Network" in out and "Atlas (C) vs Network (C)" in out
    table_1 = sections["Bone marrow paper, Table 1"]
    counts = "Control 10, Osteopaenic 10, Osteoporotic 10"
    assert f"and sex, n = {N} (Males {counts}; Females {counts})" in table_1.dataset
    assert table_1.tables[0].header == ("Variable", *(f"{sex} {group} (n = 10)" for sex in ("Males", "Females")
                                                      for group in ("Control", "Osteopaenic", "Osteoporotic")))
    assert [row[0] for row in table_1.tables[0].rows] == [
        "Age (years)", "BMI (kg/m²)", "BMD T-score (L1-L4)", "Android tissue fat% by DXA", "Legs tissue fat% by DXA",
        "VAT mass (g)", "BMFF Spine (T8-L3) (%)", "BMFF Femoral head (%)", "BMFF Total hip (%)",
        "BMFF Femoral diaphysis (%)"]
    t_scores = dict(zip(table_1.tables[0].header, table_1.tables[0].rows[2], strict=True))
    assert t_scores["Males Osteoporotic (n = 10)"].endswith("***")  # -3.0 against 0.5, 10 per group
    assert not t_scores["Males Control (n = 10)"].endswith("*")
    assert "BMD T-score (total femur, left) left out: no values of tscore_total_hip (field 23293-2.0)" in table_1.lines
    assert "held-out test sets of run run-7" in sections["Bone marrow paper, Table 2"].dataset
    assert "ROI-attention U-Net" in out and "0.866" in out and "0.766" in out
    assert "n = 20 subjects, 80 values" in sections["Bone marrow paper, Fig. 5A"].dataset
    assert "region:sex" in out and "F vs M" in out
    assert f"n = {N} per pair" in sections["Bone marrow paper, Table 4"].dataset
    for table in ("Table 5", "Table 6", "Table 7", "Table 8"):
        assert f"(common sample), n = {N};" in sections[f"Bone marrow paper, {table}"].dataset
    assert "Model 4.6" in out and "Model 7.5" in out and "Sex (M)" in out


def test_a_model_whose_covariate_the_database_lacks_is_skipped_and_said_so(cohort):
    sections = sections_by_table()
    table_6, table_8 = sections["Bone marrow paper, Table 6"], sections["Bone marrow paper, Table 8"]
    assert "Model 5.8 skipped: no values of fat_pct_trunk (field 23286-2.0)" in table_6.lines
    assert "Model 5.12 skipped: no values of fat_pct_trunk (field 23286-2.0)" in table_6.lines
    assert [row[0] for row in table_6.tables[0].rows] == [f"Model 5.{i}" for i in (1, 2, 3, 4, 5, 6, 7, 9, 10, 11)]
    assert [row[0] for row in table_8.tables[0].rows] == [f"Model 7.{i}" for i in (1, 2, 3, 4, 5)]
    assert table_6.tables[0].header[3:] == ("BMFF Femoral head", "BMFF Total hip", "BMFF Spine (T8-L3)", "Sex (M)",
                                            "BMI", "Legs fat%", "Android fat%")  # the paper's column order
    assert sections["Bone marrow paper, Table 5"].lines == ()


def test_csv_gives_one_block_per_table_after_a_title_line(cohort, capsys):
    call_command("report", "paper", "--format", "csv", "--seed", "3")
    out = capsys.readouterr().out.replace("\r\n", "\n")  # the csv module ends rows with CRLF
    assert "# Bone marrow paper, Fig. 5A: BMFF by region and sex in control subjects (mixed-effects model)\n" in out
    assert "\n# BMFF by region and sex: overall tests\nTerm,Test,Statistic,df,P\n" in out
    lines = out.splitlines()
    headers = [lines[i + 1] for i, line in enumerate(lines[:-1]) if line.startswith("# ") and lines[i + 1]
               and not lines[i + 1].startswith("# ")]
    assert len(headers) == sum(len(s.tables) for s in paper_sections(seed=3)) == 13
    assert "Architecture,Spine (T8-L3),Femoral head,Total hip,Femoral diaphysis" in headers
    grid = out.split("# Multivariable regression: BMD total hip\n")[1].split("\n\n")[0]
    assert [row[0] for row in csv.reader(io.StringIO(grid))] == ["Model", *(f"Model 6.{i}" for i in range(1, 5))]


def test_an_empty_database_prints_why_each_section_cannot_be_filled(capsys):
    call_command("report", "paper")  # no exception: exit status 0
    out = capsys.readouterr().out
    sections = paper_sections()
    assert len(sections) == 10 and all(not s.tables and s.lines[0].startswith("cannot be filled: ") for s in sections)
    assert out.count("cannot be filled") == 10
    assert "dataset A is empty" in out and "no current segmentation model: run `manage.py marrow train`" in out
    assert "no spine T-scores" in out and "no values of bmd_femoral_shaft (field 23290-2.0)" in out
    assert "no pair has values" in out
    call_command("report", "--format", "csv", "paper")  # --format before the subcommand works too
    assert all(line.startswith("# ") for line in capsys.readouterr().out.splitlines() if line)


def test_missing_atlas_values_on_dataset_c_are_named(rater, capsys):
    scans = build_cohort(rater, n=20, with_reference=14)
    from ukbstudy.measurements.models import Measurement

    Measurement.objects.filter(method="atlas", subject__in=[s.subject for s in scans[14:]]).delete()
    call_command("report", "paper")
    assert "no atlas values on dataset C" in capsys.readouterr().out


def write_truth(path, scans, shift: float) -> None:
    """A ground_truth.csv giving every subject's true values: the stored network value + ``shift`` for the liver,
    70 + 1 per region (femoral head 71) + noise below 0.005 for the marrow."""
    from ukbstudy.measurements.models import Measurement

    network = dict(Measurement.objects.filter(method="network").values_list("subject__eid", "value"))
    regions = ("spine", "femoral_head", "total_hip", "diaphysis")
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["eid", "instance", "liver_ff_true", *(f"bmff_{r}" for r in regions)])
        rng = np.random.default_rng(5)
        for scan in scans:
            eid = scan.subject.eid
            writer.writerow([eid, 2, network.get(eid, 5.0) + shift,
                             *(70.0 + i + rng.uniform(-0.004, 0.004) for i in range(len(regions)))])
        writer.writerow([eid, 3, 99.0, 1.0, 1.0, 1.0, 1.0])  # another visit: ignored


def test_truth_replaces_every_measured_value_by_the_true_one_on_the_same_subjects(cohort, tmp_path, capsys):
    write_truth(tmp_path / "ground_truth.csv", cohort, shift=0.0)
    call_command("report", "paper", "--truth", str(tmp_path / "ground_truth.csv"))
    out = capsys.readouterr().out
    from ml.synthetic.tables import read_true_values

    truth = {s.title.split(":")[0]: s for s in paper_sections(truth=read_true_values(tmp_path / "ground_truth.csv"))}
    agreement = {row[0]: row for row in truth["Liver fat paper, Table 1"].tables[0].rows}
    # network and atlas both become the true value: they agree exactly; the reference keeps its own values
    assert agreement["Atlas vs Network"][1:3] == ("0.00", "1.000")
    assert agreement["Reference vs Network"][1:] == agreement["Reference vs Atlas"][1:]
    assert truth["Bone marrow paper, Table 2"].lines == (
        "cannot be filled: with the true values: an exact segmentation has Dice 1 in every region",)
    rows = {row[0]: row for row in truth["Bone marrow paper, Table 1"].tables[0].rows}
    assert rows["BMFF Femoral head (%)"][1].startswith("71.00")  # every true femoral head BMFF is 71
    assert rows["VAT mass (g)"] == {row[0]: row for row in sections_by_table()["Bone marrow paper, Table 1"]
                                    .tables[0].rows}["VAT mass (g)"]  # DXA covariates are not measured by the app
    assert truth["Bone marrow paper, Table 4"].dataset == sections_by_table()["Bone marrow paper, Table 4"].dataset
    assert "Atlas vs Network" in out


def test_a_bad_truth_file_is_refused_naming_line_and_column(tmp_path):
    from django.core.management.base import CommandError

    bad = tmp_path / "ground_truth.csv"
    bad.write_text("eid,instance,liver_ff_true,bmff_spine,bmff_femoral_head,bmff_total_hip,bmff_diaphysis\n"
                   "1000001,2,4.5,60,70,71,abc\n")
    with pytest.raises(CommandError, match=r"line 2, column bmff_diaphysis: not a number: 'abc'"):
        call_command("report", "paper", "--truth", str(bad))
    bad.write_text("eid,instance\n1,2\n")
    with pytest.raises(CommandError, match="not a ground truth file"):
        call_command("report", "paper", "--truth", str(bad))
