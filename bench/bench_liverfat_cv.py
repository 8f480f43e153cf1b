"""Liver fat network, 10-fold cross-validation on a clean synthetic cohort against the generator's true PDFF.

    .venv/bin/python bench/bench_liverfat_cv.py [--subjects 600] [--scale 0.25] [--seed 2024] [--workers 2]
                                                [--field 22402|22436] [--set KEY=VALUE ...]

Renders every participant's first imaging visit (no planted faults), writes it as a DICOM archive and runs
the image pipeline on it (inventory, then ``preprocess_archive``, as the app's preprocessing does) in
--workers processes, then runs ``ml.liverfat.cross_validate`` (the code the cross-validation job runs) with
the ``quick`` configuration on the participants with the chosen reference field (dataset A): ``downsample``
is 1 by default, since a quarter-scale cohort's inputs are already a quarter of the full size. Prints the
out-of-fold agreement with the true PDFF (MAE, R2, LoA) and with the reference, and the fattest livers.
Goal: R2 >= 0.9 on 600 subjects with 22402 alone.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.comparison import agreement  # noqa: E402
from ml.imaging.pipeline import preprocess_archive  # noqa: E402
from ml.liverfat import config_named, cross_validate, fold_assignment, parse_overrides  # noqa: E402
from ml.synthetic.archive import patient_of, write_archive  # noqa: E402
from ml.synthetic.population import Visit, make_population  # noqa: E402
from ml.synthetic.scan import scan_visit  # noqa: E402
from ml.synthetic.seeding import stream  # noqa: E402
from ml.ukb.inventory import inventory_archive  # noqa: E402


def network_input_of(job: tuple[Visit, int, float]) -> np.ndarray:
    """The visit rendered, written as its archive and preprocessed as the app does; its network input."""
    visit, seed, scale = job
    scan = scan_visit(visit, seed, scale)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{visit.name}.zip"
        write_archive(path, scan, patient_of(scan, seed), seed, stream(seed, "archive", visit.subject.eid, 2))
        inventory = inventory_archive(path)
        out = Path(folder) / "derived"
        out.mkdir()
        result = preprocess_archive(path, inventory.stations_json()["stations"], inventory.deviations_json(), out)
        return np.load(out / result.files["network_input_array"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=600)
    parser.add_argument("--scale", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--field", choices=("22402", "22436"), default="22402")
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    config = config_named("quick", **{"downsample": 1} | parse_overrides(args.set))

    population = make_population(args.subjects, args.seed, repeat_fraction=0.0, fault_rates={})
    key = f"liver_pdff_{args.field}"
    visits = [v for v in population.visits if v.subject.showcase.get(key) is not None]
    started = time.perf_counter()
    with Pool(args.workers) as pool:
        images = np.stack(pool.map(network_input_of, [(v, args.seed, args.scale) for v in visits], chunksize=4))
    print(f"{len(visits)} of {args.subjects} subjects with {args.field} (dataset A), inputs {images.shape[1:]}, "
          f"rendered and preprocessed in {time.perf_counter() - started:.0f} s")
    reference = np.array([v.subject.showcase[key] for v in visits])
    truth = np.array([v.liver_ff_true for v in visits])

    import torch

    started = time.perf_counter()
    result = cross_validate(images, reference, fold_assignment(len(visits), args.folds, 0), config,
                            device=torch.device("cpu"))
    predicted = result.predictions
    print(f"{args.folds}-fold cross-validation, {config.name} ({config.head} head), {config.iterations} iterations "
          f"per fold: {(time.perf_counter() - started) / 60:.1f} min, {torch.get_num_threads()} threads")
    for label, values in (("true PDFF", truth), (f"reference {args.field}", reference)):
        stats = agreement(values, predicted)
        print(f"  {label} vs out-of-fold: n {stats.n}, MAE {stats.mae:.2f}, R2 {stats.r2:.3f}, "
              f"LoA {stats.loa_lower:.2f} to {stats.loa_upper:.2f}")
    fattest = np.argsort(truth)[-3:]
    print("  fattest livers (true -> out-of-fold): " + ", ".join(f"{truth[i]:.1f} -> {predicted[i]:.1f}"
                                                                for i in fattest))


if __name__ == "__main__":
    main()
