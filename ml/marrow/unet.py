"""A plain 3D U-Net (the paper's baseline) and the blocks the ROI-attention U-Net shares with it.

Convolutional layer as in the paper: 3D convolution, ReLU, instance normalisation; down-sampling by a
stride-2 3x3x3 convolution; up-sampling by a stride-2 transposed convolution. Shapes are (B, C, D, H, W)
with D, H, W = z, y, x of the region's box; every side must be a multiple of 2 ** (levels - 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class UNetConfig:
    in_channels: int = 6
    base_channels: int = 8
    levels: int = 4  # resolution levels: the box, 1/2, 1/4 and 1/8 of it

    @property
    def channels(self) -> list[int]:
        return [self.base_channels * 2 ** level for level in range(self.levels)]


def conv_layer(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv3d(c_in, c_out, 3, stride=stride, padding=1), nn.ReLU(inplace=True),
                         nn.InstanceNorm3d(c_out, affine=True))


class Decoder(nn.Module):
    """Up from the deepest features, joining each level's skip features; returns one logit channel."""

    def __init__(self, channels: list[int]) -> None:
        super().__init__()
        deep = list(reversed(channels))
        self.ups = nn.ModuleList(nn.ConvTranspose3d(c, c_next, 2, stride=2)
                                 for c, c_next in zip(deep, deep[1:], strict=False))
        self.blocks = nn.ModuleList(nn.Sequential(conv_layer(2 * c, c), conv_layer(c, c)) for c in deep[1:])
        self.head = nn.Conv3d(channels[0], 1, 1)

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        x = features[-1]
        for up, block, skip in zip(self.ups, self.blocks, reversed(features[:-1]), strict=True):
            x = block(torch.cat([up(x), skip], dim=1))  # (B, C_level, D_level, H_level, W_level)
        return self.head(x)  # (B, 1, D, H, W)


class UNet3D(nn.Module):
    def __init__(self, config: UNetConfig) -> None:
        super().__init__()
        c = config.channels
        self.encoders = nn.ModuleList([nn.Sequential(conv_layer(config.in_channels, c[0]), conv_layer(c[0], c[0]))])
        self.encoders.extend(nn.Sequential(conv_layer(c[i - 1], c[i], stride=2), conv_layer(c[i], c[i]))
                             for i in range(1, config.levels))
        self.decoder = Decoder(c)

    def forward(self, x: torch.Tensor, centre: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        features = []
        for encoder in self.encoders:
            x = encoder(x)
            features.append(x)
        return {"logits": self.decoder(features)}
