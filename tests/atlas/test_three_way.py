"""The three-way comparison: tables from frames, and the command, page and CSV from stored measurements."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command

from analysis.threeway import render_three_way, three_way_tables
from tests.factories import make_scan
from ukbstudy.measurements.models import ModelVersion
from ukbstudy.measurements.services import measurement_record
from ukbstudy.qc.services import qc_decision_record
from ukbstudy.showcase.models import ReferenceValue
from ukbstudy.subjects.models import ImportBatch

ROWS = ["Reference vs Network", "Reference vs Atlas", "Atlas vs Network", "Atlas (C) vs Network (C)"]


def frames(n=40, seed=3):
    rng = np.random.default_rng(seed)
    truth = rng.uniform(1, 20, n)
    a = pd.DataFrame({"eid": np.arange(1000, 1000 + n), "reference": truth + rng.normal(0, 1, n),
                      "network": truth + rng.normal(0, 0.5, n), "atlas": truth + rng.normal(0, 0.7, n)})
    a.loc[7, "network"] += 15  # the largest network error
    c = a.assign(reference=np.nan, eid=a["eid"] + 5000)
    return a, c


def test_the_tables_follow_the_papers_layout_with_outliers_carrying_all_three_values():
    a, c = frames()
    agreement, errors, outliers = three_way_tables(a, c)
    assert [row[0] for row in agreement.rows] == ROWS
    assert agreement.header == ("Comparison", "MAE", "R2", "LoA", "ROC-AUC", "Sens", "Spec")
    assert errors.rows[0][1] == "40"
    first = outliers.rows[0]
    assert first[:2] == ("1", "1007") and float(first[4]) == pytest.approx(a.loc[7, "atlas"], abs=0.01)
    assert len(outliers.rows) == 10
    csv_text = render_three_way([agreement, errors, outliers], "csv")
    assert csv_text.startswith("Method comparison on datasets A") and "Largest network errors on dataset A" in csv_text


@pytest.fixture
def stored(db, rater):
    """Ten subjects in A (reference, network, atlas) and ten in C (network, atlas), as stored measurements: the
    network's values on A out-of-fold, as cross-validation writes them."""
    a, c = frames(n=10)
    batch = ImportBatch.objects.create(kind=ImportBatch.Kind.FIELDS, source="test")
    version = ModelVersion.objects.create(task="liver_ff_atlas", name="multi-atlas", version="t", is_current=True)
    for frame in (a, c):
        for row in frame.itertuples():
            scan = make_scan(processing_state="processed")
            qc_decision_record(scan=scan, rater=rater, verdict="pass")
            if not np.isnan(row.reference):
                ReferenceValue.objects.create(subject=scan.subject, field="22402-2.0", value=row.reference,
                                              import_batch=batch)
            out_of_fold = {"out_of_fold": True, "fold": row.Index % 5} if frame is a else {}
            measurement_record(scan=scan, quantity="liver_ff", method="network", value=row.network,
                               details=out_of_fold)
            measurement_record(scan=scan, quantity="liver_ff", method="atlas", value=row.atlas, model_version=version,
                               details={"raw": row.atlas})
    return a


def test_the_command_prints_every_row_from_stored_measurements(stored, capsys):
    call_command("report", "three-way")
    out = capsys.readouterr().out
    for label in ROWS:
        line = next(line for line in out.splitlines() if line.startswith(label))
        assert " - " not in line.replace(label, "")  # every figure filled
    assert "Error correlation" in out and "Largest network errors on dataset A" in out


def test_the_page_and_csv_need_the_view_permission(stored, client, django_user_model):
    user = django_user_model.objects.create_user("viewer", password="viewer-password-1")
    client.force_login(user)
    assert client.get("/atlas/three-way/").status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_measurement"))
    page = client.get("/atlas/three-way/")
    assert page.status_code == 200 and all(label in page.content.decode() for label in ROWS)
    download = client.get("/atlas/three-way.csv")
    assert download["Content-Type"].startswith("text/csv") and b"Atlas (C) vs Network (C)" in download.content
    assert client.get("/atlas/").status_code == 200


def test_without_network_values_the_page_says_what_is_missing(db, client, django_user_model):
    user = django_user_model.objects.create_superuser("admin", password="admin-password-1")
    client.force_login(user)
    response = client.get("/atlas/three-way/")
    assert response.status_code == 409 and b"cannot be computed yet" in response.content
