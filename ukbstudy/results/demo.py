"""The demo's results step: build every results page's content on the demo cohort and print a summary."""

from __future__ import annotations

import pathlib

import numpy as np

from analysis.tables import render_text
from ukbstudy.measurements.models import Method, Quantity
from ukbstudy.subjects.models import Subject

from . import pages
from .selectors import Comparison, coverage, qc_status_counts


def demo_step(*, stdout, cohort_dir: pathlib.Path) -> None:
    """Cohort counts, QC status, coverage, and what the comparison and outlier pages show for the first
    method pair that has values (reference vs network, else reference vs atlas, else network vs atlas)."""
    subjects = Subject.objects.count()
    status = ", ".join(f"{n} {s}" for s, n in qc_status_counts())
    stdout.write(f"\n== Cohort results ({cohort_dir.name}): {subjects} subjects; processed scans by QC status: "
                 f"{status or 'none'}")
    header, rows = coverage()
    stdout.write("subjects with a value: " + "; ".join(
        f"{quantity} " + ", ".join(f"{h} {n}" for h, n in zip(header, values, strict=True) if n)
        for quantity, values in rows if any(values)))
    _print_longitudinal(stdout, cohort_dir)
    dashboard = pages.dashboard(column="reference", quantity=Quantity.LIVER_FF, grouping="sex")
    drawn = sum(1 for panel in dashboard["panels"] if panel.figure)
    stdout.write(f"dashboard: {drawn} of {len(dashboard['panels'])} panels drawn")
    for a, b in (("reference", f"{Method.NETWORK}_oof"), ("reference", Method.NETWORK), ("reference", Method.ATLAS),
                 (Method.NETWORK, Method.ATLAS)):
        for dataset in ("A", "all"):
            comparison = Comparison(a=a, b=b, dataset=dataset)
            context = pages.comparison(comparison, threshold=5.5)
            if context["table"] is not None:
                _print_comparison(stdout, comparison, context)
                return
    stdout.write("method comparison: no two methods have values for the same subjects yet "
                 "(run the network, atlas or segmentation steps first)")


def _print_comparison(stdout, comparison: Comparison, context: dict) -> None:
    stdout.write(render_text(context["table"]))
    queue = pages.outlier_queue(comparison, n=5)
    if queue["table"] is not None:
        stdout.write(render_text(queue["table"]))
    query = "&".join(f"{k}={v}" for k, v in comparison.as_query().items())
    stdout.write(f"browse: /results/ (dashboard), /results/compare/?{query}, /results/outliers/?{query}, "
                 "/results/regression/")


def _print_longitudinal(stdout, cohort_dir: pathlib.Path) -> None:
    """The change between the imaging visits (as /results/longitudinal/), and the network's estimated change of
    liver fat against the generator's true change."""
    from ml.synthetic.tables import read_true_changes

    from .longitudinal import change_frame, change_summary, participants_with_both

    summary = change_summary()
    stdout.write(f"\n== Change between the imaging visits: {len(participants_with_both())} participants with a "
                 "QC-passed scan at both")
    if summary is None:
        stdout.write("no quantity measured at both visits yet")
        return
    stdout.write(render_text(summary))
    truth = read_true_changes(cohort_dir / "ground_truth.csv").get("liver_ff_true", {})
    frame = change_frame(column=Method.NETWORK, quantity=Quantity.LIVER_FF).dropna(subset=["change"])
    frame = frame[frame["eid"].isin(truth)]
    if len(frame) >= 3:
        true = frame["eid"].map(truth).to_numpy(dtype=float)
        error = frame["change"].to_numpy(dtype=float) - true
        stdout.write(f"network's change of liver fat against the true change ({len(frame)} participants): bias "
                     f"{error.mean():+.2f} pp, SD of the error {error.std(ddof=1):.2f} pp, correlation "
                     f"{np.corrcoef(true, frame['change'])[0, 1]:.2f}")
    stdout.write("browse: /results/longitudinal/ (both visits per participant under /results/participants/EID/)")
