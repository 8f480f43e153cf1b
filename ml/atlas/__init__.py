"""Multi-atlas liver fat (the liver fat paper's baseline): templates with manual liver masks registered onto
each target (SimpleITK: body-masked, multi-resolution, normalised cross-correlation, affine then B-spline),
warped masks intersected, eroded with a 7-voxel spherical kernel, median fat fraction read out.

No Django here: ``ukbstudy.atlas`` loads the volumes, runs :func:`atlas_measure` per scan and stores results.
"""

from .images import AtlasError, AtlasImage, Readout, Template, erosion_kernel, liver_readout, load_atlas_image
from .measure import AtlasResult, atlas_measure
from .registration import DEFAULT_CONFIG, RegistrationConfig

__all__ = ["DEFAULT_CONFIG", "AtlasError", "AtlasImage", "AtlasResult", "Readout", "RegistrationConfig", "Template",
           "atlas_measure", "erosion_kernel", "liver_readout", "load_atlas_image"]
