"""``make_cohort``: a complete synthetic UK Biobank imaging delivery in one folder.

Layout of ``out_dir``::

    archives/{eid}_20201_{2|3}_0.zip       field 20201 archives (instance 3 = repeat imaging visit)
    labels/{eid}_20201_{2|3}_0/*.nii.gz     liver (fused grid), spine (station 2), femoral_head and
                                            total_hip (station 4), diaphysis (station 5)
    showcase.csv                            one row per participant, real showcase field ids in ukbconv's
                                            header style (``22402-2.0``), values in the showcase's units;
                                            visit columns (date, age, height, BMI, centre) and 22402 also at
                                            instance 3, filled for participants with a repeat visit
    showcase_rap.csv                        the same basket as the Research Analysis Platform's table
                                            exporter names it (``participant.p22402_i2``), on request
    ground_truth.csv                        one row per archive: true fat fractions, faults, labels, days
                                            since the first visit, true age and BMI (``read_true_changes``)
    qc_decisions.csv                        a simulated visual QC (``import_qc`` layout, rater
                                            ``synthetic-rater``): fails for swaps, noise, metal, missing stations
    cohort.json                             seed, scale, fault rates, generator version

``out_dir`` must be new or empty, so archives of two cohorts can never be mixed. Everything is a
function of the arguments: the same seed gives the same bytes in every file (CSV, JSON, zip, NIfTI).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ml.synthetic.archive import patient_of, write_archive
from ml.synthetic.faults import FAULT_CODES, resolve_rates
from ml.synthetic.labels import write_label
from ml.synthetic.population import Visit, make_population
from ml.synthetic.scan import scan_visit
from ml.synthetic.seeding import stream
from ml.synthetic.tables import (
    ground_truth_row,
    write_cohort_json,
    write_ground_truth,
    write_qc_decisions,
    write_showcase,
)
from ml.ukb.headers import RAP

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class CohortSummary:
    """What ``make_cohort`` wrote, and how long it took."""

    out_dir: Path
    n_subjects: int
    archives: list[Path]
    showcase_csv: Path
    ground_truth_csv: Path
    cohort_json: Path
    labels_dir: Path
    qc_csv: Path
    fault_counts: dict[str, int]
    seconds: float


def make_cohort(out_dir: str | Path, n_subjects: int, seed: int = 0, scale: float = 1.0,
                repeat_fraction: float = 0.05, fault_rates: Mapping[str, float] | None = None,
                progress: Progress | None = None, rap_export: bool = False) -> CohortSummary:
    """Write a synthetic cohort of ``n_subjects`` participants to ``out_dir``.

    ``scale`` multiplies every matrix size and slice count (the field of view stays); 0.25 makes small
    fast cohorts for tests. ``fault_rates`` maps fault codes (``faults.FAULT_CODES``) to per-archive
    probabilities; None uses the papers' rates, ``{}`` gives a clean cohort and 1.0 plants a fault in
    every archive. ``progress(done, total)`` is called after each archive. ``rap_export`` also writes
    the showcase as a Research Analysis Platform export (``showcase_rap.csv``).
    """
    if n_subjects < 1 or scale <= 0:
        raise ValueError("n_subjects must be at least 1 and scale positive")
    started = time.perf_counter()
    rates = resolve_rates(fault_rates)  # rejects unknown codes before anything is written
    out = _prepare(Path(out_dir))
    population = make_population(n_subjects, seed, repeat_fraction, rates)
    rows = []
    for done, visit in enumerate(population.visits, start=1):
        rows.append(_write_visit(out, visit, seed, scale))
        if progress is not None:
            progress(done, len(population.visits))
    write_showcase(out / "showcase.csv", population.subjects)
    if rap_export:
        write_showcase(out / "showcase_rap.csv", population.subjects, RAP)
    write_ground_truth(out / "ground_truth.csv", rows)
    write_qc_decisions(out / "qc_decisions.csv", rows)
    counts = Counter(code for visit in population.visits for code in visit.faults.codes)
    fault_counts = {code: counts[code] for code in FAULT_CODES}
    write_cohort_json(out / "cohort.json", {
        "seed": seed, "scale": scale, "n_subjects": n_subjects, "n_archives": len(rows),
        "repeat_fraction": repeat_fraction, "fault_rates": rates,
        "fault_counts": fault_counts,
    })
    archives = [out / "archives" / row["archive"] for row in rows]
    return CohortSummary(out, n_subjects, archives, out / "showcase.csv", out / "ground_truth.csv",
                         out / "cohort.json", out / "labels",
                         out / "qc_decisions.csv", fault_counts, time.perf_counter() - started)


def _prepare(out: Path) -> Path:
    """Create the output folders; refuse a folder that already holds files."""
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty; write each cohort to a new folder")
    for folder in ("archives", "labels"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    return out


def _write_visit(out: Path, visit: Visit, seed: int, scale: float) -> dict[str, str]:
    """Render one visit, write its archive and labels, and return its ground-truth row."""
    scan = scan_visit(visit, seed, scale)
    rng = stream(seed, "archive", visit.subject.eid, visit.instance)
    write_archive(out / "archives" / f"{visit.name}.zip", scan, patient_of(scan, seed), seed, rng)
    labels = out / "labels" / visit.name
    labels.mkdir(exist_ok=True)
    for region, (mask, grid) in scan.labels.items():
        write_label(labels / f"{region}.nii.gz", mask, grid)
    return ground_truth_row(visit, scan.fault_detail)
