"""Atlas benchmark: seconds per subject for the multi-atlas on one CPU core next to the network's inference,
and the atlas's agreement with the synthetic ground truth (acceptance: within 1.5 pp for >= 90 % of QC-passed
subjects).

    .venv/bin/python bench/bench_atlas.py [--subjects 20] [--scale 0.5] [--seed 2024]

Preprocesses the cached synthetic cohort (not timed), takes the first three QC-passed fault-free subjects
as templates (their ground-truth liver labels as manual masks), measures every QC-passed subject (a template
is measured by the other two) and compares the raw atlas value with ``liver_ff_image`` of ground_truth.csv.
The network is the liver fat paper's ResNet50 (``ml.liverfat``) on one 176 x 376 input at a time.
"""

from __future__ import annotations

import csv
import statistics
import time
from pathlib import Path

import numpy as np
from cohort import ROOT, cached_cohort, cohort_arguments  # bench/cohort.py: a script's folder is on its path

WITHIN_PP = 1.5


def preprocessed(cohort: Path) -> Path:
    from ml.imaging.pipeline import preprocess_archive
    from ml.ukb.inventory import inventory_archive

    out = ROOT / "bench" / "out" / f"{cohort.name}-derived"
    for archive in sorted((cohort / "archives").glob("*.zip")):
        folder = out / archive.name.removesuffix(".zip")
        if not (folder / "preprocess.json").exists():
            folder.mkdir(parents=True, exist_ok=True)
            inventory = inventory_archive(archive)
            preprocess_archive(archive, inventory.stations_json()["stations"], inventory.deviations_json(), folder,
                               inventory.series_members())
    return out


def atlas_image(derived: Path, visit: str):
    from ml.atlas import load_atlas_image

    folder = derived / visit
    ff = folder / "ff.nii.gz"  # folders preprocessed before runs stopped storing the fractions
    return load_atlas_image(water=folder / "water.nii.gz", body=folder / "body_mask.nii.gz",
                            ff=ff if ff.exists() else None, fat=folder / "fat.nii.gz", name=visit)


def network_seconds(repeats: int = 10) -> float:
    """Seconds per subject for the paper's ResNet50 regressor on one input (batch 1), after a warm-up."""
    import torch

    from ml.liverfat.config import config_named
    from ml.liverfat.training import TrainedRegressor, build_model, predict

    torch.set_num_threads(1)
    config = config_named("paper")
    trained = TrainedRegressor(model=build_model(config), config=config, target_mean=0.0, target_std=1.0)
    image = np.random.default_rng(0).integers(0, 255, (1, 176, 376), dtype=np.uint8)
    predict(trained, image, batch_size=1)
    started = time.perf_counter()
    for _ in range(repeats):
        predict(trained, image, batch_size=1)
    return (time.perf_counter() - started) / repeats


def main() -> None:
    args = cohort_arguments(__doc__.splitlines()[0])
    import nibabel as nib

    from ml.atlas import AtlasError, Template, atlas_measure

    cohort = cached_cohort(args)
    derived = preprocessed(cohort)
    truth = {r["archive"].removesuffix(".zip"): r for r in csv.DictReader((cohort / "ground_truth.csv").open())}
    passed = [f"{r['eid']}_20201_{r['instance']}_0" for r in csv.DictReader((cohort / "qc_decisions.csv").open())
              if r["verdict"] == "pass"]
    chosen = [v for v in passed if not truth[v]["faults"]][:3]
    templates = [Template(atlas_image(derived, v), np.asarray(nib.load(cohort / "labels" / v / "liver.nii.gz").dataobj)
                          .transpose(2, 1, 0) > 0) for v in chosen]
    seconds, errors, failures = [], [], []
    for visit in passed:
        started = time.perf_counter()
        try:
            result = atlas_measure(atlas_image(derived, visit), templates)
        except AtlasError as exc:
            failures.append(f"{visit}: {exc}")
            continue
        seconds.append(time.perf_counter() - started)
        errors.append(abs(result.readout.value - float(truth[visit]["liver_ff_image"])))
    network = network_seconds()
    within = sum(e <= WITHIN_PP for e in errors)
    print(f"{len(passed)} QC-passed subjects at scale {args.scale:g}, 3 templates (a template is measured by the "
          f"other two), one core")
    print(f"atlas:   {statistics.mean(seconds):.2f} s per subject (median {statistics.median(seconds):.2f} s)")
    print(f"network: {network:.3f} s per subject (ResNet50, one 176 x 376 input, batch 1)")
    print(f"ratio:   atlas / network = {statistics.mean(seconds) / network:.0f}x (paper: about 50x)")
    print(f"ground truth: {within} of {len(passed)} QC-passed subjects within {WITHIN_PP} pp "
          f"({within / len(passed):.1%}; failures count as misses); mean |error| {statistics.mean(errors):.2f} pp, "
          f"max {max(errors):.2f} pp")
    for failure in failures:
        print(f"  failed {failure}")


if __name__ == "__main__":
    main()
