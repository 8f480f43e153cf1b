"""The liver fat paper's 2D network input: coronal and sagittal fat-fraction slices side by side.

At full scale: the coronal slice through the body's centre of mass (224 columns) and the sagittal slice
at a quarter of the body's mass from the patient's right (through the right thigh), both cut to the upper
176 slices of the fused volume (neck to below the liver: the lower half of the body is dropped) and the
sagittal one to its 152 anterior rows (the bed is dropped), concatenated to 176 x 376 pixels and encoded
in 8 bits as 0-50 % FF. No body mask is applied to the image itself.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

HEIGHT, SAGITTAL_WIDTH = 176, 152  # full-scale pixels; the coronal width is the grid's 224 columns
FF_RANGE = (0.0, 0.5)


@dataclass(frozen=True)
class NetworkInputParameters:
    coronal_row: int  # y index of the coronal slice
    sagittal_column: int  # x index of the sagittal slice
    slices: int  # upper slices kept
    sagittal_rows: int  # anterior rows kept
    ff_range: tuple[float, float] = FF_RANGE
    encoding: str = "uint8: 0-255 = FF 0-50 %"

    def as_dict(self) -> dict:
        return asdict(self)


def network_input(ff: np.ndarray, mask: np.ndarray, scale: float = 1.0) -> tuple[np.ndarray, NetworkInputParameters]:
    """(image, parameters): ``ff`` and ``mask`` are (z, y, x) on the fused grid; image is uint8 (H, W)."""
    nz, ny, nx = ff.shape
    parameters = NetworkInputParameters(
        coronal_row=_centre_of_mass(mask.sum(axis=(0, 2)), ny),
        sagittal_column=_quantile_of_mass(mask.sum(axis=(0, 1)), 0.25, nx),
        slices=min(nz, max(1, round(HEIGHT * scale))),
        sagittal_rows=min(ny, max(1, round(SAGITTAL_WIDTH * scale))),
    )
    coronal = ff[:parameters.slices, parameters.coronal_row, :]
    sagittal = ff[:parameters.slices, :parameters.sagittal_rows, parameters.sagittal_column]
    image = np.concatenate([coronal, sagittal], axis=1)
    low, high = FF_RANGE
    return np.round(np.clip((image - low) / (high - low), 0, 1) * 255).astype(np.uint8), parameters


def _centre_of_mass(profile: np.ndarray, size: int) -> int:
    """Mass-weighted mean index along the axis (the middle if there is no mass)."""
    total = profile.sum()
    if total <= 0:
        return size // 2
    return min(size - 1, int(round(float(np.dot(np.arange(size), profile)) / total)))


def _quantile_of_mass(profile: np.ndarray, fraction: float, size: int) -> int:
    """Index where the cumulative mass along the axis first reaches ``fraction`` (the middle if empty)."""
    total = profile.sum()
    if total <= 0:
        return size // 2
    return min(size - 1, int(np.searchsorted(np.cumsum(profile), fraction * total)))
