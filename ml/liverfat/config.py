"""Training configurations: the paper's (``paper``) and one that trains on a laptop CPU in minutes (``quick``).

The paper: ResNet50, batch 32, Adam at 1e-4 reduced tenfold for the last 1,000 of 6,000 iterations, random
translations, MSE on standardised targets, ImageNet weights when available. ``quick`` keeps the recipe but
shrinks the network (ResNet18 at a quarter of the width), halves the input resolution and trains for 800
iterations at a higher learning rate: 3e-3, chosen on a 600-subject synthetic cohort, where 1e-3 left fatty
livers about 1.8 points low (a slope of 0.85 against the true PDFF; 0.96 at 3e-3) and R2 against the true
PDFF of subjects never trained on rose from 0.93 to 0.96-0.97.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace


@dataclass(frozen=True)
class TrainConfig:
    name: str = "paper"
    depth: int = 50
    width: int = 64
    batch_size: int = 32
    iterations: int = 6000
    learning_rate: float = 1e-4
    lr_drop_iterations: int = 1000  # the last iterations run at a tenth of the learning rate
    max_shift: float = 0.04  # random translation, as a fraction of each image side
    max_zoom: float = 0.0  # random scaling by up to this fraction (0: translations only, as the paper)
    downsample: int = 1  # average-pool the input by this factor first
    pretrained: str = ""  # local path to torchvision-layout ImageNet weights (width 64 only)
    seed: int = 0

    def __post_init__(self):
        if self.iterations < 1 or self.batch_size < 1:
            raise ValueError("iterations and batch_size must be at least 1")
        if not 0 <= self.lr_drop_iterations <= self.iterations:
            raise ValueError("lr_drop_iterations must lie between 0 and iterations")
        if self.downsample < 1 or not 0 <= self.max_shift < 0.5 or not 0 <= self.max_zoom < 0.5:
            raise ValueError("downsample must be at least 1, max_shift and max_zoom in [0, 0.5)")

    def as_dict(self) -> dict:
        return asdict(self)

    def with_overrides(self, **overrides) -> TrainConfig:
        known = {field.name for field in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown configuration keys {unknown}; known: {', '.join(sorted(known))}")
        values = {key: value for key, value in overrides.items() if value is not None}
        if "iterations" in values and "lr_drop_iterations" not in values:  # keep the drop's share of the run
            values["lr_drop_iterations"] = round(self.lr_drop_iterations * values["iterations"] / self.iterations)
        return replace(self, **values)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        return cls().with_overrides(**values)


CONFIGS = {
    "paper": TrainConfig(),
    "quick": TrainConfig(name="quick", depth=18, width=16, iterations=800, learning_rate=3e-3,
                         lr_drop_iterations=150, downsample=2),
}


def config_named(name: str, **overrides) -> TrainConfig:
    if name not in CONFIGS:
        raise ValueError(f"unknown configuration {name!r}; choose one of {', '.join(CONFIGS)}")
    return CONFIGS[name].with_overrides(**overrides)
