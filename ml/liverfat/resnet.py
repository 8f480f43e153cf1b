"""ResNet 18 / 34 / 50 in plain PyTorch, with a single-output regression head for 1-channel images.

The layout follows He et al. (2016) as torchvision builds it (same parameter names), so ImageNet weights
saved from torchvision (``resnet50-*.pth``, a plain state dict) load from a local file: the first
convolution's RGB kernels are summed into one grey channel, the 1000-class head is dropped.

``width`` scales every stage's channels (64 in the papers); smaller widths make the ``quick``
configuration train on a laptop CPU.

Two heads. ``pool`` is the paper's: global average pooling of the last stage and one linear output.
``attention`` reads the answer off the input itself: 1x1 convolutions on the first three stages give a map
of where to look (their logits upsampled to the input's resolution and summed, softmax over all pixels), and
the input's fat fraction averaged under that map, times a learnt slope plus a learnt offset, is the
prediction (the last stage is not built). A fat fraction read off the image keeps rising with the liver's,
so livers fatter than any in the training set are predicted fatter still; the pooled head levels off near
the highest training value. It is the reference method's own measure (the mean fat fraction of a liver
region) with the region found by the network.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ml.imaging.network_input import FF_RANGE

LAYERS = {18: ("basic", (2, 2, 2, 2)), 34: ("basic", (3, 4, 6, 3)), 50: ("bottleneck", (3, 4, 6, 3))}
HEADS = ("pool", "attention")
INPUT_FF_PERCENT = 100 * (FF_RANGE[1] - FF_RANGE[0])  # fat fraction (%) of an input value of 1.0


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNetRegressor(nn.Module):
    """ResNet trunk and a one-output regression head: ``pool`` (the paper's: global average pooling of the
    last stage, one linear output) or ``attention`` (the first three stages choose where to read the input's
    fat fraction; see the module docstring)."""

    def __init__(self, depth: int = 50, width: int = 64, in_channels: int = 1, head: str = "pool"):
        super().__init__()
        if depth not in LAYERS:
            raise ValueError(f"depth must be one of {sorted(LAYERS)}, got {depth}")
        if head not in HEADS:
            raise ValueError(f"head must be one of {', '.join(HEADS)}, got {head!r}")
        if head == "attention" and in_channels != 1:
            raise ValueError("the attention head reads a one-channel fat-fraction image")
        kind, counts = LAYERS[depth]
        block = BasicBlock if kind == "basic" else Bottleneck
        self.depth, self.width, self.head = depth, width, head
        self.inplanes = width
        self.conv1 = nn.Conv2d(in_channels, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._stage(block, width, counts[0], 1)
        self.layer2 = self._stage(block, width * 2, counts[1], 2)
        self.layer3 = self._stage(block, width * 4, counts[2], 2)
        if head == "pool":
            self.layer4 = self._stage(block, width * 8, counts[3], 2)
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(width * 8 * block.expansion, 1)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        if head == "attention":
            self.attend = nn.ModuleList(nn.Conv2d(width * scale * block.expansion, 1, 1) for scale in (1, 2, 4))
            for conv in self.attend:  # start by reading the whole image evenly
                nn.init.zeros_(conv.weight)
                nn.init.zeros_(conv.bias)
            self.read_slope = nn.Parameter(torch.ones(1))
            self.read_bias = nn.Parameter(torch.zeros(1))
            # the training targets' mean and standard deviation (%): the read-out predicts standardised targets
            self.register_buffer("target_scale", torch.tensor([0.0, 1.0]))

    def standardise_targets(self, mean: float, std: float) -> None:
        """Tell the attention read-out the training targets' mean and standard deviation (no-op for ``pool``)."""
        if self.head == "attention":
            self.target_scale.copy_(torch.tensor([mean, std]))

    def _stage(self, block, planes: int, count: int, stride: int) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes * block.expansion))
        blocks = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        blocks += [block(self.inplanes, planes) for _ in range(1, count)]
        return nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor, view: torch.Tensor | None = None) -> torch.Tensor:
        """Standardised prediction for each image of ``x``. ``view``, when given, is what the trunk sees
        instead of ``x`` (the attention head still reads ``x``): training passes a brightness-jittered copy."""
        stages = self._stages(x if view is None else view)
        if self.head == "pool":
            return self.fc(torch.flatten(self.avgpool(self.layer4(stages[-1])), 1)).squeeze(1)
        read = (self._attention(x.shape[-2:], stages) * x.float().flatten(1)).sum(1) * INPUT_FF_PERCENT
        mean, std = self.target_scale[0], self.target_scale[1]
        return self.read_slope * (read - mean) / std + self.read_bias

    def _stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Outputs of the first three stages."""
        stages = [self.layer1(self.maxpool(self.relu(self.bn1(self.conv1(x)))))]
        stages.append(self.layer2(stages[0]))
        stages.append(self.layer3(stages[1]))
        return stages

    def _attention(self, size: torch.Size, stages: list[torch.Tensor]) -> torch.Tensor:
        """(N, H * W) softmax weights from the stages' logits, upsampled to the input and summed."""
        logits = sum(F.interpolate(conv(stage).float(), size=size, mode="bilinear", align_corners=False)
                     for conv, stage in zip(self.attend, stages, strict=True))
        return torch.softmax(logits.flatten(1), dim=1)

    @torch.no_grad()
    def attention_map(self, x: torch.Tensor) -> torch.Tensor:
        """Where the read-out looks: (N, H, W) weights summing to 1 per image (``attention`` head only)."""
        if self.head != "attention":
            raise ValueError("only the attention head has an attention map")
        return self._attention(x.shape[-2:], self._stages(x)).reshape(x.shape[0], *x.shape[-2:])


def load_imagenet_weights(model: ResNetRegressor, path: str | Path) -> list[str]:
    """Load a torchvision-layout ImageNet state dict from a local file into ``model`` (width 64 only).

    The first convolution's RGB kernels are summed into the model's input channels (one grey channel);
    the classification head is skipped. Returns the names of the parameters that were not in the file.
    """
    if model.width != 64:
        raise ValueError(f"ImageNet weights need width 64, the model has width {model.width}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no pretrained weights at {path}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    state = {key.removeprefix("module."): value for key, value in state.items() if not key.startswith("fc.")}
    conv1 = state.get("conv1.weight")
    if conv1 is None:
        raise ValueError(f"{path} holds no conv1.weight: not a ResNet state dict")
    in_channels = model.conv1.weight.shape[1]
    state["conv1.weight"] = conv1.sum(dim=1, keepdim=True).repeat(1, in_channels, 1, 1) / in_channels
    own = model.state_dict()
    wrong = [key for key, value in state.items() if key in own and own[key].shape != value.shape]
    if wrong:
        raise ValueError(f"{path} does not fit a ResNet{model.depth}: shapes differ for {', '.join(wrong[:5])}")
    result = model.load_state_dict(state, strict=False)
    return [key for key in result.missing_keys
            if not key.startswith(("fc.", "attend.", "read_slope", "read_bias", "target_scale"))]
