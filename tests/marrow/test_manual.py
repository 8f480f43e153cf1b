"""Manual segmentations: validated against the slab, stored once per scan and region, importable in bulk."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from django.core.management import CommandError, call_command

from ml.marrow.io import LabelError
from ukbstudy.marrow.models import ManualSegmentation
from ukbstudy.marrow.services.manual import manual_segmentation_record

pytestmark = pytest.mark.django_db


def test_the_generator_labels_import_for_every_region_and_again_without_duplicates(labelled, marrow_cohort):
    assert ManualSegmentation.objects.count() == 16
    record = ManualSegmentation.objects.get(scan=labelled[0], region="diaphysis")
    assert record.voxels > 0 and record.path.endswith("diaphysis.nii.gz")
    call_command("marrow", "import-labels", str(marrow_cohort / "labels"), "--any-qc", "--count", "2")
    assert ManualSegmentation.objects.count() == 16


def test_a_label_on_another_grid_is_refused_with_the_file_named(scans, marrow_cohort, tmp_path):
    source = marrow_cohort / "labels" / f"{scans[0].subject.eid}_20201_2_0" / "spine.nii.gz"
    with pytest.raises(LabelError, match="spine.nii.gz: shape"):  # spine lives on station 2, not 5
        manual_segmentation_record(scan=scans[0], region="diaphysis", path=source)
    image = nib.load(source)
    shifted = tmp_path / "shifted.nii.gz"
    affine = image.affine.copy()
    affine[2, 3] += 10
    nib.save(nib.Nifti1Image(np.asarray(image.dataobj), affine), shifted)
    with pytest.raises(LabelError, match="shifted.nii.gz: affine differs"):
        manual_segmentation_record(scan=scans[0], region="spine", path=shifted)
    assert not ManualSegmentation.objects.exists()


def test_the_upload_command_stores_one_label_and_names_a_bad_one(scans, marrow_cohort):
    folder = marrow_cohort / "labels" / f"{scans[0].subject.eid}_20201_2_0"
    call_command("marrow", "upload", str(scans[0].subject.eid), "total_hip", str(folder / "total_hip.nii.gz"))
    assert ManualSegmentation.objects.filter(region="total_hip").count() == 1
    with pytest.raises(CommandError, match="liver.nii.gz: shape"):
        call_command("marrow", "upload", str(scans[0].subject.eid), "spine", str(folder / "liver.nii.gz"))
