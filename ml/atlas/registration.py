"""Deformable registration of a template onto a target with SimpleITK.

Both scans are body-masked first (background set to 0). The registration image is the water signal
scaled to [0, 1] by its 99th percentile in the body, where the liver stands out against fat, lungs and
bowel; inside the body the fat fraction is 1 - water fraction, so the fat fraction channel repeats the
fat/water boundaries the masked water signal already shows (SimpleITK's registration takes one image per
side). Two stages, each over a multi-resolution pyramid with the normalised cross-correlation metric:

1. affine, on the whole body, initialised by aligning the body masks' centres of mass;
2. B-spline, on the target region around the affinely mapped template liver (plus a margin).

The template's liver mask is then warped onto the target grid with nearest-neighbour interpolation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import SimpleITK as sitk

from .images import AtlasError, AtlasImage, Template

MIN_CORRELATION = 0.5  # normalised cross-correlation below which a registration is called failed


@dataclass(frozen=True)
class RegistrationConfig:
    """Pyramid and optimiser settings; the defaults take seconds per template at half scale on one core."""

    affine_shrink: tuple[int, ...] = (4, 2)
    affine_sigmas_mm: tuple[float, ...] = (8.0, 4.0)
    affine_iterations: int = 50
    bspline_shrink: tuple[int, ...] = (2,)
    bspline_sigmas_mm: tuple[float, ...] = (2.0,)
    bspline_iterations: int = 20
    bspline_grid_mm: float = 100.0  # B-spline control point spacing
    slab_margin_mm: float = 120.0  # axial slab registered: the template liver's slices plus this margin
    roi_margin_mm: float = 40.0  # B-spline region: around the affinely mapped template liver
    sampling: float = 0.05  # share of voxels sampled by the metric
    seed: int = 1
    threads: int = 1

    def as_dict(self) -> dict:
        return asdict(self)


DEFAULT_CONFIG = RegistrationConfig()


@dataclass(frozen=True)
class Registration:
    transform: sitk.Transform
    correlation: float  # normalised cross-correlation at the end of the B-spline stage


def to_sitk(volume: np.ndarray, spacing: tuple[float, float, float]) -> sitk.Image:
    """A (z, y, x) array as a SimpleITK image ((x, y, z) index order) with spacing (dx, dy, dz)."""
    image = sitk.GetImageFromArray(np.ascontiguousarray(volume))
    image.SetSpacing((float(spacing[2]), float(spacing[1]), float(spacing[0])))
    return image


def registration_image(image: AtlasImage) -> sitk.Image:
    """Body-masked water signal scaled to [0, 1] (see the module docstring)."""
    if not image.body.any():
        raise AtlasError(f"{image.name}: the body mask is empty")
    scale = float(np.percentile(image.water[image.body], 99)) or 1.0
    feature = np.where(image.body, np.clip(image.water / scale, 0, 1.5), 0).astype(np.float32)
    return to_sitk(feature, image.spacing)


def register(target: AtlasImage, template: Template, config: RegistrationConfig = DEFAULT_CONFIG
             ) -> Registration:
    """The transform mapping target points to template points (as SimpleITK resampling expects)."""
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(config.threads)
    fixed = _slab(registration_image(target), template, config)
    moving = _slab(registration_image(template.image), template, config)
    try:
        affine = _affine(fixed, moving, config)
        roi = _target_roi(fixed, affine, template, config)
        bspline, correlation = _bspline(roi, moving, affine, config)
    except RuntimeError as exc:  # ITK stops when too few samples overlap, e.g. at a missing station
        raise AtlasError(f"template {template.image.name} on {target.name}: registration failed "
                         f"({str(exc).strip().splitlines()[-1]})") from None
    if correlation < MIN_CORRELATION:
        raise AtlasError(f"template {template.image.name} on {target.name}: registration failed "
                         f"(normalised cross-correlation {correlation:.2f} < {MIN_CORRELATION})")
    return Registration(sitk.CompositeTransform([affine, bspline]), correlation)


def warp_mask(template: Template, registration: Registration, target: AtlasImage) -> np.ndarray:
    """The template's liver mask on the target grid (nearest neighbour), bool (z, y, x)."""
    mask = to_sitk(template.liver.astype(np.uint8), template.image.spacing)
    reference = to_sitk(np.zeros(target.water.shape, np.uint8), target.spacing)
    warped = sitk.Resample(mask, reference, registration.transform, sitk.sitkNearestNeighbor, 0, sitk.sitkUInt8)
    return sitk.GetArrayFromImage(warped).astype(bool)


def _method(config: RegistrationConfig, shrink: tuple[int, ...], sigmas: tuple[float, ...]
            ) -> sitk.ImageRegistrationMethod:
    method = sitk.ImageRegistrationMethod()
    method.SetMetricAsCorrelation()
    method.SetMetricSamplingStrategy(method.RANDOM)
    method.SetMetricSamplingPercentage(config.sampling, config.seed)
    method.SetInterpolator(sitk.sitkLinear)
    method.SetShrinkFactorsPerLevel(list(shrink))
    method.SetSmoothingSigmasPerLevel(list(sigmas))
    method.SmoothingSigmasAreSpecifiedInPhysicalUnitsOn()
    return method


def _slab(image: sitk.Image, template: Template, config: RegistrationConfig) -> sitk.Image:
    """The axial slab around the template liver's slices plus ``slab_margin_mm`` (both grids start at station
    1's head-most slice, so the same slices hold the liver give or take the table offset and body size)."""
    slices = np.flatnonzero(template.liver.any(axis=(1, 2)))
    dz = image.GetSpacing()[2]
    margin = int(round(config.slab_margin_mm / dz))
    first = max(0, slices[0] - margin)
    last = min(image.GetSize()[2], slices[-1] + margin + 1)
    if last - first < 4:
        raise AtlasError("the target's field of view does not reach the template liver's slices")
    return image[:, :, int(first):int(last)]


def _centre_of_mass(image: sitk.Image) -> np.ndarray:
    """Centre of the body (non-zero voxels) in physical (x, y, z) millimetres."""
    array = sitk.GetArrayViewFromImage(image)
    zyx = np.array(np.nonzero(array > 0), dtype=float).mean(axis=1)
    return np.array(image.TransformContinuousIndexToPhysicalPoint(tuple(zyx[::-1])))


def _affine(fixed: sitk.Image, moving: sitk.Image, config: RegistrationConfig) -> sitk.AffineTransform:
    affine = sitk.AffineTransform(3)
    fixed_centre = _centre_of_mass(fixed)
    affine.SetCenter(tuple(fixed_centre))
    affine.SetTranslation(tuple(_centre_of_mass(moving) - fixed_centre))
    method = _method(config, config.affine_shrink, config.affine_sigmas_mm)
    method.SetOptimizerAsRegularStepGradientDescent(learningRate=2.0, minStep=1e-3,
                                                    numberOfIterations=config.affine_iterations,
                                                    relaxationFactor=0.6)
    method.SetOptimizerScalesFromPhysicalShift()
    method.SetInitialTransform(affine, inPlace=True)
    method.Execute(fixed, moving)
    return affine


def _target_roi(fixed: sitk.Image, affine: sitk.AffineTransform, template: Template,
                config: RegistrationConfig) -> sitk.Image:
    """The part of the target around the template liver mapped by the inverse affine, plus the margin."""
    spacing = np.array(template.image.spacing)
    nonzero = np.array(np.nonzero(template.liver))
    lo = nonzero.min(axis=1) * spacing  # (z, y, x) mm
    hi = nonzero.max(axis=1) * spacing  # (z, y, x) mm
    corners = [np.array([c[2], c[1], c[0]]) for c in _corners(lo, hi)]
    inverse = affine.GetInverse()
    mapped = np.array([inverse.TransformPoint(tuple(c)) for c in corners])
    lo_index = fixed.TransformPhysicalPointToContinuousIndex(tuple(mapped.min(axis=0) - config.roi_margin_mm))
    hi_index = fixed.TransformPhysicalPointToContinuousIndex(tuple(mapped.max(axis=0) + config.roi_margin_mm))
    start = np.floor(lo_index).astype(int)
    stop = np.ceil(hi_index).astype(int) + 1
    size = np.array(fixed.GetSize())
    start, stop = np.clip(start, 0, size), np.clip(stop, 0, size)
    if np.any(stop - start < 4):
        raise AtlasError("the template liver maps outside the target's field of view")
    return fixed[int(start[0]):int(stop[0]), int(start[1]):int(stop[1]), int(start[2]):int(stop[2])]


def _corners(lo: np.ndarray, hi: np.ndarray) -> list[np.ndarray]:
    return [np.array([(lo, hi)[(i >> k) & 1][k] for k in range(3)]) for i in range(8)]


def _bspline(roi: sitk.Image, moving: sitk.Image, affine: sitk.AffineTransform,
             config: RegistrationConfig) -> tuple[sitk.BSplineTransform, float]:
    extent = np.array(roi.GetSize()) * np.array(roi.GetSpacing())
    mesh = [max(1, int(round(e / config.bspline_grid_mm))) for e in extent]
    bspline = sitk.BSplineTransformInitializer(roi, mesh, order=3)
    method = _method(config, config.bspline_shrink, config.bspline_sigmas_mm)
    method.SetOptimizerAsLBFGSB(gradientConvergenceTolerance=1e-5, numberOfIterations=config.bspline_iterations,
                                maximumNumberOfCorrections=5,
                                maximumNumberOfFunctionEvaluations=4 * config.bspline_iterations,
                                costFunctionConvergenceFactor=1e7)
    method.SetMovingInitialTransform(affine)
    method.SetInitialTransform(bspline, inPlace=True)
    method.Execute(roi, moving)
    final = sitk.ImageRegistrationMethod()
    final.SetMetricAsCorrelation()
    final.SetInterpolator(sitk.sitkLinear)
    final.SetMovingInitialTransform(affine)
    final.SetInitialTransform(bspline, inPlace=False)
    correlation = -float(final.MetricEvaluate(roi, moving))
    return bspline, correlation
