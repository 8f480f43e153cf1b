"""Checkpoints: one file with everything needed to use a trained model again.

A checkpoint holds the configuration, the weights, the target standardisation, the data fingerprint of the
training set and the code revision; ``load_checkpoint`` rebuilds the model from it alone.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from .config import TrainConfig
from .resnet import ResNetRegressor
from .training import TrainedRegressor

FORMAT = "ukbstudy-liverfat/1"


def save_checkpoint(path: str | Path, trained: TrainedRegressor, *, data_fingerprint: str = "",
                    git_revision: str = "", extra: dict | None = None) -> Path:
    """Write atomically (a temporary file renamed into place), so a checkpoint is whole or absent."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, **trained.state(), "data_fingerprint": data_fingerprint,
               "git_revision": git_revision, "extra": extra or {}}
    partial = path.with_name(path.name + ".partial")
    torch.save(payload, partial)
    os.replace(partial, path)
    return path


def load_checkpoint(path: str | Path, device: torch.device | str = "cpu") -> tuple[TrainedRegressor, dict]:
    """The trained model (in eval mode on ``device``) and the checkpoint's other entries."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not a liver fat checkpoint (format {FORMAT})")
    config = TrainConfig.from_dict({**payload["config"], "pretrained": ""})
    model = ResNetRegressor(depth=config.depth, width=config.width, head=config.head)
    model.load_state_dict(payload["weights"])
    model.to(device).eval()
    trained = TrainedRegressor(model=model, config=config, target_mean=payload["target_mean"],
                               target_std=payload["target_std"], device=str(device))
    meta = {key: payload[key] for key in ("data_fingerprint", "git_revision", "extra")}
    return trained, meta
