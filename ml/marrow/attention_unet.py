"""The BMFF paper's CBAM ROI-attention 3D U-Net.

Encoder: per resolution level a convolutional layer, a CBAM convolutional layer and a stride-2
down-sampling convolution; the last level has two CBAM layers with a non-local spatial attention layer
between them. As in the paper, each CBAM makes one single-channel spatial attention map by a 1x1x1
convolution (instead of CBAM's average / max pooled maps). The five maps are resized to one size and
fused by a small CNN with a softmax into a probability map P; the ROI centre is the expectation of the
normalised grid coordinates under P. A cube of fixed size around that centre is cut from the encoder
features of every level (sizes S, S/2, S/4, S/8), decoded, and put back into the box (background
elsewhere).

Training feeds the true centre (jittered) for the crop, so the decoder learns from the start while the
localisation loss trains P; prediction uses the predicted centre.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from .unet import Decoder, UNetConfig, conv_layer

BACKGROUND_LOGIT = -20.0  # outside the ROI: certainly background


@dataclass
class AttentionUNetConfig(UNetConfig):
    roi_size: list[int] = field(default_factory=lambda: [16, 16, 16])  # (z, y, x) at full resolution
    map_size: list[int] = field(default_factory=lambda: [16, 16, 16])  # attention maps fused at this size


class CBAM(nn.Module):
    """Channel attention (shared MLP on average- and max-pooled features) then one spatial attention map."""

    def __init__(self, channels: int, reduction: int = 4) -> None:
        super().__init__()
        hidden = max(channels // reduction, 2)
        self.mlp = nn.Sequential(nn.Conv3d(channels, hidden, 1), nn.ReLU(inplace=True), nn.Conv3d(hidden, channels, 1))
        self.spatial = nn.Conv3d(channels, 1, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        weights = torch.sigmoid(self.mlp(F.adaptive_avg_pool3d(x, 1)) + self.mlp(F.adaptive_max_pool3d(x, 1)))
        x = x * weights  # (B, C, D, H, W)
        attention = torch.sigmoid(self.spatial(x))  # (B, 1, D, H, W)
        return x * attention, attention


class CBAMConv(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = conv_layer(c_in, c_out)
        self.cbam = CBAM(c_out)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.cbam(self.conv(x))


class NonLocal(nn.Module):
    """Embedded-Gaussian non-local block (Wang et al.): every position attends to every other."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        inner = max(channels // 2, 1)
        self.theta, self.phi, self.g = (nn.Conv3d(channels, inner, 1) for _ in range(3))
        self.out = nn.Conv3d(inner, channels, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, d, h, w = x.shape
        theta = self.theta(x).flatten(2).transpose(1, 2)  # (B, N, C')
        phi = self.phi(x).flatten(2)  # (B, C', N)
        g = self.g(x).flatten(2).transpose(1, 2)  # (B, N, C')
        y = torch.softmax(theta @ phi, dim=-1) @ g  # (B, N, C')
        return x + self.out(y.transpose(1, 2).reshape(b, -1, d, h, w))


class ROIAttentionUNet3D(nn.Module):
    def __init__(self, config: AttentionUNetConfig) -> None:
        super().__init__()
        c, self.config = config.channels, config
        self.first = nn.ModuleList([conv_layer(config.in_channels, c[0])])
        self.first.extend(conv_layer(c[i - 1], c[i], stride=2) for i in range(1, config.levels))
        self.cbams = nn.ModuleList(CBAMConv(c[i], c[i]) for i in range(config.levels))
        self.non_local = NonLocal(c[-1])
        self.last_cbam = CBAMConv(c[-1], c[-1])
        n_maps = config.levels + 1
        self.fuse = nn.Sequential(nn.Conv3d(n_maps, 8, 3, padding=1), nn.ReLU(inplace=True), nn.Conv3d(8, 1, 1))
        self.decoder = Decoder(c)
        self.register_buffer("grid", _normalised_grid(config.map_size), persistent=False)  # (N, 3)

    def encode(self, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        features, maps = [], []
        for level, (conv, cbam) in enumerate(zip(self.first, self.cbams, strict=True)):
            x, attention = cbam(conv(x))
            maps.append(attention)
            if level == self.config.levels - 1:
                x, attention = self.last_cbam(self.non_local(x))
                maps.append(attention)
            features.append(x)
        return features, maps

    def locate(self, maps: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Fused probability map P (B, N) and the ROI centre (B, 3) in normalised (z, y, x)."""
        size = tuple(self.config.map_size)
        resized = [F.interpolate(m, size=size, mode="trilinear", align_corners=True) for m in maps]
        logits = self.fuse(torch.cat(resized, dim=1)).flatten(1)  # (B, N)
        probability = torch.softmax(logits.float(), dim=1)
        return probability, probability @ self.grid

    def forward(self, x: torch.Tensor, centre: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        features, maps = self.encode(x)
        probability, predicted = self.locate(maps)
        starts = roi_starts(centre if centre is not None else predicted.detach(), x.shape[2:],
                            self.config.roi_size, 2 ** (self.config.levels - 1))
        cropped = [crop_rois(f, starts // 2 ** level, [s // 2 ** level for s in self.config.roi_size])
                   for level, f in enumerate(features)]
        roi_logits = self.decoder(cropped)  # (B, 1, *roi_size)
        return {"logits": place_rois(roi_logits, starts, x.shape[2:]), "roi_logits": roi_logits,
                "roi_starts": starts, "centre": predicted, "probability": probability}


def _normalised_grid(size: list[int]) -> torch.Tensor:
    axes = [torch.linspace(-1, 1, n) if n > 1 else torch.zeros(1) for n in size]
    return torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1).reshape(-1, 3)  # (N, 3)


def roi_starts(centre: torch.Tensor, shape, roi_size: list[int], multiple: int) -> torch.Tensor:
    """(B, 3) integer start of the ROI around normalised ``centre``, on a multiple of ``multiple`` voxels (so
    every level's crop is aligned) and inside the box."""
    extent = torch.tensor([n - 1 for n in shape], dtype=torch.float32, device=centre.device)
    size = torch.tensor(roi_size, dtype=torch.float32, device=centre.device)
    voxel = (centre.float() + 1) / 2 * extent
    start = torch.round((voxel - size / 2) / multiple) * multiple
    high = torch.tensor([n - s for n, s in zip(shape, roi_size, strict=True)], dtype=torch.float32,
                        device=centre.device)
    return torch.minimum(torch.clamp(start, min=0), high).long()


def crop_rois(x: torch.Tensor, starts: torch.Tensor, size: list[int]) -> torch.Tensor:
    d, h, w = size
    return torch.stack([x[b, :, z:z + d, y:y + h, k:k + w] for b, (z, y, k) in enumerate(starts.tolist())])


def place_rois(roi: torch.Tensor, starts: torch.Tensor, shape) -> torch.Tensor:
    """ROI logits (B, 1, d, h, w) put back into the box (B, 1, *shape), background logit elsewhere."""
    placed = []
    for b, (z, y, x) in enumerate(starts.tolist()):
        d, h, w = roi.shape[2:]
        pad = (x, shape[2] - x - w, y, shape[1] - y - h, z, shape[0] - z - d)
        placed.append(F.pad(roi[b], pad, value=BACKGROUND_LOGIT))
    return torch.stack(placed)
