"""The multi-atlas liver fat measurement of one target: register every template, warp, combine, read out."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from .images import (
    EROSION_DIAMETER_VOXELS,
    AtlasError,
    AtlasImage,
    Readout,
    Template,
    check_coverage,
    check_warped,
    liver_readout,
)
from .registration import DEFAULT_CONFIG, RegistrationConfig, register, warp_mask


@dataclass(frozen=True)
class AtlasResult:
    readout: Readout
    templates: tuple[str, ...]
    correlations: tuple[float, ...]
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {**self.readout.as_dict(), "templates": list(self.templates),
                "correlations": [round(c, 4) for c in self.correlations], "seconds": round(self.seconds, 3)}


def atlas_measure(target: AtlasImage, templates: Sequence[Template],
                  config: RegistrationConfig = DEFAULT_CONFIG,
                  diameter_voxels: int = EROSION_DIAMETER_VOXELS) -> AtlasResult:
    """Raw atlas liver FF (%) of ``target``: every template registered and its liver warped onto the target,
    the warped masks intersected, eroded with the spherical kernel and the median FF taken.

    A template whose name is the target's (the target is itself a template) is left out, so a template is
    measured by the others. Raises AtlasError (naming the template and target) when a registration fails,
    a warped liver leaves the body, or nothing is left to read out."""
    started = time.perf_counter()
    used = [t for t in templates if not (target.name and t.image.name == target.name)]
    if not used:
        raise AtlasError(f"{target.name}: no template other than the target itself")
    masks, correlations, timings = [], [], {}
    for template in used:
        begun = time.perf_counter()
        check_coverage(target, template)
        registration = register(target, template, config)
        mask = warp_mask(template, registration, target)
        check_warped(mask, target, template.image.name)
        masks.append(mask)
        correlations.append(registration.correlation)
        timings[template.image.name] = round(time.perf_counter() - begun, 3)
    readout = liver_readout(target.ff, masks, target.spacing, diameter_voxels)
    return AtlasResult(readout, tuple(t.image.name for t in used), tuple(correlations),
                       time.perf_counter() - started, timings)
