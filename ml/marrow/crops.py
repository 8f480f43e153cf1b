"""The fixed box around where a region lives in its slab, and the network input cut from it.

A region sits at about the same voxel position in its slab in every scan (the slabs are placed on
anatomical landmarks), so each model sees a fixed-size box (from the training labels' extent plus a
margin) instead of the whole slab: that is what makes 3D training fit in CPU-minutes. Parts of the box
outside the slab read as zero signal, so a region pushed out of the slab is seen as missing there.

Network input channels: fat and water signal (each divided by the slab's 99.5th percentile of F + W),
fat fraction F / (F + W), and the voxel's position in the box (z, y, x scaled to -1..1). The position
channels tell the network where in the slab it looks: the paper's network sees the whole slab, whose
context gives the same cue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CHANNELS = ("fat", "water", "ff", "z", "y", "x")
SIGNAL_FLOOR = 1e-3  # fraction of the slab's signal scale below which FF is set to 0 (air)


@dataclass(frozen=True)
class Box:
    """A (z, y, x) box of voxels in a slab; ``start`` may lie outside the slab (read as zeros)."""

    start: tuple[int, int, int]
    size: tuple[int, int, int]

    def as_dict(self) -> dict:
        return {"start": list(self.start), "size": list(self.size)}

    @classmethod
    def from_dict(cls, data: dict) -> Box:
        return cls(tuple(int(v) for v in data["start"]), tuple(int(v) for v in data["size"]))

    def shifted(self, offset: Sequence[int]) -> Box:
        return Box(tuple(int(s + o) for s, o in zip(self.start, offset, strict=True)), self.size)

    def _overlap(self, shape: Sequence[int]) -> tuple[tuple[slice, ...], tuple[slice, ...]]:
        source, target = [], []
        for start, size, extent in zip(self.start, self.size, shape, strict=True):
            lo, hi = max(start, 0), min(start + size, extent)
            hi = max(hi, lo)
            source.append(slice(lo, hi))
            target.append(slice(lo - start, hi - start))
        return tuple(source), tuple(target)

    def crop(self, volume: np.ndarray) -> np.ndarray:
        """The box's voxels of ``volume`` (zeros outside it)."""
        out = np.zeros(self.size, volume.dtype)
        source, target = self._overlap(volume.shape)
        out[target] = volume[source]
        return out

    def paste(self, patch: np.ndarray, shape: Sequence[int]) -> np.ndarray:
        """``patch`` (the box's size) placed into a zero volume of ``shape``; parts outside are dropped."""
        out = np.zeros(tuple(shape), patch.dtype)
        source, target = self._overlap(shape)
        out[source] = patch[target]
        return out


def _round_up(value: float, multiple: int) -> int:
    return int(np.ceil(value / multiple) * multiple)


def box_from_labels(masks: Sequence[np.ndarray], margin: Sequence[int], multiple: int = 8) -> Box:
    """The box centred on the union of the masks' extents, ``margin`` voxels wider on each side, each size a
    multiple of ``multiple`` (so the network can halve it three times)."""
    lows, highs = [], []
    for mask in masks:
        where = np.nonzero(mask)
        if where[0].size:
            lows.append([int(a.min()) for a in where])
            highs.append([int(a.max()) + 1 for a in where])
    if not lows:
        raise ValueError("no training label has any voxel: cannot place the region's box")
    low = np.min(lows, axis=0) - np.asarray(margin)
    high = np.max(highs, axis=0) + np.asarray(margin)
    size = [_round_up(h - lo, multiple) for lo, h in zip(low, high, strict=True)]
    start = [int(round((lo + h) / 2 - s / 2)) for lo, h, s in zip(low, high, size, strict=True)]
    return Box(tuple(start), tuple(size))


def fat_fraction(fat: np.ndarray, water: np.ndarray) -> np.ndarray:
    """FF = F / (F + W), 0 where there is (almost) no signal."""
    total = fat + water
    scale = max(float(np.percentile(total, 99.5)), 1e-6)
    return np.where(total > SIGNAL_FLOOR * scale, fat / np.maximum(total, 1e-6), 0.0).astype(np.float32)


def network_input(fat: np.ndarray, water: np.ndarray, box: Box, nominal: Box | None = None) -> np.ndarray:
    """(6, *box.size) float32 input for ``box`` of a slab; positions are relative to ``nominal`` (the model's
    box; a shifted training crop keeps the positions of the voxels it shows)."""
    fat = fat.astype(np.float32, copy=False)
    water = water.astype(np.float32, copy=False)
    scale = max(float(np.percentile(fat + water, 99.5)), 1e-6)
    channels = [box.crop(fat) / scale, box.crop(water) / scale, box.crop(fat_fraction(fat, water))]
    channels += position_channels(box, nominal or box)
    return np.stack(channels).astype(np.float32)


def position_channels(box: Box, nominal: Box) -> list[np.ndarray]:
    axes = []
    for axis, (start, size) in enumerate(zip(box.start, box.size, strict=True)):
        centre = nominal.start[axis] + (nominal.size[axis] - 1) / 2
        half = max(nominal.size[axis] / 2, 1)
        line = (np.arange(start, start + size) - centre) / half
        shape = [1, 1, 1]
        shape[axis] = size
        axes.append(np.broadcast_to(line.reshape(shape), box.size).astype(np.float32))
    return axes
