"""Liver fat network benchmark: training images/s and inference subjects/min at the paper's input size.

    .venv/bin/python bench/bench_liverfat.py [--config paper|quick] [--iterations 30] [--subjects 512]
                                             [--device auto|cpu|cuda] [--threads N]

Training runs the configuration's recipe (batch, augmentation on the device, Adam, mixed precision and
channels-last on CUDA) for --iterations after a warm-up of 5, on 8-bit inputs of the full-scale 176 x 376
size held in memory, as the training job holds them. Inference times reading --subjects network inputs
from .npy files (as the inference job does, in its chunks) plus the forward passes, and the forward passes
alone. Goals on one H100: training >= 1,500 images/s (6,000 x 32 in under 3 minutes), inference >= 2,000
subjects/min.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ml.liverfat import config_named, device_name, pick_device, predict, train_regressor  # noqa: E402

SHAPE = (176, 376)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="paper")
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--subjects", type=int, default=512)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--chunk", type=int, default=256)
    args = parser.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (max(args.subjects, 256), *SHAPE), dtype=np.uint8)
    targets = rng.uniform(0, 30, len(images))
    config = config_named(args.config, iterations=args.iterations, lr_drop_iterations=0)
    train_regressor(images, targets, config.with_overrides(iterations=5), device=device)  # warm-up
    trained = train_regressor(images, targets, config, device=device)
    print(f"device {device_name(device)}, torch threads {torch.get_num_threads()}, config {config.name} "
          f"(resnet{config.depth}, width {config.width}, batch {config.batch_size}, input {SHAPE[0]} x {SHAPE[1]} "
          f"/ {config.downsample})")
    full_run = config_named(args.config).iterations * config.batch_size / trained.images_per_second
    print(f"training: {trained.images_per_second:,.0f} images/s over {args.iterations} iterations "
          f"(a full {config_named(args.config).iterations}-iteration run: {full_run / 60:.1f} min)")

    subjects = images[:args.subjects]
    predict(trained, subjects[:64], device=device)  # warm-up
    started = time.perf_counter()
    predict(trained, subjects, device=device, batch_size=args.chunk)
    forward = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        paths = [Path(folder) / f"{i}.npy" for i in range(len(subjects))]
        for path, image in zip(paths, subjects, strict=True):
            np.save(path, image)
        started = time.perf_counter()
        for start in range(0, len(paths), args.chunk):
            chunk = np.stack([np.load(path) for path in paths[start:start + args.chunk]])
            predict(trained, chunk, device=device, batch_size=args.chunk)
        with_reading = time.perf_counter() - started
    print(f"inference, {len(subjects)} subjects: {len(subjects) / with_reading * 60:,.0f} subjects/min reading "
          f".npy inputs in chunks of {args.chunk}; forward passes alone {len(subjects) / forward * 60:,.0f} "
          "subjects/min")


if __name__ == "__main__":
    main()
