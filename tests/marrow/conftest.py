"""A small preprocessed cohort with manual labels, and a tiny trained model pair (seconds, not accuracy)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ml.synthetic import make_cohort
from ukbstudy.imaging.models import Scan
from ukbstudy.imaging.services.archives import scans_import_archives
from ukbstudy.imaging.services.preprocessing import scan_preprocess
from ukbstudy.marrow.services.manual import manual_segmentations_import
from ukbstudy.marrow.services.training import marrow_models_train

TINY = {"iterations": 3, "base_channels": 4, "batch_size": 2}


@pytest.fixture(scope="session")
def marrow_cohort(tmp_path_factory) -> Path:
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("marrow") / "cohort"
    make_cohort(out, 4, seed=61, scale=0.25, repeat_fraction=0.0, fault_rates={})
    return out


@pytest.fixture
def scans(marrow_cohort) -> list[Scan]:
    report = scans_import_archives(paths=sorted((marrow_cohort / "archives").glob("*.zip")))
    scans = [Scan.objects.select_related("subject").get(pk=r.scan_id) for r in report.results]
    for scan in scans:
        assert scan_preprocess(scan=scan).ok
        scan.refresh_from_db()
    return scans


@pytest.fixture
def labelled(scans, marrow_cohort) -> list[Scan]:
    report = manual_segmentations_import(labels_dir=marrow_cohort / "labels", scans=scans)
    assert not report.errors and len(report.imported) == 16
    return scans


@pytest.fixture
def trained(labelled):
    return marrow_models_train(config=TINY, test_fraction=0.25)
