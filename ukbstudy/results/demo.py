"""The demo's results step: build every results page's content on the demo cohort and print a summary."""

from __future__ import annotations

import pathlib

from analysis.tables import render_text
from ukbstudy.measurements.models import Method, Quantity

from . import pages
from .selectors import Comparison, cohort_counts, coverage, qc_status_counts


def demo_step(*, stdout, cohort_dir: pathlib.Path) -> None:
    """Cohort counts, QC status, coverage, and what the comparison and outlier pages show for the first
    method pair that has values (reference vs network, else reference vs atlas, else network vs atlas)."""
    counts = cohort_counts()
    subjects = sum(n for _, _, n in counts["centre"])
    status = ", ".join(f"{n} {s}" for s, n in qc_status_counts())
    stdout.write(f"\n== Cohort results ({cohort_dir.name}): {subjects} subjects; processed scans by QC status: "
                 f"{status or 'none'}")
    header, rows = coverage()
    stdout.write("subjects with a value: " + "; ".join(
        f"{quantity} " + ", ".join(f"{h} {n}" for h, n in zip(header, values, strict=True) if n)
        for quantity, values in rows if any(values)))
    dashboard = pages.dashboard(column="reference", quantity=Quantity.LIVER_FF, grouping="sex")
    drawn = sum(1 for panel in dashboard["panels"] if panel.figure)
    stdout.write(f"dashboard: {drawn} of {len(dashboard['panels'])} panels drawn")
    for a, b in (("reference", Method.NETWORK), ("reference", Method.ATLAS), (Method.NETWORK, Method.ATLAS)):
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
