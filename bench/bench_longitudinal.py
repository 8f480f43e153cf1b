"""Change between imaging visits through the app, against the synthetic cohort's true change.

    .venv/bin/python bench/bench_longitudinal.py [--subjects 300] [--scale 0.25] [--seed 2024]
                                                 [--repeat-fraction 0.5]

1. Runs ``manage.py demo --no-serve --profile longitudinal --skip atlas --skip marrow`` once on a new study
   under ``bench/out/longitudinal/``: cohort (with ``--repeat-fraction`` of the participants back for a repeat
   imaging visit), import, preprocessing, simulated visual QC, 10-fold cross-validation, training and
   inference of the liver fat network on datasets B, A and repeat (so the trained model measures both visits).
2. Reads the network's change of liver PDFF per participant as the longitudinal page does
   (``ukbstudy.results.longitudinal.change_frame``) and compares it with the generator's true change
   (``ml.synthetic.tables.read_true_changes``): R2, bias and SD of the error of change, the slope; the
   repeatability coefficient (``analysis.longitudinal.repeatability``) of the network's values against that of
   the true values and against the network's own error at each visit (its noise). Participants of dataset A
   (the training set: their first-visit value is the trained model's in-sample fit) are reported apart.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cohort import demo_pipeline  # noqa: E402  (bench/cohort.py: a script's folder is on its path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=300)
    parser.add_argument("--scale", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--repeat-fraction", type=float, default=0.5)
    args = parser.parse_args()
    study = (ROOT / "bench" / "out" / "longitudinal"
             / f"n{args.subjects}-s{args.scale:g}-seed{args.seed}-r{args.repeat_fraction:g}")
    pipeline = demo_pipeline(study, [
        "--profile", "longitudinal", "--skip", "atlas", "--skip", "marrow", "--subjects", str(args.subjects),
        "--scale", f"{args.scale:g}", "--seed", str(args.seed), "--repeat-fraction", f"{args.repeat_fraction:g}"],
        vars(args))
    os.environ["UKBSTUDY_DATA_DIR"] = str(study)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ukbstudy.settings.local")
    import django

    django.setup()
    from ml.synthetic.tables import read_true_changes, read_true_values
    from ukbstudy.measurements.selectors.datasets import dataset_scans
    from ukbstudy.results.longitudinal import change_frame

    cohort = next((study / "demo").glob("cohort-*"))
    true_change = read_true_changes(cohort / "ground_truth.csv")["liver_ff_true"]
    true_first = read_true_values(cohort / "ground_truth.csv", instance=2)["liver_ff_true"]
    frame = change_frame(column="network").dropna(subset=["change"])
    frame = frame[frame["eid"].isin(true_change)].reset_index(drop=True)
    frame["true_change"] = frame["eid"].map(true_change)
    frame["true_first"] = frame["eid"].map(true_first)
    frame["true_second"] = frame["true_first"] + frame["true_change"]
    in_a = set(dataset_scans("A").values_list("subject__eid", flat=True))
    print(f"pipeline: {pipeline['seconds']} s ({pipeline.get('steps_s', {})}); {len(frame)} participants with the "
          f"network's value at both visits ({frame['eid'].isin(in_a).sum()} of them in dataset A)")
    for name, chosen in (("outside dataset A", frame[~frame["eid"].isin(in_a)]), ("all", frame)):
        report(name, chosen)


def report(name: str, frame) -> None:
    from analysis.longitudinal import repeatability

    if len(frame) < 3:
        print(f"{name}: {len(frame)} participants, too few")
        return
    measured, true = frame["change"].to_numpy(float), frame["true_change"].to_numpy(float)
    error = measured - true
    r2 = 1 - (error**2).sum() / ((true - true.mean()) ** 2).sum()
    slope = np.polyfit(true, measured, 1)[0]
    noise = np.concatenate([frame["first"] - frame["true_first"], frame["second"] - frame["true_second"]])
    app, truth = repeatability(frame["first"], frame["second"]), repeatability(frame["true_first"],
                                                                               frame["true_second"])
    expected = np.sqrt(truth.rc**2 + (1.96 * np.sqrt(2) * noise.std(ddof=1)) ** 2)
    print(f"\n{name} (n = {len(frame)}): change of liver PDFF, network against truth")
    print(f"  R2 of change {r2:.3f}, correlation {np.corrcoef(true, measured)[0, 1]:.3f}, slope {slope:.2f}")
    print(f"  bias of change {error.mean():+.2f} pp, SD of the error {error.std(ddof=1):.2f} pp, "
          f"MAE {np.abs(error).mean():.2f} pp; true change mean {true.mean():+.2f}, SD {true.std(ddof=1):.2f} pp")
    print(f"  repeatability coefficient: network {app.rc:.2f} pp, true values {truth.rc:.2f} pp; the network's "
          f"error per visit SD {noise.std(ddof=1):.2f} pp (bias {noise.mean():+.2f}), so expected "
          f"sqrt(RC_true^2 + (2.77 SD)^2) = {expected:.2f} pp")
    print(f"  ICC(A,1): network {app.icc_a1:.3f}, truth {truth.icc_a1:.3f}; wCV network {app.wcv:.1f} %, "
          f"truth {truth.wcv:.1f} %")


if __name__ == "__main__":
    main()
