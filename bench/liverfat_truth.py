"""The liver fat network's stored values against the synthetic generator's ground truth (Table 1 layout).

    UKBSTUDY_DATA_DIR=... DATABASE_URL=... .venv/bin/python bench/liverfat_truth.py GROUND_TRUTH_CSV

Reads the newest cross-validation's out-of-fold values (dataset A) and the current model's values
(dataset B, when inferred) from the study database, and compares them with the generator's true liver PDFF
(``liver_ff_true``: what the reference fields measure, with noise, and so what a network trained on them
learns to predict), with the reference field the network was trained on, and, for information, with
``liver_ff_image`` (the fat fraction the body MRI shows: a smooth non-linear function of the true PDFF that
the atlas method's linear correction inverts, on another scale than the reference).
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ukbstudy.settings.local")


def main() -> None:
    import django

    django.setup()
    from analysis.comparison import agreement
    from analysis.tables import render_agreement_table
    from ukbstudy.measurements.models import Measurement, ModelVersion
    from ukbstudy.measurements.selectors.datasets import usable_reference_values

    truths = list(csv.DictReader(open(sys.argv[1])))
    truth = {(int(r["eid"]), int(r["instance"])): float(r["liver_ff_true"]) for r in truths}
    image = {(int(r["eid"]), int(r["instance"])): float(r["liver_ff_image"]) for r in truths}
    rows = []
    task = ModelVersion.Task.LIVER_FF_REGRESSION
    cv = ModelVersion.objects.filter(task=task, config__kind="cross_validation").order_by("-created_at").first()
    current = ModelVersion.objects.filter(task=task, is_current=True).first()
    for label, version in (("out-of-fold, A", cv), ("inferred, B", current)):
        if version is None:
            continue
        values = list(Measurement.objects.filter(model_version=version).values_list(
            "subject_id", "subject__eid", "scan__instance", "value"))
        if len(values) < 3:
            continue
        field = version.config.get("field", "22402-2.0")
        network = [v for *_, v in values]
        rows.append((f"true PDFF vs network ({label}, {version.version})",
                     agreement([truth[(eid, inst)] for _, eid, inst, _ in values], network)))
        rows.append((f"image FF vs network ({label})",
                     agreement([image[(eid, inst)] for _, eid, inst, _ in values], network)))
        reference = usable_reference_values([pk for pk, *_ in values], field)
        if all(pk in reference for pk, *_ in values):
            rows.append((f"reference {field} vs network ({label})",
                         agreement([reference[pk] for pk, *_ in values], network)))
            rows.append((f"true PDFF vs reference {field} ({label})",
                         agreement([truth[(eid, inst)] for _, eid, inst, _ in values],
                                   [reference[pk] for pk, *_ in values])))
    print(render_agreement_table(rows))


if __name__ == "__main__":
    main()
