"""Bone marrow segmentation on a synthetic cohort: held-out Dice (U-Net beside ROI-attention U-Net), BMFF
against the ground truth, planted faults, and seconds per subject to segment all four regions.

.venv/bin/python bench/bench_segmentation.py --subjects 48 --scale 0.5 --iterations 300 [--device cuda]

No database: the cohort is generated and preprocessed with ``ml.imaging`` into bench/out/, the networks
are trained with ``ml.marrow`` on the clean subjects' labels (the first --manual of them) and every
subject is then segmented, checked and measured.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from pathlib import Path

from cohort import cached_cohort


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=48)
    parser.add_argument("--scale", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--manual", type=int, default=36, help="Clean subjects with manual labels (train + test).")
    parser.add_argument("--test", type=int, default=8, help="Of those, held out for Dice.")
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    parser.add_argument("--regions", nargs="+", default=None)
    return parser.parse_args()


def preprocessed(cohort: Path) -> Path:
    from ml.imaging.pipeline import preprocess_archive
    from ml.ukb.inventory import inventory_archive

    out = cohort / "preprocessed"
    for archive in sorted((cohort / "archives").glob("*.zip")):
        folder = out / archive.stem
        if (folder / "preprocess.json").exists():
            continue
        folder.mkdir(parents=True, exist_ok=True)
        inventory = inventory_archive(archive)
        preprocess_archive(archive, inventory.stations_json()["stations"], inventory.deviations_json(), folder,
                           inventory.series_members())
    return out


def main() -> None:
    args = arguments()
    import torch

    from ml.marrow.bmff import bmff
    from ml.marrow.checks import Status, check_segmentation, dice
    from ml.marrow.io import load_label, load_slab
    from ml.marrow.regions import REGIONS
    from ml.marrow.training import (
        ARCHITECTURES,
        Case,
        TrainConfig,
        load_model,
        pick_device,
        predict_masks,
        train_region,
    )

    torch.set_num_threads(args.threads)
    cohort = cached_cohort(args)
    folders = preprocessed(cohort)
    truth = {row["archive"][:-4]: row for row in csv.DictReader(open(cohort / "ground_truth.csv"))}
    names = sorted(truth)
    clean = [n for n in names if not truth[n]["faults"]][:args.manual]
    device = pick_device(args.device)
    print(f"{len(names)} subjects at scale {args.scale:g}; {len(clean) - args.test} train / {args.test} held-out; "
          f"{args.iterations} iterations; device {device}")
    slabs, models = {}, {}
    for name, region in ((n, r) for n in names for r in REGIONS.values()):
        path = folders / name / f"station{region.station}_fat.nii.gz"
        if path.exists():
            slabs[name, region.station] = load_slab(path, path.with_name(f"station{region.station}_water.nii.gz"))
    for region in [REGIONS[r] for r in (args.regions or REGIONS)]:
        cases = []
        for name in clean:
            fat, water, affine = slabs[name, region.station]
            mask = load_label(cohort / "labels" / name / f"{region.name}.nii.gz", fat.shape, affine)
            cases.append(Case(name, fat, water, mask))
        train, test = cases[args.test:], cases[:args.test]
        row = [f"{region.label:<18}"]
        for arch in ARCHITECTURES:
            started = time.perf_counter()
            checkpoint = train_region(region.name, train, TrainConfig(architecture=arch, iterations=args.iterations),
                                      device=str(device))
            model = load_model(checkpoint, str(device))
            predicted = predict_masks(model, [(c.fat, c.water) for c in test])
            scores = [dice(check_segmentation(p, model.statistics, region.connected).mask, c.mask)
                      for p, c in zip(predicted, test, strict=True)]
            row.append(f"{arch} Dice {statistics.mean(scores):.3f} (min {min(scores):.3f}) "
                       f"trained in {time.perf_counter() - started:.0f} s")
            models[region.name] = model
        print("  ".join(row))
    evaluate(models, slabs, truth, names, bmff, check_segmentation, predict_masks, Status)


def evaluate(models, slabs, truth, names, bmff, check_segmentation, predict_masks, Status) -> None:
    """Segment every subject with the attention models: BMFF error for OK clean cases,
    outcomes of the planted faults, and seconds per subject (slabs already in memory)."""
    from ml.marrow.regions import REGIONS

    errors, faults, seconds = [], [], []
    for name in names:
        started = time.perf_counter()
        for region_name, model in models.items():
            region = REGIONS[region_name]
            if (name, region.station) not in slabs:
                faults.append(f"{name} {region_name}: station missing")
                continue
            fat, water, _ = slabs[name, region.station]
            result = check_segmentation(predict_masks(model, [(fat, water)])[0], model.statistics, region.connected)
            value = bmff(fat, water, result.mask, region).value if result.status == Status.OK else None
            if truth[name]["faults"]:
                faults.append(f"{name} {truth[name]['faults']:<22} {region_name:<13} {result.status:<6} flags "
                              f"{','.join(result.flags) or '-'} BMFF {value if value is None else round(value, 1)} "
                              f"truth {float(truth[name]['bmff_' + region_name]):.1f}")
            elif value is not None:
                errors.append(value - float(truth[name]["bmff_" + region_name]))
        seconds.append(time.perf_counter() - started)
    absolute = [abs(e) for e in errors]
    print(f"BMFF of OK clean segmentations: {len(errors)} values, mean error {statistics.mean(errors):+.3f}, "
          f"max |error| {max(absolute):.3f} percentage points, {sum(a > 1 for a in absolute)} above 1")
    print("faulty scans:")
    for line in faults:
        print("  " + line)
    print(f"segmenting all regions: {statistics.mean(seconds):.3f} s per subject (median "
          f"{statistics.median(seconds):.3f}) over {len(seconds)} subjects")


if __name__ == "__main__":
    main()
