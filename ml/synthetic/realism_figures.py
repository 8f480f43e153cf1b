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


_NONE = "no published figure"
# Ranges: per-subject extremes of 30 clean full-scale and 80 quarter-scale subjects (seeds 5 and 6), widened.
# Sources: [L] the liver fat paper (papers/000_...txt), [B] the BMFF paper (papers/004_...txt).
FIGURES = (
    # signal.NOISE_SD = 7 per channel, muscle proton density 650 under a mild coil shading: SNR ~ 93.
    *(Figure(f"snr_station_{n}", f"SNR station {n} (in-phase, muscle / air)", _NONE, (85.0, 100.0),
             note="cohort median; Rician-corrected noise SD") for n in range(1, 7)),
    Figure("liver_ff_sd", "liver FF SD (pp)", _NONE, (0.3, 1.0), note="median of per-subject voxel SD",
           coarse=(0.3, 2.5)),
    Figure("liver_ff_iqr", "liver FF IQR (pp)", _NONE, (0.4, 1.0), note="median of per-subject voxel IQR",
           coarse=(0.4, 1.2)),
    # [B] Discussion (attention U-Nets): the diaphysis "commonly corresponds to < 5-10 pixels per slice";
    # Methods 2.8: some cross sections are so small that one voxel of erosion would remove them.
    Figure("diaphysis_voxels_per_slice", "diaphysis marrow voxels / slice (median)", "< 5-10 pixels", (25.0, 55.0),
           2, "median of per-subject medians"),
    Figure("diaphysis_voxels_per_slice_min", "diaphysis voxels / slice (lowest)", "< 5-10 pixels", (20.0, 55.0), 2),
    Figure("diaphysis_voxels_per_slice_max", "diaphysis voxels / slice (highest)", "< 5-10 pixels", (25.0, 60.0), 2),
    Figure("diaphysis_cortex_voxels", "diaphysis cortex thickness (voxels)", _NONE, (2.0, 3.0), 1,
           "phantom cortex class (not in the label files)"),
    # [B] Results 3.2 / Fig. 4A: segmentation volume (pixels, mean +/- SD) over the 729-subject cohort.
    Figure("volume_spine", "spine label volume (voxels)", "2244 +/- 438", (2800.0, 5500.0), 3, "cohort median"),
    Figure("volume_femoral_head", "femoral head label volume (voxels)", "810 +/- 286", (1100.0, 2800.0), 3,
           "cohort median"),
    Figure("volume_total_hip", "total hip label volume (voxels)", "1248 +/- 404", (1900.0, 2600.0), 3,
           "cohort median"),
    Figure("volume_diaphysis", "diaphysis label volume (voxels)", "100 +/- 21", (330.0, 800.0), 3, "cohort median"),
    # [B] Methods 2.3: one observer drew every manual mask, so no inter-observer Dice is published.
    *(Figure(f"label_dice_{r}", f"label vs truth Dice, {r}", _NONE, (1.0, 1.0),
             note="lowest over subjects; labels are the truth masks") for r in REGION_TISSUE),
    # [L] Results: the atlas readout was fitted to the reference as ref = 0.9 x - 0.8, so the body MRI reads
    # x - ref = 0.889 + 0.111 ref; Table 1: atlas vs reference LoA -2.73 to 2.73 (SD ~ 2.73 / 1.96).
    # The generator's liver_ff_image is that inverse plus a bump near 2.5 %: 0.9-5.4 pp over PDFF 0.5-40 %.
    Figure("liver_ff_bias", "liver image FF - true PDFF, mean (pp)", "+0.89 + 0.11 PDFF (0.9x - 0.8 fit)",
           (0.5, 5.5), note="image FF: median of the eroded liver"),
    Figure("liver_ff_difference_sd", "liver image FF - true PDFF, SD (pp)", "~1.4 (LoA +/-2.73, corrected)",
           (0.0, 2.5), note="published SD includes reference and registration error"),
    Figure("liver_ff_readout_error", "liver image FF - generated liver FF, max |.| (pp)", _NONE, (0.0, 0.05),
           note="measurement check, not realism", coarse=(0.0, 0.2)),
    # [L] Methods 2.1: "the borders between stations often contain motion artifacts" (no intensity figure).
    *(Figure(f"seam_{a}_{b}", f"seam {a}/{b} intensity ratio (upper / lower)", _NONE, (0.98, 1.02),
             note="cohort median", coarse=(0.95, 1.1)) for a, b in SEAMS),
    Figure("seam_max_deviation", "seams, max |ratio - 1|", _NONE, (0.0, 0.02), coarse=(0.0, 0.1)),
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
    that their band is widened to half its low end and one and a half times its high end."""
    figure = FIGURE_BY_KEY[key]
    low, high = (v * scale**figure.power for v in figure.expected)
    if scale < COARSE_SCALE and figure.power:
        return low / 2, high * 1.5
    if scale < COARSE_SCALE and figure.coarse:
        return figure.coarse
    return low, high
