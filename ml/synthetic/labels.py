"""Label masks as NIfTI files that overlay the DICOM series in any viewer.

Arrays are written in (column, row, slice) order, i.e. the (z, y, x) volume transposed, with the grid's
RAS affine (``Grid.affine_ras``): voxel (0, 0, 0) is the first pixel (top-left) of the head-most slice,
and its RAS position is (-x, -y, z) of that slice's DICOM ImagePositionPatient.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from ml.synthetic.geometry import Grid


def write_label(path: Path, mask: np.ndarray, grid: Grid) -> None:
    """Save a (z, y, x) mask on ``grid`` as a uint8 NIfTI with matching qform and sform."""
    affine = grid.affine_ras()
    image = nib.Nifti1Image(np.ascontiguousarray(mask.transpose(2, 1, 0), dtype=np.uint8), affine)
    image.set_qform(affine, code=1)  # scanner coordinates
    image.set_sform(affine, code=1)
    image.header.set_xyzt_units("mm")
    nib.save(image, path)
