"""The four bone marrow regions of the BMFF paper and where each lives."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    name: str
    station: int  # the slab whose grid carries the region
    erode: bool  # eroded by one voxel in-plane before measuring (not the thin diaphysis)
    connected: bool  # one piece of marrow (the spine's vertebral bodies are separated by discs)
    label: str

    @property
    def smoothing(self) -> tuple[int, int, int]:
        """Median filter size (z, y, x): 3x3 in-plane, except along z for the diaphysis, whose cross-section
        is too small to smooth (or erode) in-plane without pulling in cortex and muscle."""
        return (1, 3, 3) if self.erode else (3, 1, 1)

    @property
    def quantity(self) -> str:
        return f"bmff_{self.name}"


REGIONS: dict[str, Region] = {
    "spine": Region("spine", 2, erode=True, connected=False, label="Spine (T8-L3)"),
    "femoral_head": Region("femoral_head", 4, erode=True, connected=True, label="Femoral head"),
    "total_hip": Region("total_hip", 4, erode=True, connected=True, label="Total hip"),
    "diaphysis": Region("diaphysis", 5, erode=False, connected=True, label="Femoral diaphysis"),
}
REGION_NAMES = tuple(REGIONS)


def region_of(name: str) -> Region:
    try:
        return REGIONS[name]
    except KeyError:
        raise ValueError(f"unknown marrow region {name!r}; choose one of {', '.join(REGION_NAMES)}") from None
