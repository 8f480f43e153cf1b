"""The realism report's figures: each with the papers' counterpart (or "no published figure") and the range
the current generator gives (``expected_range``); a harder generator updates the ranges here. Measured by
``ml.synthetic.realism``."""

from __future__ import annotations

from dataclasses import dataclass

from ml.synthetic.tissues import REGION_TISSUE

SEAMS = ((1, 2), (2, 3), (3, 4), (4, 5), (5, 6))


@dataclass(frozen=True)
class Figure:
    """One cohort figure: its key, what it is, the published counterpart, and the range the current generator
    gives at full scale (``expected``; voxel counts scale as scale ** ``power``: 1 thickness, 2 per slice,
    3 volumes) and below half scale (``coarse``, where coarse voxels blur boundaries; None: the same)."""

    key: str
    label: str
    published: str
    expected: tuple[float, float]
    power: int = 0
    note: str = ""
    coarse: tuple[float, float] | None = None
    floor: float | None = None  # no value lies below it at any scale (a label slice has at least one voxel)


_NONE = "no published figure"
# Ranges: per-subject extremes of 30 clean full-scale and 80 quarter-scale subjects (seeds 5 and 6), widened,
# so that the median (or extreme) of a few subjects falls inside them.
# Sources: [L] the liver fat paper (papers/000_...txt), [B] the BMFF paper (papers/004_...txt).
_SNR = {1: (20.0, 45.0), 2: (26.0, 70.0), 3: (28.0, 66.0), 4: (26.0, 68.0), 5: (22.0, 57.0), 6: (24.0, 70.0)}
FIGURES = (
    # scanner.NOISE_SD = 14 per channel at 4.5 mm slices (station 1's 3 mm slices: noisier), muscle proton
    # density 650 under each station's coil shading and gain: cohort medians 31 (station 1) to 47.
    *(Figure(f"snr_station_{n}", f"SNR station {n} (in-phase, muscle / air)", _NONE, _SNR[n],
             note="cohort median; Rician-corrected noise SD") for n in range(1, 7)),
    # texture.LiverTexture: lobular variation, vessels, focal sparing / fat, on top of noise and blur.
    Figure("liver_ff_sd", "liver FF SD (pp)", _NONE, (0.7, 7.0), note="median of per-subject voxel SD"),
    Figure("liver_ff_iqr", "liver FF IQR (pp)", _NONE, (0.7, 9.0), note="median of per-subject voxel IQR"),
    # [B] Discussion (attention U-Nets): the diaphysis "commonly corresponds to < 5-10 pixels per slice";
    # Methods 2.8: some cross sections are so small that one voxel of erosion would remove them. A label
    # slice holds at least one voxel (floor 1).
    Figure("diaphysis_voxels_per_slice", "diaphysis marrow voxels / slice (median)", "< 5-10 pixels", (1.5, 16.0),
           2, "median of per-subject medians", floor=1.0),
    Figure("diaphysis_voxels_per_slice_min", "diaphysis voxels / slice (lowest)", "< 5-10 pixels", (1.0, 6.0), 2,
           floor=1.0),
    Figure("diaphysis_voxels_per_slice_max", "diaphysis voxels / slice (highest)", "< 5-10 pixels", (5.0, 25.0), 2,
           floor=1.0),
    Figure("diaphysis_cortex_voxels", "diaphysis cortex thickness (voxels)", _NONE, (2.8, 4.3), 1,
           "phantom cortex class (not in the label files)"),
    # [B] Results 3.2 / Fig. 4A: segmentation volume (pixels, mean +/- SD) over the 729-subject cohort.
    Figure("volume_spine", "spine label volume (voxels)", "2244 +/- 438", (2600.0, 5200.0), 3, "cohort median"),
    Figure("volume_femoral_head", "femoral head label volume (voxels)", "810 +/- 286", (800.0, 2800.0), 3,
           "cohort median"),
    Figure("volume_total_hip", "total hip label volume (voxels)", "1248 +/- 404", (1500.0, 3000.0), 3,
           "cohort median"),
    Figure("volume_diaphysis", "diaphysis label volume (voxels)", "100 +/- 21", (35.0, 220.0), 3, "cohort median"),
    # [B] Methods 2.3: one observer drew every manual mask, so no inter-observer Dice is published. The
    # generator's rater (raters.STYLES) keeps inside the marrow's partial-volume edge and wanders; the liver
    # label is the organ itself. Below half scale a voxel of wander is a large part of a small region.
    Figure("label_dice_liver", "label vs truth Dice, liver", _NONE, (1.0, 1.0),
           note="lowest over subjects; the liver label is the organ"),
    *(Figure(f"label_dice_{r}", f"label vs truth Dice, {r}", _NONE, (0.3, 0.9) if r == "diaphysis" else (0.88, 1.0),
             note="lowest over subjects; rater labels", coarse=(0.2, 1.0)) for r in REGION_TISSUE if r != "liver"),
    # [L] Results: the atlas readout was fitted to the reference as ref = 0.9 x - 0.8, so the body MRI reads
    # x - ref = 0.889 + 0.111 ref; Table 1: atlas vs reference LoA -2.73 to 2.73 (SD ~ 2.73 / 1.96).
    # The generator's population.liver_ff_image (T1 gain, offset) plus a per-visit bias: its cohort mean is
    # near the fit's bias at the same PDFF.
    Figure("liver_ff_bias", "liver image FF - true PDFF, mean (pp)", "+0.89 + 0.11 PDFF (0.9x - 0.8 fit)",
           (0.0, 4.5), note="image FF: median of the eroded liver"),
    Figure("liver_ff_difference_sd", "liver image FF - true PDFF, SD (pp)", "~1.4 (LoA +/-2.73, corrected)",
           (0.0, 2.5), note="published SD includes reference and registration error"),
    Figure("liver_ff_readout_error", "liver image FF - generated liver FF, max |.| (pp)", _NONE, (0.0, 1.0),
           note="the median of a heterogeneous liver departs from its generated level"),
    # [L] Methods 2.1: "the borders between stations often contain motion artifacts" (no intensity figure);
    # scanner.GAIN_SD and the coil shading at each station's ends make the step.
    *(Figure(f"seam_{a}_{b}", f"seam {a}/{b} intensity ratio (upper / lower)", _NONE, (0.85, 1.2),
             note="cohort median") for a, b in SEAMS),
    Figure("seam_max_deviation", "seams, max |ratio - 1|", _NONE, (0.0, 0.3)),
    # [L] Methods 2.1: imaged UK Biobank subjects had mean BMI 26.6 (SD 4.3), age 44-82; [B] Methods 2.1
    # selected BMI 18.5-25. The generator draws log-normal BMI with that mean and SD, clipped to 17-50.
    Figure("bmi_min", "BMI, lowest (kg/m2)", "UKB mean 26.6, SD 4.3 (no range)", (17.0, 50.0)),
    Figure("bmi_median", "BMI, median (kg/m2)", "UKB mean 26.6, SD 4.3", (17.0, 50.0)),
    Figure("bmi_max", "BMI, highest (kg/m2)", "UKB mean 26.6, SD 4.3 (no range)", (17.0, 50.0)),
)
FIGURE_BY_KEY = {f.key: f for f in FIGURES}
COARSE_SCALE = 0.5


def expected_range(key: str, scale: float) -> tuple[float, float]:
    """The current generator's range of a figure at ``scale``. Below half scale voxel counts are so coarse
    that their band is widened to half its low end and one and a half times its high end; a figure with a
    floor never goes below it."""
    figure = FIGURE_BY_KEY[key]
    low, high = (v * scale**figure.power for v in figure.expected)
    if scale < COARSE_SCALE and figure.power:
        low, high = low / 2, high * 1.5
    elif scale < COARSE_SCALE and figure.coarse:
        low, high = figure.coarse
    if figure.floor is not None:
        low, high = max(low, figure.floor), max(high, figure.floor)
    return low, high
