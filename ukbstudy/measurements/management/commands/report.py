"""python manage.py report agreement|outliers|regression|three-way|paper|longitudinal ... : the papers' tables,
and the change between imaging visits, from stored values."""

import argparse
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ukbstudy.measurements.models import Quantity
from ukbstudy.measurements.selectors.datasets import DEFAULT_C_SIZE
from ukbstudy.measurements.selectors.frames import UnknownColumn, scan_frame


class Command(BaseCommand):
    help = "Print the papers' tables (liver Table 1, outliers, BMFF Tables 4-8) from the study database."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=("text", "csv"), default="text")
        parser.add_argument("--quantity", default=Quantity.LIVER_FF.value, help="Quantity for bare method names.")
        parser.add_argument("--instance", type=int, choices=(2, 3), default=2,
                            help="Visit of agreement, outliers and regression: 2 first imaging visit, 3 repeat.")
        kinds = parser.add_subparsers(dest="kind", required=True)
        agreement = kinds.add_parser("agreement", help="Method agreement (liver fat paper, Table 1).")
        agreement.add_argument("--a", default="reference", help="Reference (ground truth) column.")
        agreement.add_argument("--b", required=True, action="append", help="Method(s) compared with --a.")
        agreement.add_argument("--threshold", type=float, default=5.5)
        outliers = kinds.add_parser("outliers", help="Top subjects by |a - b|.")
        outliers.add_argument("--a", default="reference")
        outliers.add_argument("--b", required=True)
        outliers.add_argument("-n", type=int, default=10)
        regression = kinds.add_parser("regression", help="Univariable (x * sex) and multivariable tables.")
        regression.add_argument("--dependent", required=True)
        regression.add_argument("--explanatory", action="append", default=[],
                                help="Univariable explanatory variable(s), each fitted as x * sex.")
        regression.add_argument("--model", action="append", default=[],
                                help="Comma-separated covariates of one multivariable model (repeat for a sequence).")
        regression.add_argument("--rint", action="store_true", help="Rank-based inverse normal transform of y.")
        three_way = kinds.add_parser("three-way", help="Reference, network and atlas (liver Table 1, A and C), "
                                                      "error correlation and top-ten outliers on A.")
        three_way.add_argument("--field", default="22402-2.0", help="Reference field defining dataset A.")
        three_way.add_argument("--seed", type=int, default=0, help="Seed of dataset C's draw.")
        three_way.add_argument("-n", type=int, default=10, help="Outliers listed.")
        longitudinal = kinds.add_parser(
            "longitudinal", help="Change between the first and the repeat imaging visit of every quantity and "
                                 "method (paired change, repeatability, ICC); with --column, that column's change "
                                 "regressed on covariates and its implausible changes.")
        longitudinal.add_argument("--column", help="A method (network, segmentation, ...) or reference, for "
                                                   "--quantity.")
        paper = kinds.add_parser("paper", help="Every table of both papers the database can fill, each with its "
                                               "n and dataset, or a line saying why it cannot be filled.")
        paper.add_argument("--format", choices=("text", "csv"), default=argparse.SUPPRESS)
        paper.add_argument("--field", default="22402-2.0", help="Reference field defining liver dataset A.")
        paper.add_argument("--seed", type=int, default=0, help="Seed of liver dataset C's draw.")
        paper.add_argument("--c-size", type=int, default=DEFAULT_C_SIZE, help="Size of liver dataset C's draw.")
        paper.add_argument("--truth", type=Path, metavar="GROUND_TRUTH_CSV",
                           help="A synthetic study's ground_truth.csv: report with every value the app measured "
                                "replaced by its true value (the same subjects).")

    def handle(self, *args, kind, format, quantity, **options):
        from analysis import AnalysisError  # statsmodels and friends load only when a report is asked for

        try:
            self.stdout.write(getattr(self, f"_{kind.replace('-', '_')}")(quantity=quantity, fmt=format, **options))
        except (UnknownColumn, AnalysisError) as exc:
            raise CommandError(str(exc)) from None

    def _agreement(self, *, quantity, fmt, a, b, threshold, instance, **options) -> str:
        from analysis.reports import agreement_report

        frame = scan_frame(columns=[a, *b], quantity=quantity, instance=instance)
        return agreement_report(frame, [(a, other) for other in b], threshold=threshold, fmt=fmt)

    def _outliers(self, *, quantity, fmt, a, b, n, instance, **options) -> str:
        from analysis.reports import outlier_report

        return outlier_report(scan_frame(columns=[a, b], quantity=quantity, instance=instance), a, b, n=n, fmt=fmt)

    def _regression(self, *, quantity, fmt, dependent, explanatory, model, rint, instance, **options) -> str:
        from analysis.reports import regression_report, univariable_report

        models = [[c.strip() for c in m.split(",") if c.strip()] for m in model]
        if not explanatory and not models:
            raise CommandError("give --explanatory and/or --model")
        columns = [dependent, *explanatory, *(c for m in models for c in m), "sex"]
        frame = scan_frame(columns=[c for c in columns if c != "sex"] + ["sex"], quantity=quantity, instance=instance)
        parts = []
        if explanatory:
            parts.append(univariable_report(frame, [(dependent, x) for x in explanatory], fmt=fmt))
        if models:
            parts.append(regression_report(frame, dependent, models, categorical={"sex": "F"} if any(
                "sex" in m for m in models) else None, transform="rint" if rint else "none", fmt=fmt))
        return "\n\n".join(parts)

    def _three_way(self, *, fmt, field, seed, n, **options) -> str:
        from analysis.threeway import render_three_way
        from ukbstudy.atlas.selectors import three_way_tables_from_db

        return render_three_way(three_way_tables_from_db(field=field, seed=seed, n_outliers=n), fmt)

    def _longitudinal(self, *, quantity, fmt, column, **options) -> str:
        from analysis.tables import render
        from ukbstudy.results import longitudinal

        summary = longitudinal.change_summary()
        if summary is None:
            return "no quantity has a value at both imaging visits of any participant yet\n"
        parts = [render(summary, fmt)]
        if column:
            detail = longitudinal.change_detail(column=column, quantity=quantity)
            if detail["message"]:
                raise CommandError(detail["message"])
            if detail["regression"] is not None:
                parts.append(render(detail["regression"], fmt))
            parts.append(render(detail["flagged_table"], fmt))
        return "\n".join(parts)

    def _paper(self, *, fmt, field, seed, c_size, truth, **options) -> str:
        from ml.synthetic.tables import read_true_values
        from ukbstudy.results.paper import paper_sections, render_sections

        try:
            true_values = None if truth is None else read_true_values(truth)
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        return render_sections(paper_sections(field=field, seed=seed, c_size=c_size, truth=true_values), fmt)
