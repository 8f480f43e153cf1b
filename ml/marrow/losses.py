"""Losses of the BMFF paper: L = L_seg + lambda1 L_ROI + lambda2 L_loc.

- L_seg: weighted Dice over the whole box, foreground and background each weighted by the reciprocal of
  its number of voxels (against the class imbalance of a small structure in a large volume);
- L_ROI: Dice of the ROI's segmentation against the labels cut at the same ROI;
- L_loc: squared distance between the predicted and the true ROI centre (normalised coordinates).
"""

from __future__ import annotations

import torch

EPS = 1e-5


def dice_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """1 - soft Dice of the foreground, per sample, averaged."""
    probability = torch.sigmoid(logits.float()).flatten(1)
    target = target.float().flatten(1)
    overlap = (probability * target).sum(1)
    return (1 - (2 * overlap + EPS) / (probability.sum(1) + target.sum(1) + EPS)).mean()


def weighted_dice_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """1 - weighted Dice over foreground and background, weights 1 / (voxels of the class), per sample."""
    p_fg = torch.sigmoid(logits.float()).flatten(1)
    t_fg = target.float().flatten(1)
    numerator = torch.zeros(p_fg.shape[0], device=p_fg.device)
    denominator = torch.zeros_like(numerator)
    for p, t in ((p_fg, t_fg), (1 - p_fg, 1 - t_fg)):
        weight = 1 / t.sum(1).clamp(min=1)
        numerator = numerator + weight * (p * t).sum(1)
        denominator = denominator + weight * (p + t).sum(1)
    return (1 - 2 * numerator / denominator.clamp(min=EPS)).mean()


def centre_loss(predicted: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    return ((predicted.float() - true.float()) ** 2).sum(1).mean()


def crop_targets(target: torch.Tensor, starts: torch.Tensor, size) -> torch.Tensor:
    d, h, w = size
    return torch.stack([target[b, :, z:z + d, y:y + h, x:x + w] for b, (z, y, x) in enumerate(starts.tolist())])


def roi_attention_loss(outputs: dict[str, torch.Tensor], target: torch.Tensor, true_centre: torch.Tensor,
                       lambda_roi: float = 1.0, lambda_loc: float = 1.0) -> tuple[torch.Tensor, dict[str, float]]:
    seg = weighted_dice_loss(outputs["logits"], target)
    roi = dice_loss(outputs["roi_logits"], crop_targets(target, outputs["roi_starts"], outputs["roi_logits"].shape[2:]))
    loc = centre_loss(outputs["centre"], true_centre)
    total = seg + lambda_roi * roi + lambda_loc * loc
    return total, {"seg": seg.item(), "roi": roi.item(), "loc": loc.item()}


def unet_loss(outputs: dict[str, torch.Tensor], target: torch.Tensor, true_centre: torch.Tensor,
              lambda_roi: float = 1.0, lambda_loc: float = 1.0) -> tuple[torch.Tensor, dict[str, float]]:
    """The baseline's loss: the same weighted Dice over the whole box (it has no ROI and no centre)."""
    seg = weighted_dice_loss(outputs["logits"], target)
    return seg, {"seg": seg.item()}
