"""DXA covariates of the showcase: bone density with T-scores, regional fat percentages and VAT mass.

They follow the relationships the BMFF paper reports, so that its regression tables can be reproduced
in spirit: BMD is higher in men and with BMI and falls as the marrow of the same site gets fattier
(correlation about -0.4); fat percentages are ~10 points higher in women and rise with BMI; VAT mass is
larger in men and rises steeply with BMI. T-scores use one young-adult reference per site, chosen so
that about 45 % of this older cohort is osteopaenic and 10 % osteoporotic at each site (WHO cut-offs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MISSING_SHARE = 0.04  # participants without a usable DXA scan: all DXA columns empty


@dataclass(frozen=True)
class Site:
    """Bone density model of one DXA site and the marrow region it is paired with."""

    bmd_key: str
    tscore_key: str | None
    region: str
    mean: float  # g/cm2 at BMI 26.6, halfway between the sexes
    male_excess: float
    bmi_slope: float  # g/cm2 per kg/m2
    sd: float  # residual standard deviation
    young_mean: float  # T-score reference
    young_sd: float


SITES = (
    Site("bmd_spine", "tscore_spine", "spine", 1.15, 0.08, 0.012, 0.15, 1.330, 0.156),
    Site("bmd_femoral_neck", "tscore_femoral_neck", "femoral_head", 0.95, 0.07, 0.010, 0.12, 1.095, 0.127),
    Site("bmd_total_hip", "tscore_total_hip", "total_hip", 1.00, 0.09, 0.011, 0.13, 1.160, 0.139),
    Site("bmd_femoral_shaft", None, "diaphysis", 1.20, 0.12, 0.012, 0.15, 1.380, 0.160),
)
BMD_BMFF_CORRELATION = -0.45  # of the residuals

# Regional fat percentage: (female mean, male mean, slope per BMI unit, residual sd).
_FAT_PERCENT = {
    "fat_pct_android": (40.0, 31.0, 1.5, 3.0),
    "fat_pct_gynoid": (42.0, 29.0, 0.9, 2.5),
    "fat_pct_legs": (39.0, 24.0, 0.8, 2.5),
    "fat_pct_trunk": (39.0, 30.0, 1.3, 3.0),
    "fat_pct_total": (38.0, 27.0, 1.0, 2.5),
}


def bone_density(rng: np.random.Generator, sex: np.ndarray, age: np.ndarray, bmi: np.ndarray,
                 bmff_residual: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """BMD (g/cm2, 3 decimals) and T-scores (1 decimal) per site; ``bmff_residual`` is standardised."""
    values = {}
    for site in SITES:
        shared = BMD_BMFF_CORRELATION * bmff_residual[site.region]
        own = np.sqrt(1 - BMD_BMFF_CORRELATION**2) * rng.standard_normal(len(sex))
        bmd = (site.mean + site.male_excess * (sex - 0.5) + site.bmi_slope * (bmi - 26.6)
               - 0.002 * (age - 64) + site.sd * (shared + own))
        bmd = np.clip(bmd, 0.4, 2.0)
        values[site.bmd_key] = np.round(bmd, 3)
        if site.tscore_key:
            values[site.tscore_key] = np.round((bmd - site.young_mean) / site.young_sd, 1)
    return values


def adiposity(rng: np.random.Generator, sex: np.ndarray, bmi: np.ndarray) -> dict[str, np.ndarray]:
    """Regional fat percentages (1 decimal) sharing one individual adiposity factor."""
    n = len(sex)
    shared = rng.standard_normal(n)
    values = {}
    for key, (female, male, slope, sd) in _FAT_PERCENT.items():
        noise = sd * (0.7 * shared + np.sqrt(1 - 0.49) * rng.standard_normal(n))
        percent = np.where(sex == 1, male, female) + slope * (bmi - 26.6) + noise
        values[key] = np.round(np.clip(percent, 5, 65), 1)
    return values


def vat_mass(rng: np.random.Generator, sex: np.ndarray, bmi: np.ndarray) -> np.ndarray:
    """Visceral adipose tissue mass in grams: log-normal around a sex-specific, BMI-driven level."""
    level = np.where(sex == 1, 1500.0, 850.0) * np.exp(0.08 * (bmi - 26.6))
    return np.round(level * np.exp(0.35 * rng.standard_normal(len(sex))))


def dxa_columns(rng: np.random.Generator, sex: np.ndarray, age: np.ndarray, bmi: np.ndarray,
                bmff_residual: dict[str, np.ndarray], vat_g: np.ndarray) -> dict[str, np.ndarray]:
    """All DXA showcase values keyed by field key, NaN where the participant has no DXA scan."""
    values = bone_density(rng, sex, age, bmi, bmff_residual)
    values.update(adiposity(rng, sex, bmi))
    values["vat_mass"] = vat_g.astype(float)
    missing = rng.random(len(sex)) < MISSING_SHARE
    return {key: np.where(missing, np.nan, column) for key, column in values.items()}
