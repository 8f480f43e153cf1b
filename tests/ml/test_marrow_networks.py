"""Bone marrow networks: boxes, the U-Net and the ROI-attention U-Net, losses and a tiny training run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ml.marrow.attention_unet import BACKGROUND_LOGIT, AttentionUNetConfig, ROIAttentionUNet3D, roi_starts
from ml.marrow.crops import Box, box_from_labels, network_input
from ml.marrow.evaluation import dice_scores
from ml.marrow.losses import centre_loss, dice_loss, weighted_dice_loss
from ml.marrow.training import Case, TrainConfig, load_model, predict_masks, train_region
from ml.marrow.unet import UNet3D, UNetConfig

torch.set_num_threads(1)


def test_a_box_reads_zeros_outside_the_slab_and_pastes_back_what_is_inside():
    volume = np.arange(4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6) + 1
    box = Box((-2, 1, 3), (4, 4, 4))
    patch = box.crop(volume)
    assert patch.shape == (4, 4, 4) and (patch[:2] == 0).all() and (patch[2:, :, 3] == 0).all()
    assert patch[2, 0, 0] == volume[0, 1, 3]
    back = box.paste(patch, volume.shape)
    assert (back[0:2, 1:5, 3:6] == volume[0:2, 1:5, 3:6]).all() and back[2:].sum() == 0


def test_the_box_covers_every_label_with_its_margin_in_multiples_of_eight():
    masks = [np.zeros((20, 30, 30), np.uint8) for _ in range(2)]
    masks[0][3:6, 10:14, 5:9] = 1
    masks[1][5:9, 12:20, 7:10] = 1
    box = box_from_labels(masks, margin=[1, 2, 2])
    assert all(size % 8 == 0 for size in box.size)
    for axis, (low, high) in enumerate([(3, 9), (10, 20), (5, 10)]):
        assert box.start[axis] <= low - [1, 2, 2][axis] and box.start[axis] + box.size[axis] >= high + [1, 2, 2][axis]
    with pytest.raises(ValueError, match="no training label"):
        box_from_labels([np.zeros((4, 4, 4))], margin=[0, 0, 0])


def test_network_input_has_signal_fraction_and_position_channels():
    fat, water = np.full((8, 8, 8), 30.0), np.full((8, 8, 8), 70.0)
    x = network_input(fat, water, Box((0, 0, 0), (8, 8, 8)))
    assert x.shape == (6, 8, 8, 8)
    assert np.allclose(x[2], 0.3) and x[3, 0, 0, 0] == pytest.approx(-7 / 8) and x[3, -1, 0, 0] == pytest.approx(7 / 8)


def test_both_networks_segment_the_whole_box():
    x = torch.randn(2, 6, 16, 16, 24)
    assert UNet3D(UNetConfig(base_channels=4))(x)["logits"].shape == (2, 1, 16, 16, 24)
    net = ROIAttentionUNet3D(AttentionUNetConfig(base_channels=4, roi_size=[8, 8, 8], map_size=[8, 8, 8]))
    out = net(x)
    assert out["logits"].shape == (2, 1, 16, 16, 24) and out["roi_logits"].shape == (2, 1, 8, 8, 8)
    assert out["centre"].shape == (2, 3) and out["centre"].abs().max() <= 1
    assert torch.allclose(out["probability"].sum(1), torch.ones(2))
    z, y, k = out["roi_starts"][0].tolist()
    inside = out["logits"][0, 0, z:z + 8, y:y + 8, k:k + 8]
    assert torch.equal(inside, out["roi_logits"][0, 0])
    assert (out["logits"][0, 0] == BACKGROUND_LOGIT).sum() == 16 * 16 * 24 - 8 ** 3


def test_the_roi_is_aligned_for_every_level_and_stays_inside_the_box():
    starts = roi_starts(torch.tensor([[1.0, -1.0, 0.1]]), (32, 16, 40), [16, 8, 16], 8)
    assert starts.tolist() == [[16, 0, 16]]
    assert (starts % 8 == 0).all()


def test_losses_are_zero_for_a_perfect_answer_and_large_for_the_opposite():
    target = torch.zeros(1, 1, 8, 8, 8)
    target[..., 2:5, 2:5, 2:5] = 1
    perfect, opposite = (target * 2 - 1) * 50, (1 - target * 2) * 50
    assert dice_loss(perfect, target) < 1e-3 and dice_loss(opposite, target) > 0.99
    assert weighted_dice_loss(perfect, target) < 1e-3 and weighted_dice_loss(opposite, target) > 0.99
    assert centre_loss(torch.zeros(2, 3), torch.zeros(2, 3)) == 0
    assert centre_loss(torch.zeros(1, 3), torch.ones(1, 3)) == pytest.approx(3.0)


def _toy_cases(n: int, seed: int) -> list[Case]:
    """A bright 'marrow' block in a noisy slab, jittered a voxel or two between cases."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):
        mask = np.zeros((16, 24, 24), np.uint8)
        z, y, x = 6 + rng.integers(-1, 2), 10 + rng.integers(-2, 3), 10 + rng.integers(-2, 3)
        mask[z:z + 4, y:y + 4, x:x + 4] = 1
        fat = 50 + 5 * rng.standard_normal(mask.shape) + 600.0 * mask
        water = 400 + 5 * rng.standard_normal(mask.shape) - 200.0 * mask
        cases.append(Case(f"toy{i}", fat.astype(np.float32), water.astype(np.float32), mask))
    return cases


@pytest.mark.parametrize("architecture", ["unet", "roi_attention_unet"])
def test_a_tiny_training_run_learns_a_toy_region_and_round_trips_its_checkpoint(architecture):
    cases = _toy_cases(10, seed=1)
    config = TrainConfig(architecture=architecture, base_channels=4, iterations=150, batch_size=2, margin=[2, 2, 2])
    checkpoint = train_region("femoral_head", cases[:8], config)
    assert checkpoint["loss_history"][-1] < checkpoint["loss_history"][0]
    assert checkpoint["statistics"]["volume_mean"] == 64
    model = load_model(checkpoint)
    masks = predict_masks(model, [(c.fat, c.water) for c in cases[8:]])
    assert masks[0].shape == cases[8].mask.shape
    assert min(dice_scores(model, cases[8:]).values()) > 0.7


def test_training_refuses_too_few_labels():
    case = _toy_cases(1, seed=2)[0]
    with pytest.raises(ValueError, match="at least two manual segmentations"):
        train_region("spine", [case], TrainConfig(iterations=1))
    with pytest.raises(ValueError, match="unknown architecture"):
        TrainConfig(architecture="resnet")
