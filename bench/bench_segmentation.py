"""Bone marrow segmentation on a synthetic cohort: held-out Dice (U-Net beside ROI-attention U-Net, same
settings), BMFF against the ground truth, planted faults, and seconds per subject to segment all four regions.

.venv/bin/python bench/bench_segmentation.py --subjects 40 --scale 0.5 --iterations 300 --threads 2 [--device cuda]

No database: the cohort is generated and preprocessed with ``ml.imaging`` into bench/out/, both networks
are trained with ``ml.marrow`` on the clean subjects' labels (the first --manual of them, --test of those
held out) with the same configuration, and every subject is then segmented, checked and measured as the
app does it (the preprocessing's station hints included). A second cohort of --fault-subjects subjects
with a planted region_outside_slab or water_fat_swap in every archive shows how those faults end.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import statistics
import time
from pathlib import Path

from cohort import ROOT, cached_cohort

FAULTS = {"region_outside_slab": 0.6, "water_fat_swap": 0.6}


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=40)
    parser.add_argument("--scale", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--manual", type=int, default=32, help="Clean subjects with manual labels (train + test).")
    parser.add_argument("--test", type=int, default=8, help="Of those, held out for Dice.")
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--learning-rate", type=float, default=1e-2)
    parser.add_argument("--base-channels", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--fault-subjects", type=int, default=16, help="Subjects of the planted-fault cohort.")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    parser.add_argument("--regions", nargs="+", default=None)
    return parser.parse_args()


def fault_cohort(args: argparse.Namespace) -> Path:
    from ml.synthetic import make_cohort
    from ml.synthetic.tables import GENERATOR_VERSION

    name = f"cohort-faults-n{args.fault_subjects}-s{args.scale:g}-seed{args.seed + 1}-g{GENERATOR_VERSION}"
    cohort = ROOT / "bench" / "out" / name
    if not (cohort / "showcase.csv").exists():
        shutil.rmtree(cohort, ignore_errors=True)
        print(f"writing {args.fault_subjects} subjects with planted faults {FAULTS} to {cohort} ...")
        make_cohort(cohort, args.fault_subjects, seed=args.seed + 1, scale=args.scale, repeat_fraction=0.0,
                    fault_rates=FAULTS)
    return cohort


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
                           inventory.series_members(), keep_station_volumes=True)  # the slabs read below
    return out


def read_subjects(cohort: Path, regions) -> dict[str, dict]:
    """Per archive stem: ground truth row, the preprocessing's hints and the slabs of ``regions``."""
    from ml.marrow.io import load_slab

    folders = preprocessed(cohort)
    subjects = {}
    for row in csv.DictReader(open(cohort / "ground_truth.csv")):
        name = row["archive"][:-4]
        folder = folders / name
        summary = json.loads((folder / "preprocess.json").read_text())
        slabs = {}
        for station in sorted({r.station for r in regions}):
            path = folder / f"station{station}_fat.nii.gz"
            if path.exists():
                slabs[station] = load_slab(path, path.with_name(f"station{station}_water.nii.gz"))
        subjects[name] = {"truth": row, "hints": summary.get("hints", []), "slabs": slabs}
    return subjects


def main() -> None:
    args = arguments()
    import torch

    from ml.marrow.checks import dice
    from ml.marrow.io import load_label
    from ml.marrow.regions import REGIONS
    from ml.marrow.training import ARCHITECTURES, Case, TrainConfig, load_model, pick_device, train_region

    torch.set_num_threads(args.threads)
    regions = [REGIONS[r] for r in (args.regions or REGIONS)]
    cohort = cached_cohort(args)
    subjects = read_subjects(cohort, regions)
    faulty = read_subjects(fault_cohort(args), regions) if args.fault_subjects else {}
    clean = [n for n, s in subjects.items() if not s["truth"]["faults"]][:args.manual]
    device = pick_device(args.device)
    config = {"iterations": args.iterations, "learning_rate": args.learning_rate, "base_channels": args.base_channels,
              "batch_size": args.batch_size}
    print(f"{len(subjects)} subjects at scale {args.scale:g}; {len(clean) - args.test} train / {args.test} held-out; "
          f"both networks {config}; {args.threads} thread(s); device {device}")
    models = {arch: {} for arch in ARCHITECTURES}
    for region in regions:
        cases = []
        for name in clean:
            fat, water, affine = subjects[name]["slabs"][region.station]
            mask = load_label(cohort / "labels" / name / f"{region.name}.nii.gz", fat.shape, affine)
            cases.append(Case(name, fat, water, mask))
        train, test = cases[args.test:], cases[:args.test]
        for arch in ARCHITECTURES:
            started, cpu = time.perf_counter(), time.process_time()
            checkpoint = train_region(region.name, train, TrainConfig(architecture=arch, **config), device=str(device))
            model = load_model(checkpoint, str(device))
            scores = [dice(checked(model, c.fat, c.water, []).mask, c.mask) for c in test]
            print(f"  {region.label:<18} {arch:<19} held-out Dice mean {statistics.mean(scores):.3f} "
                  f"min {min(scores):.3f} (n {len(scores)}); trained in {time.perf_counter() - started:.0f} s "
                  f"({time.process_time() - cpu:.0f} CPU s)",
                  flush=True)
            models[arch][region.name] = model
    for arch in ARCHITECTURES:
        print(f"{arch}:")
        trained_on = set(clean[args.test:])
        evaluate(models[arch], {n: s for n, s in subjects.items() if n not in trained_on},
                 "subjects not trained on")
        if faulty:
            evaluate(models[arch], faulty, "planted faults", timing=False)


def checked(model, fat, water, hints):
    """The app's path for one region: predicted mask, error checks, the station's preprocessing hints."""
    from ml.marrow.checks import check_segmentation, station_hint_flags
    from ml.marrow.regions import REGIONS
    from ml.marrow.training import predict_masks

    region = REGIONS[model.region]
    result = check_segmentation(predict_masks(model, [(fat, water)])[0], model.statistics, region.connected)
    flags, texts = station_hint_flags(hints, region.station)
    result.flags += flags
    result.hints += texts
    return result


def evaluate(models: dict, subjects: dict[str, dict], title: str, timing: bool = True) -> None:
    """BMFF error of OK unflagged segmentations of fault-free subjects, every faulty subject's outcome, and
    seconds per subject for all regions (slabs already in memory: network, checks and BMFF)."""
    from ml.marrow.bmff import bmff
    from ml.marrow.checks import Status, neighbour_flags, spread_flags
    from ml.marrow.regions import REGIONS

    errors, lines, seconds, withheld = {r: [] for r in models}, [], [], 0
    for name, subject in subjects.items():
        truth, started = subject["truth"], time.perf_counter()
        results, measured = {}, {}
        for region_name, model in models.items():
            region = REGIONS[region_name]
            if region.station not in subject["slabs"]:
                lines.append(f"{name} {truth['faults']:<22} {region_name:<13} station missing: no BMFF")
                continue
            fat, water, _ = subject["slabs"][region.station]
            result = results[region_name] = checked(model, fat, water, subject["hints"])
            if result.status == Status.OK:
                measured[region_name] = bmff(fat, water, result.mask, region)
                flags, hints = spread_flags(measured[region_name].spread, model.statistics)
                result.flags += flags
                result.hints += hints
        for region_name, (flags, hints) in neighbour_flags(dict(results)).items():
            results[region_name].flags += flags
            results[region_name].hints += hints
        for region_name, result in results.items():
            value = measured[region_name].value if region_name in measured and not result.flags else None
            true_value = float(truth["bmff_" + region_name])
            if truth["faults"]:
                wrong = value is not None and abs(value - true_value) > 1
                shown = "-" if value is None else f"{value:.1f}"
                lines.append(f"{name} {truth['faults'][:40]:<40} {region_name:<13} {result.status:<6} "
                             f"flags {','.join(result.flags) or '-':<15} BMFF {shown}"
                             f" truth {true_value:.1f}{'  WRONG VALUE' if wrong else ''}"
                             f"{'' if value is not None or result.hints else '  NO HINT'}")
            elif value is not None:
                errors[region_name].append(value - true_value)
            else:
                withheld += 1
        seconds.append(time.perf_counter() - started)
    print(f"  {title} ({len(subjects)}): BMFF of OK unflagged segmentations of fault-free scans against the truth "
          f"(percentage points); {withheld} fault-free regions withheld")
    for region_name, found in errors.items():
        absolute = [abs(e) for e in found]
        if found:
            print(f"    {region_name:<13} n {len(found):>3}  mean error {statistics.mean(found):+.3f}  mean |error| "
                  f"{statistics.mean(absolute):.3f}  max |error| {max(absolute):.3f}  above 1: "
                  f"{sum(a > 1 for a in absolute)}")
    for line in lines:
        print("    " + line)
    if timing:
        print(f"  segmenting {len(models)} regions: {statistics.mean(seconds):.3f} s per subject (median "
              f"{statistics.median(seconds):.3f}) over {len(seconds)} subjects, slabs in memory")


if __name__ == "__main__":
    main()
