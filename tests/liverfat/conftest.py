"""A small study whose network inputs encode each subject's liver fat (no DICOM needed), and tiny training
configurations that run in seconds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.factories import make_scan, make_subject
from ukbstudy.imaging.models import Scan
from ukbstudy.qc.models import QCDecision, Verdict
from ukbstudy.showcase.models import ReferenceValue
from ukbstudy.subjects.models import ImportBatch

SHAPE = (64, 32)
TINY = {"depth": 18, "width": 8, "iterations": 60, "lr_drop_iterations": 10, "batch_size": 16, "downsample": 1}


def liver_image(ff: float, rng: np.random.Generator) -> np.ndarray:
    """A body-like blob whose upper block (the 'liver') shows ``ff`` on the 0-50 % -> 0-255 scale."""
    image = rng.normal(20, 4, SHAPE).clip(0, 255)
    image[8:28, 6:26] = ff / 50 * 255 + rng.normal(0, 3, (20, 20))
    return image.clip(0, 255).astype(np.uint8)


@dataclass
class Study:
    scans: list[Scan]
    truth: dict[int, float]  # scan pk -> liver fat (%)
    with_reference: list[Scan]
    without_reference: list[Scan]


def make_study(media_root: Path, rater, *, n: int, n_reference: int, seed: int = 0, field: str = "22402-2.0",
               verdicts: dict[int, str] | None = None) -> Study:
    rng = np.random.default_rng(seed)
    batch = ImportBatch.objects.create(kind=ImportBatch.Kind.FIELDS, source="test")
    scans, truth = [], {}
    for index in range(n):
        ff = float(rng.uniform(1, 30))
        scan = make_scan(make_subject(sex="F" if index % 2 else "M"), processing_state=Scan.State.PROCESSED)
        relative = f"derived/{scan.subject.eid}/network_input.npy"
        (media_root / relative).parent.mkdir(parents=True, exist_ok=True)
        np.save(media_root / relative, liver_image(ff, rng))
        Scan.all_objects.filter(pk=scan.pk).update(derived={"network_input_array": relative})
        scan.refresh_from_db()
        QCDecision.objects.create(scan=scan, rater=rater, verdict=(verdicts or {}).get(index, Verdict.PASS),
                                  reason="noise" if (verdicts or {}).get(index) == Verdict.FAIL else "")
        if index < n_reference:
            ReferenceValue.objects.create(subject=scan.subject, field=field, value=round(ff, 2), import_batch=batch)
        scans.append(scan)
        truth[scan.pk] = ff
    return Study(scans, truth, scans[:n_reference], scans[n_reference:])


@pytest.fixture
def study(media_root, rater) -> Study:
    return make_study(media_root, rater, n=30, n_reference=20)


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """Tiny networks run fastest on one thread (and do not fight other test processes for cores)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
