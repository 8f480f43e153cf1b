"""Training, prediction and k-fold cross-validation of the liver fat regression network.

Inputs are the image pipeline's 8-bit network inputs (0-255 for 0-50 % fat fraction), stacked as one
``(N, H, W)`` uint8 array that stays decoded in memory (or memory-mapped): each batch is gathered by index
on the device, augmented there (translations, optionally random scaling; for the attention head optionally a
brightness-jittered view for its trunk) and fed to the network, so a GPU never waits for file reading or
decoding. On CUDA the network runs channels-last under bfloat16 autocast.

``progress(done, total, message)`` is called every ``report_every`` iterations; it may raise (a cancelled
job) and the exception propagates.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .config import TrainConfig
from .resnet import ResNetRegressor, load_imagenet_weights

Progress = Callable[[int, int, str], None]
GPU_RESIDENT_BYTES = 8 * 1024**3  # inputs up to this size are copied to the GPU once


def pick_device(preference: str = "auto") -> torch.device:
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(preference)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("CUDA was asked for but no CUDA device is available")
    return device


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"[:32]
    return "cpu"


@dataclass
class TrainedRegressor:
    model: nn.Module
    config: TrainConfig
    target_mean: float
    target_std: float
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    images_per_second: float = 0.0
    device: str = "cpu"

    def state(self) -> dict:
        return {"config": self.config.as_dict(), "weights": {k: v.cpu() for k, v in self.model.state_dict().items()},
                "target_mean": self.target_mean, "target_std": self.target_std}


def build_model(config: TrainConfig) -> ResNetRegressor:
    model = ResNetRegressor(depth=config.depth, width=config.width, head=config.head)
    if config.pretrained:
        load_imagenet_weights(model, config.pretrained)
    return model


def _as_tensor(images: np.ndarray, device: torch.device) -> torch.Tensor:
    """(N, H, W) uint8 as an (N, 1, H, W) tensor: on the GPU when it fits, else in (pinned) host memory."""
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"images must be an (N, H, W) uint8 array, got {images.dtype} {images.shape}")
    tensor = torch.from_numpy(np.ascontiguousarray(images)).unsqueeze(1)
    if device.type == "cuda":
        return tensor.to(device) if images.nbytes <= GPU_RESIDENT_BYTES else tensor.pin_memory()
    return tensor


def _prepare(batch: torch.Tensor, config: TrainConfig, device: torch.device) -> torch.Tensor:
    x = batch.to(device, non_blocking=True).float().div_(255.0)
    if config.downsample > 1:
        x = F.avg_pool2d(x, config.downsample, ceil_mode=True)
    return x.contiguous(memory_format=torch.channels_last) if device.type == "cuda" else x


def _shift(x: torch.Tensor, max_shift: float, generator: torch.Generator) -> torch.Tensor:
    """Translate each image by a random whole number of pixels (zeros enter at the border)."""
    n, _, h, w = x.shape
    sy, sx = int(round(max_shift * h)), int(round(max_shift * w))
    if sy == 0 and sx == 0:
        return x
    padded = F.pad(x, (sx, sx, sy, sy))
    dy = torch.randint(0, 2 * sy + 1, (n,), generator=generator).to(x.device)
    dx = torch.randint(0, 2 * sx + 1, (n,), generator=generator).to(x.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device)[None, :])[:, :, None]
    cols = (dx[:, None] + torch.arange(w, device=x.device)[None, :])[:, None, :]
    batch = torch.arange(n, device=x.device)[:, None, None]
    return padded[batch, 0, rows, cols].unsqueeze(1)


def _uniform(n: int, limit: float, generator: torch.Generator) -> torch.Tensor:
    """``n`` draws, uniform in [-limit, limit], on the CPU generator."""
    return (torch.rand(n, generator=generator) * 2 - 1) * limit


def _shift_and_zoom(x: torch.Tensor, max_shift: float, max_zoom: float, generator: torch.Generator) -> torch.Tensor:
    """Zoom each image in or out about its centre (its sampling grid scaled by a random factor in
    [1 - max_zoom, 1 + max_zoom]) and translate it by up to ``max_shift`` of each side (bilinear resampling,
    zeros enter at the border)."""
    n = x.shape[0]
    zoom = 1 + _uniform(n, max_zoom, generator)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = zoom  # a grid larger than 1 shows the body smaller
    theta[:, 0, 2] = _uniform(n, 2 * max_shift, generator)  # the grid spans [-1, 1]
    theta[:, 1, 2] = _uniform(n, 2 * max_shift, generator)
    theta = theta.to(device=x.device, dtype=x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def augment(x: torch.Tensor, config: TrainConfig, generator: torch.Generator) -> torch.Tensor:
    """The configuration's augmentation: whole-pixel translations (the paper's), plus random scaling when
    ``max_zoom`` is set."""
    if config.max_zoom > 0:
        return _shift_and_zoom(x, config.max_shift, config.max_zoom, generator)
    return _shift(x, config.max_shift, generator)


def brighten(x: torch.Tensor, config: TrainConfig, generator: torch.Generator) -> torch.Tensor | None:
    """What the attention head's trunk sees in training: each image times a random factor, log-uniform in
    [1 / (1 + max_brightness), 1 + max_brightness], clipped to the input range. The read-out still reads the
    unchanged image, so the target stays right, and the trunk learns to find the liver whatever its
    brightness, also brighter than any liver in the training set. None when off."""
    if config.head != "attention" or config.max_brightness <= 0:
        return None
    factor = torch.exp(_uniform(x.shape[0], float(np.log1p(config.max_brightness)), generator))
    return (x * factor.to(device=x.device, dtype=x.dtype)[:, None, None, None]).clamp_(0, 1)


def _autocast(device: torch.device):
    return torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")


def train_regressor(images: np.ndarray, targets: np.ndarray, config: TrainConfig, *, device: torch.device | None = None,
                    progress: Progress | None = None, report_every: int = 20) -> TrainedRegressor:
    """Train on all of ``images`` / ``targets`` (fat fraction in %) and return the model with its loss curve."""
    targets = np.asarray(targets, dtype=np.float64)
    if len(targets) != len(images) or len(targets) < 2:
        raise ValueError(f"need at least 2 images with one target each, got {len(images)} images, "
                         f"{len(targets)} targets")
    if not np.isfinite(targets).all():
        raise ValueError("targets must be finite")
    device = device or pick_device()
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    mean, std = float(targets.mean()), float(targets.std()) or 1.0
    data = _as_tensor(images, device)
    y = torch.as_tensor((targets - mean) / std, dtype=torch.float32, device=device)
    model = build_model(config)
    model.standardise_targets(mean, std)
    model = model.to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    drop_at = config.iterations - config.lr_drop_iterations
    losses: list[torch.Tensor] = []
    model.train()
    started = time.perf_counter()
    for iteration in range(config.iterations):
        if iteration == drop_at:
            for group in optimiser.param_groups:
                group["lr"] = config.learning_rate / 10
        index = torch.randint(0, len(targets), (config.batch_size,), generator=generator)
        x = augment(_prepare(data[index.to(data.device)], config, device), config, generator)
        with _autocast(device):
            loss = F.mse_loss(model(x, brighten(x, config, generator)).float(), y[index.to(device)])
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        losses.append(loss.detach())
        done = iteration + 1
        if progress is not None and (done % report_every == 0 or done == config.iterations):
            recent = torch.stack(losses[-report_every:]).mean().item()
            progress(done, config.iterations, f"iteration {done}/{config.iterations}, loss {recent:.4f}")
    curve = torch.stack(losses).float().cpu().tolist()
    seconds = time.perf_counter() - started
    model.eval()
    return TrainedRegressor(model=model, config=config, target_mean=mean, target_std=std, losses=curve,
                            seconds=seconds, images_per_second=config.iterations * config.batch_size / seconds,
                            device=device_name(device))


@torch.no_grad()
def predict(trained: TrainedRegressor, images: np.ndarray, *, batch_size: int = 256,
            device: torch.device | None = None) -> np.ndarray:
    """Fat fraction (%) for each of ``images`` (N, H, W) uint8."""
    device = device or next(trained.model.parameters()).device
    model = trained.model.to(device).eval()
    data = _as_tensor(images, device)
    out = []
    for start in range(0, len(data), batch_size):
        x = _prepare(data[start:start + batch_size], trained.config, device)
        with _autocast(device):
            out.append(model(x).float().cpu())
    values = torch.cat(out).numpy().astype(np.float64) if out else np.empty(0)
    return values * trained.target_std + trained.target_mean


def fold_assignment(n: int, folds: int, seed: int) -> np.ndarray:
    """Fold number (0..folds-1) for each of ``n`` items: a seeded permutation dealt round-robin (sizes differ
    by at most one)."""
    if not 2 <= folds <= n:
        raise ValueError(f"cross-validation needs 2 <= folds <= number of subjects, got {folds} folds for {n}")
    assignment = np.empty(n, dtype=np.int64)
    assignment[np.random.default_rng(seed).permutation(n)] = np.arange(n) % folds
    return assignment


@dataclass
class CrossValidation:
    predictions: np.ndarray  # out-of-fold prediction for every item
    folds: np.ndarray
    losses: list[list[float]]  # per fold, per iteration
    seconds: float
    images_per_second: float


def cross_validate(images: np.ndarray, targets: np.ndarray, folds: np.ndarray, config: TrainConfig, *,
                   device: torch.device | None = None, progress: Progress | None = None) -> CrossValidation:
    """Train one model per fold on the other folds and predict the held-out fold."""
    device = device or pick_device()
    n_folds = int(folds.max()) + 1
    predictions = np.full(len(targets), np.nan)
    losses = []
    started = time.perf_counter()
    total = n_folds * config.iterations
    for fold in range(n_folds):
        held_out = folds == fold

        def fold_progress(done: int, _total: int, message: str, fold: int = fold) -> None:
            if progress is not None:
                progress(fold * config.iterations + done, total, f"fold {fold + 1}/{n_folds}: {message}")

        trained = train_regressor(images[~held_out], targets[~held_out], config, device=device,
                                  progress=fold_progress)
        predictions[held_out] = predict(trained, images[held_out], device=device)
        losses.append(trained.losses)
    seconds = time.perf_counter() - started
    return CrossValidation(predictions=predictions, folds=folds, losses=losses, seconds=seconds,
                           images_per_second=total * config.batch_size / seconds)
