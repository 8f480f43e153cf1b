"""Both papers through the app on a synthetic cohort, each published cell beside the app's and the truth's.

    .venv/bin/python bench/bench_paper.py [--subjects 600] [--scale 0.25] [--seed 2024] [--report PATH]

1. Runs ``manage.py demo --no-serve --profile paper`` on a new study (SQLite, jobs in-process) under
   ``bench/out/paper/n{subjects}-s{scale}-seed{seed}/``: cohort, import, preprocessing, simulated visual QC,
   10-fold cross-validation, training and inference of the liver fat network, the atlas on dataset A and 100
   subjects of C, 75 manual marrow segmentations, both segmentation networks, segmentation of every scan. It
   runs once: the study is kept (``pipeline.json`` records the time of each step); delete the folder to rerun.
2. Reads the study as ``manage.py report paper`` does, twice: with the values the app stored ("app"), and with
   every value the app measured replaced by the generator's truth on the same subjects ("truth",
   ``report paper --truth``).
3. Writes a Markdown report (default ``bench/out/paper/report.md``): for each cell of
   ``bench/papers/published.csv`` the paper's value, the app's and the truth's, with each section's dataset line.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cohort import demo_pipeline  # noqa: E402  (bench/cohort.py: a script's folder is on its path)

PUBLISHED = ROOT / "bench" / "papers" / "published.csv"
C_SIZE = 100  # the atlas runs on 100 subjects of C (the paper: 1,000); the profile "paper" of the demo
SECTION_KEYS = {"Liver fat paper": "liver", "Bone marrow paper": "marrow"}
# the paper's labels -> the app's, where they differ (compared without case, spaces and punctuation)
ALIASES = {"bmffspine": "BMFF Spine (T8-L3)", "bmffdiaphysis": "BMFF Femoral diaphysis", "spine": "Spine (T8-L3)",
           "roiattentionunet": "ROI-attention U-Net", "unet": "3D U-Net", "adjr²": "Adj. R2", "βcis": "beta (95% CI)",
           "female": "F", "male": "M"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=600)
    parser.add_argument("--scale", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--report", type=Path, default=ROOT / "bench" / "out" / "paper" / "report.md")
    args = parser.parse_args()
    study = ROOT / "bench" / "out" / "paper" / f"n{args.subjects}-s{args.scale:g}-seed{args.seed}"
    pipeline = run_pipeline(study, args)
    os.environ["UKBSTUDY_DATA_DIR"] = str(study)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ukbstudy.settings.local")
    import django

    django.setup()
    from ml.synthetic.tables import read_true_values
    from ukbstudy.results.paper import paper_sections

    cohort = next((study / "demo").glob("cohort-*"))
    started = time.perf_counter()
    app = paper_sections(c_size=C_SIZE)
    truth = paper_sections(c_size=C_SIZE, truth=read_true_values(cohort / "ground_truth.csv"))
    seconds = time.perf_counter() - started
    report = render_report(args, pipeline, app, truth, seconds)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(report, encoding="utf-8")
    print(report)
    print(f"written to {args.report}")


def run_pipeline(study: Path, args: argparse.Namespace) -> dict:
    """The demo pipeline with the paper profile, once per study folder; its timings."""
    return demo_pipeline(study, ["--profile", "paper", "--subjects", str(args.subjects), "--scale", f"{args.scale:g}",
                                 "--seed", str(args.seed)],
                         {"subjects": args.subjects, "scale": args.scale, "seed": args.seed})


# --- looking up the app's cell for a published one ----------------------------------------------------------------


def _key(label: str) -> str:
    return re.sub(r"[\s\-_().,/%]", "", label.lower())


def _same(paper_label: str, app_label: str) -> bool:
    """Equal without case, spaces, punctuation and a group size ('Males Control (n = 138)')."""
    paper_label, app_label = paper_label.split(" (n =")[0], app_label.split(" (n =")[0]
    return _key(app_label) == _key(ALIASES.get(_key(paper_label), paper_label))


def _sections(sections) -> dict[tuple[str, str], object]:
    """(paper, table) -> section, e.g. ('marrow', 'Table 5'); the Fig. 5A section as 'Fig. 5A (text)'."""
    found = {}
    for section in sections:
        paper, _, rest = section.title.partition(", ")
        table = rest.split(":")[0]
        found[(SECTION_KEYS[paper], "Fig. 5A (text)" if table == "Fig. 5A" else table)] = section
    return found


def cell(sections: dict, paper: str, table: str, row: str, column: str, *, truth: bool = False) -> str:
    """The app's cell for the paper's (table, row, column), or '' when the app has no such cell."""
    section = sections.get((paper, "Table 1" if table == "Text" else table))  # the text's figures: Table 1's run
    if section is None or not section.tables:
        return ""
    if table == "Text":
        return "" if truth and row.startswith("Atlas correction") else _text_cell(section, row, column)
    if table == "Fig. 5A (text)":
        return _fig_5a_cell(section, row, column)
    grid = section.tables[0]
    for values in grid.rows:
        if table == "Table 4":
            parts = row.split(" / ")
            if not all(_same(p, v) for p, v in zip(parts, values[:3], strict=True)):
                continue
        elif not _same(row, values[0]):
            continue
        for name, value in zip(grid.header, values, strict=True):
            if _same(column, name):
                return value
    return ""


def _text_cell(section, row: str, column: str) -> str:
    if row.startswith("Dataset A:") and column in ("r", "LoA"):
        errors = section.tables[1].to_rows()[0]
        return errors[column]
    if row in ("Dataset A", "Dataset C") and column == "N":
        sizes = re.findall(r"dataset ([AC])\b[^;]*?n = (\d+)", section.dataset)
        return dict(sizes).get(row[-1], "")
    if row.startswith("Atlas correction"):
        return _atlas_correction()
    return ""


def _atlas_correction() -> str:
    from ukbstudy.measurements.models import ModelVersion

    version = ModelVersion.objects.filter(task=ModelVersion.Task.LIVER_FF_ATLAS, is_current=True).first()
    correction = (version.config.get("correction") or {}) if version else {}
    if "slope" not in correction:
        return ""
    sign = "-" if correction["intercept"] < 0 else "+"
    return f"{correction['slope']:.2f}x {sign} {abs(correction['intercept']):.2f}"


def _fig_5a_cell(section, row: str, column: str) -> str:
    terms, within = section.tables[0].to_rows(), section.tables[1].to_rows()
    if row.startswith(("Spine vs", "Femoral regions")) and column == "P":
        region = next(t for t in terms if t["Term"] == "region")
        return f"region term P = {region['P']} (Wald chi2 {region['Statistic']})"
    if row.startswith(("Spine vs", "Femoral regions")) and column == "Direction":  # the cells' means, F / M
        return "; ".join(f"{r['region']}: F {r['Mean ± SEM (first)'].split(' ±')[0]}, "
                         f"M {r['Mean ± SEM (second)'].split(' ±')[0]}" for r in within)
    if row.startswith("Sex difference") and column == "Direction":
        femoral = not row.endswith("spine")
        return "; ".join(f"{r['region']}: F - M = {r['Difference']} (P adj {r['P (adjusted)']})" for r in within
                         if r["region"].startswith("Spine") != femoral)
    return ""


# --- the report ---------------------------------------------------------------------------------------------------


def render_report(args, pipeline: dict, app: list, truth: list, seconds: float) -> str:
    published = list(csv.DictReader(PUBLISHED.open(encoding="utf-8")))
    by_app, by_truth = _sections(app), _sections(truth)
    steps = ", ".join(f"{name} {s / 60:.1f} min" for name, s in pipeline["steps_s"].items())
    lines = [f"# The papers' tables through the app: {args.subjects} synthetic subjects at scale {args.scale:g}, "
             f"seed {args.seed}", "",
             f"Pipeline (`manage.py demo --no-serve --profile paper`): {pipeline['seconds'] / 60:.1f} min in all "
             f"({steps}; the rest: cohort, import, preprocessing, QC). Both reports read in {seconds:.1f} s.",
             "Paper: as published (bench/papers/published.csv). App: from the values the app stored. Truth: every "
             "value the app measured (network, atlas, segmentation BMFF) replaced by the generator's true value, "
             "same subjects; reference fields and DXA covariates are the generator's in both. '' = no such cell.",
             "",
             "Reading it: paper vs app differs mostly because the cohort differs (a synthetic general population, "
             "not the paper's 729 non-diabetic 60-69-year-olds of normal BMI; the generator's effect sizes are "
             "its own), the datasets are smaller (liver A and C here, 4,418 and 1,000 there), the images are at "
             f"scale {args.scale:g} and the networks train briefly on a CPU. App vs truth is the app's own "
             "measurement error carried into each table; where they agree, the statistics engine reproduces "
             "what exact measurements would give.", ""]
    tables = list(dict.fromkeys((r["paper"], r["table"]) for r in published))
    for paper, table in tables:
        section = by_app.get((paper, table))
        lines += [f"## {paper} {table}", ""]
        if table == "Text":
            section = by_app.get((paper, "Table 1"))
        if section is not None:
            lines += [f"App: {section.dataset or '; '.join(section.lines)}", ""]
        lines += ["| Row | Column | Paper | App | Truth |", "|---|---|---|---|---|"]
        for r in (r for r in published if (r["paper"], r["table"]) == (paper, table)):
            values = [r["value"], cell(by_app, paper, table, r["row"], r["column"]),
                      cell(by_truth, paper, table, r["row"], r["column"], truth=True)]
            lines.append("| " + " | ".join(v.replace("|", "/") for v in (r["row"], r["column"], *values)) + " |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
