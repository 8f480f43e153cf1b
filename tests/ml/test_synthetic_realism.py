"""The realism report of the synthetic cohort (ml.synthetic.realism), on three clean subjects at scale 0.25.

The cohort is written by ``make_synthetic_cohort --report``, so the command, the folder reader and the JSON
are tested together; the generator's in-memory scans of the same visits must give the same figures.
"""

from __future__ import annotations

import io
import json
import shutil
from dataclasses import replace

import numpy as np
import pytest
from django.core.management import call_command

from ml.synthetic import make_cohort
from ml.synthetic.faults import FaultPlan
from ml.synthetic.population import make_population
from ml.synthetic.realism import (
    FIGURES,
    cohort_report,
    cortex_thickness,
    expected_range,
    rician_noise_sd,
    scans_report,
    snr,
)
from ml.synthetic.scan import imaging_of, scan_visit

SCALE = 0.25
SEED = 5
N = 3


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """(folder, the command's output, realism.json) of a clean three-subject cohort."""
    out = tmp_path_factory.mktemp("realism") / "cohort"
    stdout = io.StringIO()
    call_command("make_synthetic_cohort", "--subjects", str(N), "--out", str(out), "--seed", str(SEED),
                 "--scale", str(SCALE), "--repeat-fraction", "0", "--clean", "--report", stdout=stdout)
    return out, stdout.getvalue(), json.loads((out / "realism.json").read_text())


@pytest.mark.parametrize("key", [figure.key for figure in FIGURES])
def test_each_figure_lies_within_the_current_generators_documented_range(cohort, key):
    value = cohort[2]["figures"][key]
    low, high = expected_range(key, SCALE)
    assert value is not None and low <= value <= high, f"{key} = {value}, expected {low}-{high}"


def test_the_command_prints_one_table_with_the_published_counterparts(cohort):
    output = cohort[1]
    rows = [[cell.strip() for cell in line.split(" | ")] for line in output.splitlines() if line.count(" | ") == 3]
    assert rows[0] == ["figure", "synthetic", "published", "note"]
    assert len(rows) == 1 + len(FIGURES)
    assert "< 5-10 pixels" in output and "2244 +/- 438" in output and "no published figure" in output
    assert f"{N} visits measured at scale {SCALE:g}" in output
    assert "realism.json" in output


def test_every_figure_names_its_published_counterpart_or_says_there_is_none():
    assert all(figure.published for figure in FIGURES)
    assert {figure.key for figure in FIGURES if figure.published == "no published figure"} >= {
        "snr_station_1", "liver_ff_sd", "seam_1_2", "diaphysis_cortex_voxels"}


def test_the_json_holds_each_visit_and_the_ranges_it_was_checked_against(cohort):
    document = cohort[2]
    assert len(document["visits"]) == N and document["excluded"] == []
    assert document["expected"]["volume_diaphysis"] == list(expected_range("volume_diaphysis", SCALE))
    stations = document["visits"][0]["snr"]
    assert sorted(stations) == ["1", "2", "3", "4", "5", "6"]


def test_the_noise_estimated_in_air_is_the_generators_noise_of_each_run(cohort):
    visits = {visit.name: visit for visit in make_population(N, SEED, 0.0, {}).visits}
    sds = []
    for figures in cohort[2]["visits"]:
        for number, station in figures["snr"].items():
            sd = imaging_of(visits[figures["visit"]], SEED, int(number)).noise_sd
            assert station["noise_sd_from_mean"] == pytest.approx(sd, rel=0.03)
            assert station["noise_sd_from_sd"] == pytest.approx(sd, rel=0.03)
            sds.append(sd)
    assert max(sds) / min(sds) > 1.3  # stations and visits differ


def test_the_in_memory_scans_give_the_figures_of_the_folder(cohort):
    population = make_population(N, SEED, 0.0, {})
    report = scans_report([scan_visit(visit, SEED, SCALE) for visit in population.visits], SEED, SCALE)
    assert report.figures == pytest.approx(cohort[2]["figures"], rel=1e-9)


def test_a_visit_whose_images_a_fault_alters_is_left_out():
    visit = make_population(1, SEED, 0.0, {}).visits[0]
    noisy = replace(visit, faults=FaultPlan(codes=("noise",), noise_stations=(3,), noise_factor=8.0))
    report = scans_report([scan_visit(noisy, SEED, SCALE)], SEED, SCALE)
    assert report.excluded == [noisy.name] and report.visits == []
    assert f"left out (faults): {noisy.name}" in report.table()


def test_a_folder_that_does_not_match_its_cohort_json_is_refused(cohort, tmp_path):
    for name in ("cohort.json", "ground_truth.csv"):
        shutil.copy(cohort[0] / name, tmp_path / name)
    truth = tmp_path / "ground_truth.csv"
    lines = truth.read_text().splitlines()
    cells = lines[1].split(",")
    cells[4] = "39.999"  # liver_ff_true
    truth.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    with pytest.raises(ValueError, match="does not match ground_truth.csv"):
        cohort_report(tmp_path)


def test_the_snr_estimator_recovers_a_known_signal_over_rician_noise():
    rng = np.random.default_rng(0)
    sigma, signal, n = 10.0, 400.0, 400_000
    tissue = np.hypot(signal + sigma * rng.standard_normal(n), sigma * rng.standard_normal(n))
    air = np.hypot(sigma * rng.standard_normal(n), sigma * rng.standard_normal(n))
    from_mean, from_sd = rician_noise_sd(air)
    assert from_mean == pytest.approx(sigma, rel=0.01)
    assert from_sd == pytest.approx(sigma, rel=0.01)
    assert snr(tissue, air) == pytest.approx(signal / sigma, rel=0.01)
    assert tissue.mean() / air.mean() == pytest.approx(signal / sigma / np.sqrt(np.pi / 2), rel=0.01)  # uncorrected


def test_cortex_thickness_of_a_ring_is_its_radial_width():
    y, x = np.mgrid[-20:21, -20:21]
    radius = np.hypot(y, x)
    marrow, cortex = radius <= 8, (radius > 8) & (radius <= 11)
    assert cortex_thickness(marrow, cortex) == pytest.approx(3.0, abs=0.3)


def test_faults_the_importer_undoes_are_measured_like_a_clean_visit(tmp_path):
    """A repeated station and water numbered in the fat slot leave the kept images as they were."""
    summary = make_cohort(tmp_path / "c", 1, seed=SEED, scale=SCALE, repeat_fraction=0.0,
                          fault_rates={"repeated_station": 1.0, "water_in_fat_slot": 1.0})
    clean = make_population(1, SEED, 0.0, {}).visits[0]
    expected = scans_report([scan_visit(clean, SEED, SCALE)], SEED, SCALE).figures
    assert cohort_report(summary.out_dir).figures == pytest.approx(expected, rel=1e-9)
