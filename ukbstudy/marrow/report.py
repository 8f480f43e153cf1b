"""Plain-text rendering of the marrow report for the command and the demo."""

from __future__ import annotations

from ukbstudy.measurements.models import ModelVersion

from .selectors import dice_report, status_counts


def _cell(summary: dict | None) -> str:
    if not summary or summary.get("mean") is None:
        return "-"
    return f"{summary['mean']:.3f} (min {summary['min']:.3f}, n {summary['n']})"


def dice_lines(model_version: ModelVersion | None = None) -> list[str]:
    report = dice_report(model_version)
    if report is None:
        return ["no bone marrow segmentation model yet"]
    lines = [f"held-out Dice, run {report['version']}", f"{'region':<18}" + "".join(f"{label:<32}" for label in
                                                                                    report["labels"])]
    lines += [f"{row['label']:<18}" + "".join(f"{_cell(c):<32}" for c in row["cells"]) for row in report["rows"]]
    return lines


def status_lines(model_version: ModelVersion) -> list[str]:
    lines = [f"{'region':<18}{'ok':>5}{'small':>7}{'empty':>7}{'measured':>10}{'total':>7}"]
    lines += [f"{r['label']:<18}{r['ok']:>5}{r['small']:>7}{r['empty']:>7}{r['measured']:>10}{r['total']:>7}"
              for r in status_counts(model_version)]
    return lines
