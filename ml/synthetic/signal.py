"""Dixon signal synthesis: water and fat magnitudes per tissue, in/opposed-phase echoes, noise.

Each tissue has a proton density (arbitrary units inside the 12-bit range; fat and water tissue around
600-900, air 0) and a fat fraction; water = PD (1 - FF) and fat = PD FF. The scanner acquires the
in-phase (W + F) and opposed-phase (|W - F|) echoes as magnitude images with Rician noise, and the fat
and water images are derived from them (half their sum and half their difference, assigned by which
component dominates), as in two-point Dixon. The liver and the marrow vary inside (``texture``), and the
scanner blurs, shades and scales each run before the noise (``scanner``). The minor component is a
magnitude, so at low fat its noise floor lifts the fat fraction, as in real magnitude Dixon; elsewhere the
fat fraction F / (F + W) of a region matches the region's chosen value to within noise and partial volume.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.synthetic.body import Body
from ml.synthetic.geometry import Grid
from ml.synthetic.scanner import StationImaging, blur
from ml.synthetic.texture import Texture, is_marrow, liver_voxels, marrow_offsets
from ml.synthetic.tissues import Tissue

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


def tissue_signal(tissue: np.ndarray, table: TissueTable, grid: Grid, texture: Texture,
                  liver_origin: tuple[float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Noise-free water and fat (float32 (z, y, x)) of a tissue volume: the table's values, with the liver and
    the marrow textured (``texture``; the liver's texture is placed at ``liver_origin``)."""
    water, fat = table.water[tissue], table.fat[tissue]
    liver = np.nonzero(tissue == Tissue.LIVER)
    if liver[0].size:
        ox, oy, oz = liver_origin
        mean_ff = 100 * float(table.fat[Tissue.LIVER] / max(table.fat[Tissue.LIVER] + table.water[Tissue.LIVER], 1e-6))
        ff, pd = liver_voxels(texture.liver, mean_ff, float(table.fat[Tissue.LIVER] + table.water[Tissue.LIVER]),
                              grid.x[liver[2]] - ox, grid.y[liver[1]] - oy, grid.z[liver[0]] - oz)
        water[liver], fat[liver] = pd * (1 - ff / 100), pd * ff / 100
    marrow = np.nonzero(is_marrow(tissue))
    if marrow[0].size:
        codes = tissue[marrow]
        pd = table.water[codes] + table.fat[codes]
        ff = table.fat[codes] / np.maximum(pd, 1e-6)
        ff = np.clip(ff + marrow_offsets(texture.marrow, codes, grid.x[marrow[2]], grid.y[marrow[1]],
                                         grid.z[marrow[0]]) / 100, 0.0, 1.0)
        water[marrow], fat[marrow] = pd * (1 - ff), pd * ff
    return water, fat


def _rician(signal: np.ndarray, sd: float, rng: np.random.Generator) -> np.ndarray:
    """Magnitude of the signal plus complex Gaussian noise of standard deviation ``sd`` per channel."""
    real = signal + sd * rng.standard_normal(signal.shape, np.float32)
    imaginary = sd * rng.standard_normal(signal.shape, np.float32)
    return np.hypot(real, imaginary)


def _to_pixels(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), 0, MAX_VALUE).astype(np.uint16)


def render(water: np.ndarray, fat: np.ndarray, grid: Grid, imaging: StationImaging, rng: np.random.Generator,
           noise_factor: float = 1.0, swap_fat_water: bool = False) -> dict[str, np.ndarray]:
    """The four Dixon series (keys "in", "opp", "F", "W") of one acquisition, uint16 (z, y, x), from the
    noise-free water and fat: blurred by the point-spread function, shaded, scaled by the run's gain, and
    acquired as magnitude echoes with Rician noise (``scanner``).

    ``swap_fat_water`` models the water-fat swap artefact: the fat and water images exchange content.
    """
    shading = imaging.shading(grid)
    water = blur(water) * shading
    fat = blur(fat) * shading
    sd = imaging.noise_sd * noise_factor
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
