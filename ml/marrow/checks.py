"""The BMFF paper's error checks on a predicted region mask, and its statistics from the training labels.

1. Single-voxel components are removed; the remaining pieces are joined into one region (for regions
   that are one piece of marrow: gaps bridged by a closing; the spine's vertebral bodies stay apart,
   since bridging them would pull discs into the marrow) and holes are filled.
2. Status: Empty (nothing left), Small (volume more than 2.5 SD below the training labels' mean, or the
   region cut by the slab's head or foot end when no training label ever was), otherwise OK.
3. Flag: centre of mass more than 3 SD (on any axis) from the training labels' mean.
4. Flag (``neighbour_failed``): another region on the same slab is Small, Empty or flagged for its centre
   of mass or its FF spread (``neighbour_flags``). The femoral head and the total hip share station 4;
   when a displaced slab cuts one of them off, the network can take another bone's marrow in the other's
   usual place for it (on the synthetic cohort the upper femoral shaft for the total hip, the pelvis for the
   femoral head): a homogeneous region of the usual size and place, whose value is plausible but wrong.
5. Flag (``table_displaced``): a region on another slab is out of place (its centre of mass flagged, or cut by
   the slab's end when no training label was). The table moves every station together, so a displaced
   examination shows other vertebrae or another part of the femur in every slab, and marrow fat changes along
   the body (lumbar marrow is yellower than thoracic): the spine's slab, filled with vertebrae either way,
   looks normal but measures other levels. Any axis counts: a network predicts inside the box its training
   labels spanned, so a region shifted along the body out of that box moves the mask's centre across the
   slab as well as along it (on the synthetic cohort with the table 55-100 mm off, a rule on the z axis alone
   left 7 of 16 spine values of such scans unflagged, over both networks).
6. Flag (``heterogeneous``): the FF inside the mask spreads far more (interquartile range) than inside the
   training labels (``spread_flags``): a mask that spans two tissues, e.g. the total hip taken together with
   part of the femoral head, gives a median between their values. Not in the paper.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import ndimage

SMALL_SD = 2.5
BLOCKING_HINTS = ("water_fat_swap",)  # station hints from the preprocessing that make any value there wrong
CENTRE_SD = 3.0
SPREAD_SD = 6.0  # FF interquartile range limit: training mean + 6 SD, and at least twice the training mean
FULL = np.ones((3, 3, 3), bool)


class Status:
    OK = "ok"
    SMALL = "small"
    EMPTY = "empty"


@dataclass
class RegionStatistics:
    """Volume (voxels) and centre of mass (voxel (z, y, x) in the slab) of the training labels."""

    volume_mean: float
    volume_sd: float
    centre_mean: list[float]
    centre_sd: list[float]
    reaches_slab_ends: bool  # some training label touches the slab's first or last slice
    spread_mean: float | None = None  # FF interquartile range inside the labels (pp); None in older checkpoints
    spread_sd: float | None = None

    @classmethod
    def from_masks(cls, masks: list[np.ndarray], spreads: list[float] | None = None) -> RegionStatistics:
        spread = np.array([s for s in spreads or [] if s is not None], float)
        masks = [m for m in masks if m.any()]
        if len(masks) < 2:
            raise ValueError("at least two non-empty training labels are needed for the error checks")
        volumes = np.array([float(m.sum()) for m in masks])
        centres = np.array([ndimage.center_of_mass(m) for m in masks])
        ends = any(m[0].any() or m[-1].any() for m in masks)
        # floors keep a handful of near-identical labels from flagging every ordinary segmentation
        return cls(float(volumes.mean()), float(max(volumes.std(ddof=1), 0.05 * volumes.mean())),
                   centres.mean(0).tolist(), np.maximum(centres.std(0, ddof=1), 1.0).tolist(), ends,
                   float(spread.mean()) if len(spread) > 1 else None,
                   float(spread.std(ddof=1)) if len(spread) > 1 else None)

    @property
    def spread_limit(self) -> float | None:
        if self.spread_mean is None or self.spread_sd is None:
            return None
        return max(self.spread_mean + SPREAD_SD * self.spread_sd, 2 * self.spread_mean)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class CheckResult:
    mask: np.ndarray
    status: str
    volume_voxels: int
    centre: list[float] | None
    centre_sd_distance: float | None  # largest |centre - mean| / SD over the three axes
    flags: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    removed_voxels: int = 0
    joined_pieces: int = 0
    displaced: bool = False  # centre of mass flagged or cut by the slab's end: the anatomy may be displaced


def clean_mask(mask: np.ndarray, connected: bool) -> tuple[np.ndarray, int, int]:
    """Mask without single-voxel components, pieces joined and holes filled; also the voxels removed and the
    number of pieces that were joined."""
    labels, n = ndimage.label(mask, structure=FULL)
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    keep = sizes > 1
    keep[0] = False
    cleaned = keep[labels]
    removed, pieces = int(mask.sum() - cleaned.sum()), int(keep.sum())
    if connected and pieces > 1:
        cleaned = _bridge(cleaned)
    return ndimage.binary_fill_holes(cleaned), removed, pieces if pieces > 1 else 0


def _bridge(mask: np.ndarray, max_radius: int = 3) -> np.ndarray:
    """Close gaps between pieces with growing closings until one piece remains (or give up)."""
    for radius in range(1, max_radius + 1):
        closed = mask | ndimage.binary_closing(mask, structure=FULL, iterations=radius)
        if ndimage.label(closed, structure=FULL)[1] <= 1:
            return closed
    return mask


def check_segmentation(mask: np.ndarray, statistics: RegionStatistics, connected: bool) -> CheckResult:
    cleaned, removed, joined = clean_mask(mask.astype(bool), connected)
    volume = int(cleaned.sum())
    if volume == 0:
        return CheckResult(cleaned, Status.EMPTY, 0, None, None, [], ["nothing segmented: the region may be "
                           "outside the slab, or the image unusable there"], removed, joined)
    centre = [float(c) for c in ndimage.center_of_mass(cleaned)]
    distance = max(abs(c - m) / s for c, m, s in zip(centre, statistics.centre_mean, statistics.centre_sd,
                                                     strict=True))
    result = CheckResult(cleaned, Status.OK, volume, centre, round(float(distance), 2), removed_voxels=removed,
                         joined_pieces=joined)
    if volume < statistics.volume_mean - SMALL_SD * statistics.volume_sd:
        result.status = Status.SMALL
        result.hints.append(f"volume {volume} voxels is more than {SMALL_SD} SD below the training mean "
                            f"({statistics.volume_mean:.0f} +/- {statistics.volume_sd:.0f})")
    if not statistics.reaches_slab_ends and (cleaned[0].any() or cleaned[-1].any()):
        result.status = Status.SMALL
        result.displaced = True
        end = "head" if cleaned[0].any() else "foot"
        result.hints.append(f"the region reaches the slab's {end} end: probably partly outside the slab")
    if distance > CENTRE_SD:
        result.displaced = True
        result.flags.append("centre_of_mass")
        result.hints.append(f"centre of mass is {distance:.1f} SD from the training mean (limit {CENTRE_SD})")
    return result


def station_hint_flags(hints: list[dict], station: int) -> tuple[list[str], list[str]]:
    """Flags and hints that the preprocessing's QC hints of ``station`` add to a region living there: every
    hint is passed on; one in ``BLOCKING_HINTS`` (a water-fat swap makes any FF measured there 100 - FF, a
    value that still looks plausible) becomes a flag, which withholds the BMFF."""
    flags, texts = [], []
    for hint in hints or []:
        if hint.get("station") == station:
            texts.append(f"preprocessing hint: {hint['message']}")
            if hint["code"] in BLOCKING_HINTS and hint["code"] not in flags:
                flags.append(hint["code"])
    return flags, texts


def dice(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(bool), b.astype(bool)
    total = int(a.sum() + b.sum())
    return 1.0 if total == 0 else 2.0 * int((a & b).sum()) / total


def spread_flags(spread: float | None, statistics: RegionStatistics) -> tuple[list[str], list[str]]:
    """The ``heterogeneous`` flag when the FF interquartile range inside a mask exceeds the training limit."""
    limit = statistics.spread_limit
    if spread is None or limit is None or spread <= limit:
        return [], []
    return ["heterogeneous"], [f"FF inside the mask spreads over {spread:.1f} points (interquartile range; training "
                               f"labels {statistics.spread_mean:.1f} +/- {statistics.spread_sd:.1f}, limit "
                               f"{limit:.1f}): the mask may span two tissues"]


def neighbour_flags(results: dict[str, CheckResult | None]) -> dict[str, tuple[list[str], list[str]]]:
    """Flags and hints for each OK region (name -> its check, None when not segmented) from the other regions:
    ``neighbour_failed`` when a neighbour on the same slab failed its checks (Small, Empty, its centre of mass far
    from the training mean, or heterogeneous); ``table_displaced`` when a region on another slab is out of place
    (``CheckResult.displaced``)."""
    from .regions import REGIONS

    def failure(result: CheckResult | None) -> str:
        if result is None:
            return ""
        if result.status in (Status.SMALL, Status.EMPTY):
            return f"is {result.status}"
        if "centre_of_mass" in result.flags:
            return "has its centre of mass far from the usual place"
        return "spans tissues of different fat fraction" if "heterogeneous" in result.flags else ""

    added: dict[str, tuple[list[str], list[str]]] = {}
    for name, result in results.items():
        if result is None or result.status != Status.OK:
            continue
        flags, texts = [], []
        station = REGIONS[name].station
        same_slab = [f"{REGIONS[other].label} on the same slab {failure(other_result)}: the slab may be displaced, "
                     "so this segmentation may have taken another bone's marrow"
                     for other, other_result in results.items()
                     if other != name and REGIONS[other].station == station and failure(other_result)]
        if same_slab:
            flags.append("neighbour_failed")
            texts += same_slab
        displaced = [REGIONS[other].label for other, other_result in results.items()
                     if other_result is not None and REGIONS[other].station != station
                     and other_result.displaced]
        if displaced:
            flags.append("table_displaced")
            texts.append(f"{', '.join(displaced)} on another slab out of the usual place: the table may have been "
                         "displaced for the whole examination, so this slab may show other levels than usual, "
                         "whose marrow fat differs")
        if flags:
            added[name] = (flags, texts)
    return added
