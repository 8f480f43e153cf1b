"""Dixon signal synthesis: water and fat magnitudes per tissue, in/opposed-phase echoes, noise.

Each tissue has a proton density (arbitrary units inside the 12-bit range; fat and water tissue around
600-900, air 0) and a fat fraction; water = PD (1 - FF) and fat = PD FF. The scanner acquires the
in-phase (W + F) and opposed-phase (|W - F|) echoes as magnitude images with Rician noise, and the fat
and water images are derived from them (half their sum and half their difference, assigned by which
component dominates), as in two-point Dixon. Deriving F and W from the noisy echoes keeps their noise
unbiased in tissue, so the fat fraction F / (F + W) inside a region matches the region's chosen value to
within noise, while air and the low component still look like real magnitude noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.synthetic.body import Body
from ml.synthetic.geometry import Grid
from ml.synthetic.tissues import Tissue

NOISE_SD = 7.0  # about 1 % of the signal of tissue
MAX_VALUE = 4095  # 12 bits stored

# Proton density and fat fraction (%) of tissues that do not vary between visits.
_FIXED = {
    Tissue.AIR: (0.0, 0.0),
    Tissue.SUBCUTANEOUS_FAT: (900.0, 92.0),
    Tissue.VISCERAL_FAT: (880.0, 90.0),
    Tissue.BOWEL: (520.0, 5.0),
    Tissue.MEDIASTINUM: (820.0, 75.0),
    Tissue.LUNG: (45.0, 10.0),
    Tissue.HEART: (600.0, 3.0),
    Tissue.KIDNEY: (650.0, 3.0),
    Tissue.CORTEX: (35.0, 30.0),
    Tissue.DISC: (700.0, 3.0),
    Tissue.CSF: (950.0, 0.0),
    Tissue.PELVIS_MARROW: (800.0, 70.0),
    Tissue.EPIPHYSIS: (820.0, 90.0),
    Tissue.METAL_VOID: (4.0, 0.0),
    Tissue.METAL_RIM: (2400.0, 50.0),
}
# Marrow tissues and the region whose fat fraction they take (right femur mirrors the left).
_MARROW = {
    Tissue.SPINE_MARROW: (780.0, "spine"),
    Tissue.VERTEBRA_MARROW: (780.0, "spine"),
    Tissue.FEMORAL_HEAD: (820.0, "femoral_head"),
    Tissue.RIGHT_HEAD: (820.0, "femoral_head"),
    Tissue.TOTAL_HIP: (800.0, "total_hip"),
    Tissue.RIGHT_HIP: (800.0, "total_hip"),
    Tissue.SHAFT_MARROW: (800.0, "diaphysis"),
    Tissue.DIAPHYSIS: (800.0, "diaphysis"),
    Tissue.RIGHT_SHAFT: (800.0, "diaphysis"),
}


@dataclass(frozen=True, eq=False)
class TissueTable:
    """Noise-free water and fat magnitude of every tissue code, for one visit."""

    water: np.ndarray  # (n_codes,) float32
    fat: np.ndarray


def tissue_table(body: Body, liver_ff: float, bmff: dict[str, float]) -> TissueTable:
    """Signal table for a visit: fixed tissues plus this body's muscle, liver and marrow fat fractions."""
    properties = dict(_FIXED)
    properties[Tissue.MUSCLE] = (650.0, 100 * body.muscle_ff)
    properties[Tissue.LIVER] = (720.0, liver_ff)
    properties.update({code: (pd, bmff[region]) for code, (pd, region) in _MARROW.items()})
    pd = np.zeros(len(Tissue), np.float32)
    ff = np.zeros(len(Tissue), np.float32)
    for code, (density, fraction) in properties.items():
        pd[code], ff[code] = density, fraction / 100
    return TissueTable(water=pd * (1 - ff), fat=pd * ff)


def _bias_field(grid: Grid) -> np.ndarray:
    """Mild smooth receive-coil shading, (1, rows, columns): brighter posteriorly, darker laterally."""
    y = (grid.y - grid.y.mean()) / 200
    x = grid.x / 250
    field = 1 + 0.06 * y[:, None] - 0.08 * x[None, :] ** 2
    return field.astype(np.float32)[None]


def _rician(signal: np.ndarray, sd: float, rng: np.random.Generator) -> np.ndarray:
    """Magnitude of the signal plus complex Gaussian noise of standard deviation ``sd`` per channel."""
    real = signal + sd * rng.standard_normal(signal.shape, np.float32)
    imaginary = sd * rng.standard_normal(signal.shape, np.float32)
    return np.hypot(real, imaginary)


def _to_pixels(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), 0, MAX_VALUE).astype(np.uint16)


def render(tissue: np.ndarray, table: TissueTable, grid: Grid, rng: np.random.Generator,
           noise_factor: float = 1.0, swap_fat_water: bool = False) -> dict[str, np.ndarray]:
    """The four Dixon series (keys "in", "opp", "F", "W") of one acquisition, uint16 (z, y, x).

    ``swap_fat_water`` models the water-fat swap artefact: the fat and water images exchange content.
    """
    bias = _bias_field(grid)
    water = table.water[tissue] * bias
    fat = table.fat[tissue] * bias
    sd = NOISE_SD * noise_factor
    in_phase = _rician(water + fat, sd, rng)
    opposed = _rician(np.abs(water - fat), sd, rng)
    major = (in_phase + opposed) / 2
    minor = np.abs(in_phase - opposed) / 2
    fat_major = fat > water
    fat_image = np.where(fat_major, major, minor)
    water_image = np.where(fat_major, minor, major)
    if swap_fat_water:
        fat_image, water_image = water_image, fat_image
    return {"in": _to_pixels(in_phase), "opp": _to_pixels(opposed),
            "F": _to_pixels(fat_image), "W": _to_pixels(water_image)}
