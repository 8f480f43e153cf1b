"""Save-and-next as the rater feels it: key press to the next scan's images painted, in headless Chromium.

    .venv/bin/python bench/bench_qc_browser.py [--steps 30] [--scale 1.0]

Runs tests/browser/test_qc_save_and_next.py on ``steps + 1`` synthetic scans (full-scale images by default)
against Django's live test server (SQLite file, or DATABASE_URL): once with the next scan's page and images
fetched ahead and swapped in place, once the plain way (each step posts the form and loads the next page).
Each step is timed in the page (qc.js: from the key event to two animation frames after the next scan's
images are decoded). Prints p50 / p95 / max of both and their ratio, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (f"p50 {statistics.median(ordered):6.1f} ms   p95 {p95:6.1f} ms   max {ordered[-1]:6.1f} ms   "
            f"(n = {len(ordered)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="Steps timed each way.")
    parser.add_argument("--scale", type=float, default=1.0, help="Synthetic image scale (1.0: full size).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "steps.json"
        env = {**os.environ, "QC_STEPS": str(args.steps + 1), "QC_STEPS_SCALE": str(args.scale),
               "QC_STEPS_REPORT": str(report)}
        print(f"reviewing {args.steps} scans each way at scale {args.scale:g} (setting up {args.steps + 2} scans) ...")
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                              "tests/browser/test_qc_save_and_next.py", "-k", "swapped or without"],
                             cwd=ROOT, env=env)
        if run.returncode != 0 or not report.exists():
            sys.exit(f"the browser run failed (exit {run.returncode})")
        found = json.loads(report.read_text())
    print("\nsave-and-next, key press to the next scan's images painted")
    print(f"  fetched ahead, swapped in place: {summary(found['swap'])}")
    print(f"  plain (post, load the page):     {summary(found['plain'])}")
    ratio = statistics.median(found["plain"]) / statistics.median(found["swap"])
    print(f"  median ratio plain / swapped: {ratio:.1f}x")


if __name__ == "__main__":
    main()
