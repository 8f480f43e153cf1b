"""Training and prediction of one region's segmentation network: importable functions, checkpoints as dicts.

A checkpoint carries everything needed to segment and check a new scan: the architecture and its config,
the region's box in its slab, the training labels' statistics for the error checks, the weights, the
loss history and a fingerprint of the training data.

The device is CUDA with bfloat16 mixed precision when a GPU is present, else the CPU (float32).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from scipy import ndimage

from .attention_unet import AttentionUNetConfig, ROIAttentionUNet3D
from .bmff import bmff
from .checks import RegionStatistics
from .crops import CHANNELS, Box, box_from_labels, network_input
from .losses import roi_attention_loss, unet_loss
from .regions import region_of
from .unet import UNet3D, UNetConfig

ARCHITECTURES = ("unet", "roi_attention_unet")
CHECKPOINT_FORMAT = 1
Progress = Callable[[int, int, str], None]


@dataclass
class TrainConfig:
    architecture: str = "roi_attention_unet"
    base_channels: int = 8
    iterations: int = 300
    batch_size: int = 4
    learning_rate: float = 1e-2
    margin: list[int] = field(default_factory=lambda: [2, 4, 4])  # box margin around the labels, (z, y, x) voxels
    roi_margin: list[int] = field(default_factory=lambda: [1, 2, 2])  # ROI margin around the largest label
    shift: int = 2  # random shift of the box during training (voxels, each axis)
    jitter: int = 2  # random offset of the true ROI centre fed during training (voxels)
    lambda_roi: float = 1.0
    lambda_loc: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {self.architecture!r}; choose one of {', '.join(ARCHITECTURES)}")


@dataclass
class Case:
    """One slab with its manual label: (z, y, x) arrays on the slab's grid."""

    key: str
    fat: np.ndarray
    water: np.ndarray
    mask: np.ndarray


@dataclass
class SegmentationModel:
    region: str
    architecture: str
    net: torch.nn.Module
    box: Box
    statistics: RegionStatistics
    device: torch.device


def pick_device(name: str | None = None) -> torch.device:
    return torch.device(name or ("cuda" if torch.cuda.is_available() else "cpu"))


def _autocast(device: torch.device):
    return torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext()


def fingerprint(cases: Sequence[Case]) -> str:
    digest = hashlib.sha256()
    for case in sorted(cases, key=lambda c: c.key):
        digest.update(case.key.encode())
        digest.update(np.ascontiguousarray(case.mask, dtype=np.uint8).tobytes())
    return digest.hexdigest()


def roi_size(masks: Sequence[np.ndarray], box: Box, margin: Sequence[int], multiple: int = 8) -> list[int]:
    """ROI cube side per axis: the largest label extent, the margin and the ROI's alignment slack, rounded up
    to ``multiple`` and at most the box."""
    extents = np.max([[s.stop - s.start for s in ndimage.find_objects(m.astype(np.uint8))[0]]
                      for m in masks if m.any()], axis=0)
    return [min(int(np.ceil((e + 2 * g + multiple) / multiple) * multiple), b)
            for e, g, b in zip(extents, margin, box.size, strict=True)]


def build_net(architecture: str, net_config: dict) -> torch.nn.Module:
    if architecture == "unet":
        return UNet3D(UNetConfig(**net_config))
    return ROIAttentionUNet3D(AttentionUNetConfig(**net_config))


def _net_config(config: TrainConfig, box: Box, masks: Sequence[np.ndarray]) -> dict:
    base = {"in_channels": len(CHANNELS), "base_channels": config.base_channels, "levels": 4}
    if config.architecture == "unet":
        return base
    return {**base, "roi_size": roi_size(masks, box, config.roi_margin), "map_size": list(box.size)}


def normalised_centre(masks: np.ndarray) -> np.ndarray:
    """(B, 3) centre of mass of each (B, D, H, W) mask in -1..1 box coordinates (0 for an empty mask)."""
    extent = np.array(masks.shape[1:], float) - 1
    return np.stack([np.asarray(ndimage.center_of_mass(m)) / extent * 2 - 1 if m.any() else np.zeros(3)
                     for m in masks]).astype(np.float32)


class _Batches:
    """Random training batches: shifted crops of a box grown by ``shift``, fat and water scaled by 0.9-1.1."""

    def __init__(self, cases: Sequence[Case], box: Box, config: TrainConfig) -> None:
        s = config.shift
        grown = Box(tuple(v - s for v in box.start), tuple(v + 2 * s for v in box.size))
        self.inputs = np.stack([network_input(c.fat, c.water, grown, nominal=box) for c in cases])
        self.labels = np.stack([grown.crop(c.mask.astype(np.float32)) for c in cases])
        self.size, self.config = box.size, config
        self.rng = np.random.default_rng(config.seed)

    def draw(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        picks = self.rng.integers(0, len(self.inputs), self.config.batch_size)
        offsets = self.rng.integers(0, 2 * self.config.shift + 1, (len(picks), 3))
        d, h, w = self.size
        windows = list(zip(picks, offsets, strict=True))
        x = np.stack([self.inputs[i, :, z:z + d, y:y + h, k:k + w] for i, (z, y, k) in windows])
        labels = np.stack([self.labels[i, z:z + d, y:y + h, k:k + w] for i, (z, y, k) in windows])
        x[:, :2] *= self.rng.uniform(0.9, 1.1, (len(picks), 1, 1, 1, 1)).astype(np.float32)
        centre = normalised_centre(labels)
        jitter = self.rng.uniform(-1, 1, centre.shape) * self.config.jitter * 2 / (np.array(self.size) - 1)
        return x, labels[:, None], np.stack([centre, (centre + jitter).astype(np.float32)])


def train_region(region: str, cases: Sequence[Case], config: TrainConfig, *, progress: Progress | None = None,
                 device: str | None = None) -> dict:
    """Train one region's network on ``cases`` (non-empty labels only) and return its checkpoint."""
    cases = [c for c in cases if c.mask.any()]
    if len(cases) < 2:
        raise ValueError(f"{region}: at least two manual segmentations with voxels are needed to train")
    torch.manual_seed(config.seed)
    dev = pick_device(device)
    box = box_from_labels([c.mask for c in cases], config.margin)
    net_config = _net_config(config, box, [box.crop(c.mask) for c in cases])
    net = build_net(config.architecture, net_config).to(dev)
    batches = _Batches(cases, box, config)
    optimiser = torch.optim.Adam(net.parameters(), lr=config.learning_rate)
    loss_fn = unet_loss if config.architecture == "unet" else roi_attention_loss
    history, started = [], time.perf_counter()
    for iteration in range(1, config.iterations + 1):
        if iteration == int(0.8 * config.iterations) + 1:  # the last fifth at a tenth of the rate
            for group in optimiser.param_groups:
                group["lr"] = config.learning_rate / 10
        x, y, (centre, fed) = (torch.from_numpy(a).to(dev) for a in batches.draw())
        with _autocast(dev):
            outputs = net(x, centre=fed)
        loss, parts = loss_fn(outputs, y, centre, config.lambda_roi, config.lambda_loc)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        history.append(round(loss.item(), 4))
        if progress is not None and (iteration % 20 == 0 or iteration == config.iterations):
            progress(iteration, config.iterations, f"{region} {config.architecture}: loss {loss.item():.3f} "
                     + " ".join(f"{k} {v:.3f}" for k, v in parts.items()))
    return {"format": CHECKPOINT_FORMAT, "region": region, "architecture": config.architecture,
            "net_config": net_config, "train_config": asdict(config), "box": box.as_dict(),
            "statistics": RegionStatistics.from_masks([c.mask for c in cases], [
                bmff(c.fat, c.water, c.mask, region_of(region)).spread for c in cases]).as_dict(),
            "state_dict": {k: v.detach().cpu() for k, v in net.state_dict().items()},
            "iterations": config.iterations, "loss_history": history, "cases": sorted(c.key for c in cases),
            "data_fingerprint": fingerprint(cases), "seconds": round(time.perf_counter() - started, 2),
            "device": str(dev)}


def load_model(checkpoint: dict, device: str | None = None) -> SegmentationModel:
    if checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"unsupported marrow checkpoint format {checkpoint.get('format')!r}")
    dev = pick_device(device)
    net = build_net(checkpoint["architecture"], checkpoint["net_config"])
    net.load_state_dict(checkpoint["state_dict"])
    return SegmentationModel(checkpoint["region"], checkpoint["architecture"], net.to(dev).eval(),
                             Box.from_dict(checkpoint["box"]), RegionStatistics(**checkpoint["statistics"]), dev)


@torch.inference_mode()
def predict_masks(model: SegmentationModel, slabs: Sequence[tuple[np.ndarray, np.ndarray]],
                  batch_size: int = 8) -> list[np.ndarray]:
    """Boolean masks on each slab's grid (probability > 0.5) for a list of (fat, water) slabs."""
    masks = []
    for first in range(0, len(slabs), batch_size):
        chunk = slabs[first:first + batch_size]
        x = torch.from_numpy(np.stack([network_input(f, w, model.box) for f, w in chunk])).to(model.device)
        with _autocast(model.device):
            logits = model.net(x)["logits"]
        inside = (logits.float() > 0).cpu().numpy()[:, 0]
        masks.extend(model.box.paste(m, fat.shape) for m, (fat, _) in zip(inside, chunk, strict=True))
    return masks
