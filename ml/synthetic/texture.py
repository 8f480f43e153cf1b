"""Fat that varies inside an organ: the liver's lobular variation, vessels and focal lesions, and marrow that is
redder or yellower from place to place.

Each subject's texture is drawn once (``stream(seed, "texture", eid)``) in coordinates that move with the
organ, so both visits, and every station that shows the liver, share it; a visit only sets its mean level.

Liver (``LiverTexture``): the parenchyma's fat fraction is the visit's mean times 1 + cv f, with f a smooth
unit-variance field (sums of cosine products, wavelengths 25-90 mm) and cv drawn per subject
(``LOBULAR_CV``: steatosis is patchy, more so in fatty livers); hepatic and portal veins are capsules of 2.5-6
mm radius with blood's fat fraction (``VESSEL_FF``) and proton density; one subject in ``FOCAL_SPARING_RATE``
has a focal fat sparing next to the gallbladder fossa (fat reduced to ``FOCAL_SPARING_FACTOR``), one in
``FOCAL_FAT_RATE`` a focal fatty deposit (``FOCAL_FAT_PP`` added). The label still covers all of it, as a
rater's outline of the organ does.

Marrow (``marrow_offsets``): a field of ``MARROW_SD`` pp with short wavelengths (red marrow islands, 10-25
mm, which average out over a region) on every marrow code and, in the spine, ``SPINE_GRADIENT`` pp per 10 cm
downwards (lumbar marrow is yellower than thoracic) centred on the labelled T8-L3 column, so that a region's
true BMFF stays about its mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.synthetic.anatomy import liver_lobes
from ml.synthetic.body import Body
from ml.synthetic.tissues import Tissue

WAVES = 6
WAVELENGTH_MM = (25.0, 90.0)
LOBULAR_CV = (0.06, 0.2)  # per-subject coefficient of variation of parenchymal fat, uniform; x2 above 10 %
VESSEL_FF, VESSEL_PD = 1.0, 650.0  # % and proton density of blood
VESSEL_RADIUS_MM = (2.5, 6.0)
FOCAL_SPARING_RATE, FOCAL_SPARING_FACTOR = 0.10, 0.35
FOCAL_FAT_RATE, FOCAL_FAT_PP = 0.04, (8.0, 20.0)
MARROW_SD = 3.0
MARROW_WAVELENGTH_MM = (10.0, 25.0)  # islands of red marrow, small enough to average out over a region
SPINE_GRADIENT = 3.0  # pp per 100 mm towards the feet
SPINE_CENTRE_Z = -250.0  # middle of the labelled T8-L3 column, near which the gradient is zero
_MARROW_CODES = (Tissue.SPINE_MARROW, Tissue.VERTEBRA_MARROW, Tissue.FEMORAL_HEAD, Tissue.RIGHT_HEAD,
                 Tissue.TOTAL_HIP, Tissue.RIGHT_HIP, Tissue.SHAFT_MARROW, Tissue.DIAPHYSIS, Tissue.RIGHT_SHAFT,
                 Tissue.PELVIS_MARROW)


@dataclass(frozen=True, eq=False)
class Waves:
    """A smooth random field of unit variance: sum of products of three cosines, normalised."""

    freq: np.ndarray  # (WAVES, 3) rad/mm for x, y, z
    phase: np.ndarray

    def at(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        field = np.zeros(np.broadcast(x, y, z).shape, np.float32)
        for (fx, fy, fz), (px, py, pz) in zip(self.freq, self.phase, strict=True):
            field += np.cos(fx * x + px) * np.cos(fy * y + py) * np.cos(fz * z + pz)
        return field / np.float32(np.sqrt(len(self.freq) / 8))


@dataclass(frozen=True)
class Segment:
    start: tuple[float, float, float]  # (x, y, z) mm relative to the right lobe's centre
    end: tuple[float, float, float]
    radius: float

    def inside(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        p = np.stack([x, y, z], axis=-1)
        a, b = np.asarray(self.start, np.float32), np.asarray(self.end, np.float32)
        t = np.clip(((p - a) @ (b - a)) / max(float((b - a) @ (b - a)), 1e-6), 0, 1)
        return np.linalg.norm(p - (a + t[..., None] * (b - a)), axis=-1) <= self.radius


@dataclass(frozen=True, eq=False)
class LiverTexture:
    waves: Waves
    cv: float
    vessels: tuple[Segment, ...]
    sparing: tuple[tuple[float, float, float], float] | None  # centre (relative), radius mm
    focal_fat: tuple[tuple[float, float, float], float, float] | None  # centre, radius, pp added


@dataclass(frozen=True, eq=False)
class Texture:
    liver: LiverTexture
    marrow: Waves


def _waves(rng: np.random.Generator, wavelength_mm: tuple[float, float]) -> Waves:
    wavelength = rng.uniform(*wavelength_mm, (WAVES, 3))
    return Waves(2 * np.pi / wavelength, rng.uniform(0, 2 * np.pi, (WAVES, 3)))


def make_texture(rng: np.random.Generator) -> Texture:
    """One subject's texture (coordinates relative to the right liver lobe's centre)."""
    waves = _waves(rng, WAVELENGTH_MM)
    cv = float(rng.uniform(*LOBULAR_CV))
    # Three hepatic veins converging on the inferior vena cava at the back of the dome, and the portal vein
    # entering at the hilum with a right and a left branch.
    cava = (30.0, 25.0, 55.0)
    vessels = [Segment(cava, (float(rng.uniform(-70, 40)), float(rng.uniform(-30, 20)), float(rng.uniform(-30, 10))),
                       float(rng.uniform(*VESSEL_RADIUS_MM))) for _ in range(3)]
    hilum = (25.0, -5.0, -20.0)
    vessels += [Segment((45.0, 0.0, -35.0), hilum, VESSEL_RADIUS_MM[1]),
                Segment(hilum, (float(rng.uniform(-60, -30)), float(rng.uniform(-10, 20)), float(rng.uniform(-30, 0))),
                        float(rng.uniform(3.5, 5.0))),
                Segment(hilum, (float(rng.uniform(60, 90)), float(rng.uniform(-50, -30)), float(rng.uniform(10, 30))),
                        float(rng.uniform(3.0, 4.5)))]
    sparing = ((20.0 + float(rng.normal(0, 5)), -25.0, -30.0), float(rng.uniform(10, 20))) \
        if rng.random() < FOCAL_SPARING_RATE else None
    focal = ((float(rng.uniform(-50, 20)), float(rng.uniform(-30, 30)), float(rng.uniform(-40, 40))),
             float(rng.uniform(8, 15)), float(rng.uniform(*FOCAL_FAT_PP))) if rng.random() < FOCAL_FAT_RATE else None
    return Texture(LiverTexture(waves, cv, tuple(vessels), sparing, focal), _waves(rng, MARROW_WAVELENGTH_MM))


def liver_voxels(texture: LiverTexture, mean_ff: float, pd: float, x: np.ndarray, y: np.ndarray,
                 z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fat fraction (%) and proton density at liver voxels whose coordinates (relative to the right lobe's
    centre) are ``x, y, z`` (1-D arrays)."""
    cv = texture.cv * (2.0 if mean_ff > 10 else 1.0)
    ff = mean_ff * (1 + cv * texture.waves.at(x, y, z))
    density = np.full(ff.shape, pd, np.float32)
    if texture.sparing is not None:
        (cx, cy, cz), r = texture.sparing
        near = (x - cx) ** 2 + (y - cy) ** 2 + (z - cz) ** 2 <= r * r
        ff[near] *= FOCAL_SPARING_FACTOR
    if texture.focal_fat is not None:
        (cx, cy, cz), r, added = texture.focal_fat
        ff[(x - cx) ** 2 + (y - cy) ** 2 + (z - cz) ** 2 <= r * r] += added
    for vessel in texture.vessels:
        inside = vessel.inside(x, y, z)
        ff[inside], density[inside] = VESSEL_FF, VESSEL_PD
    return np.clip(ff, 0.0, 100.0).astype(np.float32), density


def marrow_offsets(waves: Waves, tissue: np.ndarray, x: np.ndarray, y: np.ndarray,
                   z: np.ndarray) -> np.ndarray:
    """pp added to the fat fraction of marrow voxels with codes ``tissue`` at absolute ``x, y, z`` (1-D)."""
    offset = MARROW_SD * waves.at(x, y, z)
    spine = np.isin(tissue, (Tissue.SPINE_MARROW, Tissue.VERTEBRA_MARROW))
    offset[spine] += SPINE_GRADIENT * (SPINE_CENTRE_Z - z[spine]) / 100
    return offset


def is_marrow(tissue: np.ndarray) -> np.ndarray:
    return np.isin(tissue, _MARROW_CODES)


def liver_origin(body: Body) -> tuple[float, float, float]:
    """Centre of the right liver lobe: the origin of the liver texture (it moves with the breath-hold)."""
    return liver_lobes(body)[0].centre
