"""Body habitus of one subject: the outline of neck, trunk and legs along z, and organ anchor points.

Dimensions are millimetres in patient LPS coordinates (see ``geometry``), for a body lying supine with
its back on the table at y = ``table_y``. The outline of each axial section is one ellipse for the
neck and trunk and two circles below the crotch (left leg at +x); the lean (muscle) ellipse sits inside
the skin ellipse, separated by subcutaneous fat whose thickness grows with BMI and is larger in women.
Profiles below are for an average man; sex, BMI and visceral fat scale them.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

# z knots, descending from above the neck to below the knees; every profile is interpolated on them.
_Z = np.array([60, -30, -65, -200, -330, -430, -560, -625, -800, -990, -1050, -1250], float)
_HALF_WIDTH = [58, 58, 180, 155, 148, 158, 165, 85, 72, 52, 46, 40]  # lean; per leg below the crotch
_HALF_DEPTH = [55, 55, 95, 105, 100, 100, 100, 85, 72, 52, 46, 40]
_LEG_CENTRE = [0, 0, 0, 0, 0, 0, 0, 95, 88, 78, 74, 70]  # |x| of each leg's centre
_NECK_LIFT = [35, 35, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]  # the neck does not rest on the table
_SAT_FACTOR = {1: [0.4, 0.4, 0.7, 0.9, 1.25, 1.2, 1.0, 0.8, 0.7, 0.5, 0.4, 0.4],
               0: [0.4, 0.4, 0.7, 0.9, 1.1, 1.2, 1.4, 1.3, 1.1, 0.7, 0.5, 0.4]}
_WIDTH_FACTOR = {1: [1.0] * 12,
                 0: [0.9, 0.9, 0.88, 0.9, 0.92, 0.97, 1.02, 1.0, 0.97, 0.95, 0.95, 0.95]}
_ABDOMEN = (-230.0, -470.0)  # z range where visceral fat deepens the trunk
CROTCH_Z = -625.0  # below it the legs are apart
WAIST_Z = -330.0  # the trunk section centred on y = 0
VAT_WAVES = 4  # smooth cosine products that partition the abdominal cavity into bowel and fat


@dataclass(frozen=True)
class Section:
    """Per-slice outline parameters (arrays over z): lean semi-axes, leg centre, fat thickness, centre y."""

    half_width: np.ndarray
    half_depth: np.ndarray
    leg_centre: np.ndarray
    sat: np.ndarray
    centre_y: np.ndarray


@dataclass(frozen=True, eq=False)
class Body:
    """One subject's habitus and the random but fixed details of their anatomy."""

    sex: int  # 0 female, 1 male (field 31 coding)
    width: float  # lean-size factor in-plane (1 = average man at BMI 26.6)
    depth: float
    sat_mm: float  # subcutaneous fat thickness at the reference site
    vat_fraction: float  # share of the abdominal cavity filled with visceral fat
    muscle_ff: float  # fat fraction of lean tissue, 0-1
    liver_shift: tuple[float, float, float]  # mm, individual liver position
    head_radius: float  # femoral head radius, mm
    t8_top: float  # z of the top of vertebra T8
    wave_freq: np.ndarray  # (VAT_WAVES, 3) rad/mm for x, y, z
    wave_phase: np.ndarray  # (VAT_WAVES, 3)

    def section(self, z: np.ndarray) -> Section:
        """Outline parameters at every z in ``z``."""
        return _section(self, np.asarray(z, float))

    def section_at(self, z: float) -> tuple[float, float, float]:
        """Lean half-width, half-depth and centre y of the trunk at one z (for placing organs)."""
        s = self.section(np.array([z]))
        return float(s.half_width[0]), float(s.half_depth[0]), float(s.centre_y[0])

    @property
    def table_y(self) -> float:
        """y of the table surface: the back of the trunk at the waist lies on it, its centre on y = 0."""
        _, half_depth, _, sat = _raw_section(self, np.array([WAIST_Z]))
        return float(half_depth[0] + sat[0])

    @property
    def vat_threshold(self) -> float:
        """Level of the cosine field below which abdominal cavity voxels are visceral fat.

        A product of three cosines with random phases has variance 1/8, so the sum of VAT_WAVES of them
        is close to normal with variance VAT_WAVES/8; thresholding at its quantile gives the share.
        """
        return float(np.sqrt(VAT_WAVES / 8) * NormalDist().inv_cdf(self.vat_fraction))


def _profile(values: list[float], z: np.ndarray) -> np.ndarray:
    """Piecewise-linear profile along z (np.interp needs increasing knots, hence the reversals)."""
    return np.interp(z, _Z[::-1], np.asarray(values, float)[::-1])


def _raw_section(body: Body, z: np.ndarray) -> tuple[np.ndarray, ...]:
    """Half-width, half-depth, leg centre and fat thickness before the trunk is placed on the table."""
    width = _profile(_WIDTH_FACTOR[body.sex], z) * body.width
    abdomen = (z < _ABDOMEN[0]) & (z > _ABDOMEN[1])
    belly = np.where(abdomen, 1 + 0.35 * (body.vat_fraction - 0.3), 1.0)
    half_width = _profile(_HALF_WIDTH, z) * width
    half_depth = _profile(_HALF_DEPTH, z) * body.depth * belly
    half_depth = np.where(z <= CROTCH_Z, half_width, half_depth)  # separate legs are round
    sat = _profile(_SAT_FACTOR[body.sex], z) * body.sat_mm
    return half_width, half_depth, _profile(_LEG_CENTRE, z) * width, sat


def _section(body: Body, z: np.ndarray) -> Section:
    half_width, half_depth, leg_centre, sat = _raw_section(body, z)
    centre_y = body.table_y - half_depth - sat - _profile(_NECK_LIFT, z)
    return Section(half_width, half_depth, leg_centre, sat, centre_y)


def make_body(*, sex: int, age: float, bmi: float, vat_mass_g: float, rng: np.random.Generator) -> Body:
    """The habitus implied by sex, age, BMI and visceral fat mass, with individual jitter from ``rng``."""
    size = 1 + 0.008 * (bmi - 26.6)
    sat = 1.6 * (bmi - 18) + (7 if sex == 0 else 0) + rng.normal(0, 2)
    vat_fraction = float(np.clip(0.12 + 0.00022 * vat_mass_g, 0.08, 0.8))
    muscle = 4.5 + 0.15 * (bmi - 26.6) + 0.05 * (age - 64) + rng.normal(0, 0.8)
    return Body(
        sex=sex,
        width=size * rng.normal(1.0, 0.03),
        depth=size * rng.normal(1.0, 0.03),
        sat_mm=float(np.clip(sat, 4, 60)),
        vat_fraction=vat_fraction,
        muscle_ff=float(np.clip(muscle, 2.5, 9.0)) / 100,
        liver_shift=tuple(float(v) for v in rng.normal(0, [6, 4, 8])),
        head_radius=float((24.5 if sex else 22.0) + rng.normal(0, 0.8)),
        t8_top=float(-160 + rng.normal(0, 4)),
        wave_freq=rng.uniform(2 * np.pi / 80, 2 * np.pi / 35, (VAT_WAVES, 3)),
        wave_phase=rng.uniform(0, 2 * np.pi, (VAT_WAVES, 3)),
    )
