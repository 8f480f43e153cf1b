"""Liver fat network, 10-fold cross-validation on a clean synthetic cohort against the generator's true PDFF.

    .venv/bin/python bench/bench_liverfat_cv.py [--subjects 600] [--scale 0.25] [--seed 2024] [--workers 2]
                                                [--field 22402|22436] [--set KEY=VALUE ...]

Renders every participant's first imaging visit (no planted faults), writes it as a DICOM archive, reads it
back through the image pipeline (inventory, station fusion, fat fraction, body mask, network input) in
--workers processes, then runs ``ml.liverfat.cross_validate`` (the code the cross-validation job runs) with
the ``quick`` configuration on the participants with the chosen reference field (dataset A): ``downsample``
is 1 by default, since a quarter-scale cohort's inputs are already a quarter of the full size. Prints the
out-of-fold agreement with the true PDFF (MAE, R2, LoA) and with the reference, and the fattest livers.
Goal (issue 5): R2 >= 0.9 on 600 subjects with 22402 alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.comparison import agreement  # noqa: E402
from ml.imaging.fusion import fuse, fused_grid  # noqa: E402
from ml.imaging.maps import body_mask, fractions  # noqa: E402
from ml.imaging.network_input import network_input  # noqa: E402
from ml.imaging.volumes import load_stations  # noqa: E402
from ml.liverfat import config_named, cross_validate, fold_assignment  # noqa: E402
from ml.synthetic.archive import patient_of, write_archive  # noqa: E402
from ml.synthetic.population import Visit, make_population  # noqa: E402
from ml.synthetic.scan import scan_visit  # noqa: E402
from ml.synthetic.seeding import stream  # noqa: E402
from ml.ukb.inventory import inventory_archive  # noqa: E402


def network_input_of(job: tuple[Visit, int, float]) -> np.ndarray:
    """The visit rendered, written as its archive and read back to the network input, as preprocessing does."""
    visit, seed, scale = job
    scan = scan_visit(visit, seed, scale)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{visit.name}.zip"
        write_archive(path, scan, patient_of(scan, seed), seed, stream(seed, "archive", visit.subject.eid, 2))
        stations = load_stations(path, inventory_archive(path).stations_json()["stations"])
    grid = fused_grid(stations)
    fat, water = fuse(stations, grid)
    ff, _ = fractions(fat, water)
    mask, _ = body_mask(fat, water)
    return network_input(ff, mask, grid.scale)[0]


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
    overrides = {"downsample": 1}
    for pair in args.set:
        key, _, value = pair.partition("=")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    config = config_named("quick", **overrides)

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
