"""Synthetic cohorts and archive surgery for import tests."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from pydicom.data import get_testdata_file

from ml.synthetic import make_cohort
from ml.synthetic.archive import patient_of, write_archive
from ml.synthetic.faults import FaultPlan
from ml.synthetic.population import make_population
from ml.synthetic.scan import Scan, scan_visit
from ml.synthetic.seeding import stream


def pydicom_test_file(name: str) -> Path:
    """A real MR file shipped inside pydicom (MR_small.dcm, MR_truncated.dcm)."""
    return Path(get_testdata_file(name))


def cohort_archives(out: Path, n: int, seed: int, faults: dict[str, float] | None = None) -> list[Path]:
    """Archives of a small fast cohort (scale 0.25) with the given faults forced (or none)."""
    summary = make_cohort(out, n, seed=seed, scale=0.25, repeat_fraction=0.0, fault_rates=faults or {})
    return sorted(Path(p) for p in summary.archives)


def planted_archive(out: Path, seed: int, plan: FaultPlan, scale: float = 0.25) -> tuple[Path, Scan]:
    """The archive of one synthetic visit with exactly the faults of ``plan``, and the generator's scan
    (its runs, labels and truth) to check an import against."""
    visit = replace(make_population(1, seed, 0.0, {}).visits[0], faults=plan)
    scan = scan_visit(visit, seed, scale)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{visit.name}.zip"
    rng = stream(seed, "archive", visit.subject.eid, visit.instance)
    write_archive(path, scan, patient_of(scan, seed), seed, rng)
    return path, scan


def rewrite_archive(source: Path, target_dir: Path, *, add: dict[str, bytes] | None = None,
                    drop: Callable[[str], bool] | None = None, name: str | None = None) -> Path:
    """A copy of ``source`` with members added or dropped (and optionally another file name)."""
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / (name or source.name)
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if drop is None or not drop(info.filename):
                dst.writestr(info.filename, src.read(info))
        for member, data in (add or {}).items():
            dst.writestr(member, data)
    return target
