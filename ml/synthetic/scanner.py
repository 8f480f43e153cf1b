"""How the scanner degrades the phantom's signal, per station run: point-spread blur, coil shading, gain, noise.

Every knob is a module constant; each station run draws its own values from ``stream(seed, "scanner", eid,
instance, station, correct)``, so they leave every other draw of the generator untouched.

- **Point-spread function** (``PSF_SIGMA_VOXELS``): a Gaussian blur in-plane and through the slice, which
  mixes neighbouring tissues at every boundary (partial volume: the cortex darkens the edge voxels of a thin
  marrow cavity, the liver's edge takes in fat). Real images are blurred by the truncated k-space and the
  slice profile; a Gaussian of 0.5 voxel in-plane and 0.35 slice through it is a mild version of both.
- **Noise** (``NOISE_SD`` per channel of the complex signal, so magnitudes are Rician): the same
  acquisition time per station, so the SD scales with the inverse slice thickness (``4.5 / thickness``),
  and with the coil load of the visit (log-normal, ``NOISE_VISIT_SD``). Muscle SNR (in-phase) is then about
  40-55 in the 4.5 mm trunk stations, 30-38 at the neck (3 mm) and 35-48 in the legs: the order of published
  1.5 T Dixon figures; neither paper gives one.
- **Coil / B1 shading**: a smooth field per run, brighter posteriorly (the spine coil), darker laterally,
  with a tilt across the slab and random coefficients (``BIAS``), about +/-15 % across the body.
- **Gain** per run (log-normal, ``GAIN_SD``): the receiver scaling each station on its own, which leaves
  intensity steps at the station seams that fusion does not remove (fat fractions are unaffected).

Fat and water share the blur, shading and gain, so the fat fraction of a homogeneous region stays what the
phantom says, apart from the partial volume at its edges and the magnitude noise floor at low fat.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ml.synthetic.geometry import Grid

NOISE_SD = 14.0  # per channel at a 4.5 mm slice: in-phase muscle SNR ~ 46 under the coil shading
REFERENCE_THICKNESS_MM = 4.5
NOISE_VISIT_SD = 0.12  # log-normal spread of the noise level between visits and stations (coil load)
GAIN_SD = 0.05  # log-normal spread of each run's receiver gain
PSF_SIGMA_VOXELS = (0.35, 0.5, 0.5)  # Gaussian PSF (slice, row, column) in voxels
# Coil shading: mean and SD of the coefficients of 1 + p y' - l x'^2 + s x' + t z', with y' = (y - centre) / 200,
# x' = x / 250 and z' the position across the slab (-1 head-most .. 1); p > 0 is brighter posteriorly.
BIAS = {"posterior": (0.10, 0.04), "lateral": (0.12, 0.04), "side": (0.0, 0.04), "tilt": (0.0, 0.05)}


@dataclass(frozen=True)
class StationImaging:
    """The scanner's settings for one run: noise SD per channel, gain and coil-shading coefficients."""

    noise_sd: float
    gain: float
    posterior: float
    lateral: float
    side: float
    tilt: float

    def shading(self, grid: Grid) -> np.ndarray:
        """Multiplicative field of coil shading times gain, float32 broadcastable to (z, rows, columns)."""
        y = ((grid.y - grid.y.mean()) / 200)[None, :, None]
        x = (grid.x / 250)[None, None, :]
        n = len(grid.z)
        z = (np.linspace(-1, 1, n) if n > 1 else np.zeros(1))[:, None, None]
        field = 1 + self.posterior * y - self.lateral * x**2 + self.side * x + self.tilt * 0.5 * z
        return (self.gain * np.clip(field, 0.5, 1.5)).astype(np.float32)


def station_imaging(rng: np.random.Generator, slice_thickness_mm: float) -> StationImaging:
    """Draw one run's settings (slice thickness at full scale: noise follows the protocol, not the test scale)."""
    noise = NOISE_SD * REFERENCE_THICKNESS_MM / slice_thickness_mm * float(np.exp(rng.normal(0, NOISE_VISIT_SD)))
    gain = float(np.exp(rng.normal(0, GAIN_SD)))
    bias = {key: float(rng.normal(mean, sd)) for key, (mean, sd) in BIAS.items()}
    return StationImaging(noise_sd=noise, gain=gain, **bias)


def blur(volume: np.ndarray) -> np.ndarray:
    """The point-spread function: a separable Gaussian (``PSF_SIGMA_VOXELS``), edges reflected."""
    return ndimage.gaussian_filter(volume, PSF_SIGMA_VOXELS, mode="nearest", truncate=3.0)
