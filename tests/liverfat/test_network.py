"""The network code alone (ml/liverfat, no Django)."""

import numpy as np
import pytest
import torch

from ml.liverfat import (
    CONFIGS,
    ResNetRegressor,
    TrainConfig,
    augment,
    brighten,
    config_named,
    cross_validate,
    fold_assignment,
    load_checkpoint,
    load_imagenet_weights,
    parse_overrides,
    predict,
    save_checkpoint,
    train_regressor,
)
from tests.liverfat.conftest import TINY, liver_image


def cohort(n, seed=0):
    rng = np.random.default_rng(seed)
    ff = rng.uniform(1, 30, n)
    return np.stack([liver_image(value, rng) for value in ff]), ff


@pytest.mark.parametrize(("depth", "parameters"), [(18, 11.17e6), (34, 21.28e6), (50, 23.50e6)])
def test_resnets_have_the_published_trunks_and_one_output(depth, parameters):
    model = ResNetRegressor(depth)
    count = sum(p.numel() for p in model.parameters())
    assert count == pytest.approx(parameters, rel=1e-3)  # torchvision's trunk minus its 1000-class head
    assert model(torch.zeros(2, 1, 376, 176)).shape == (2,)


def test_unknown_depth_or_head_is_refused():
    with pytest.raises(ValueError, match="depth must be one of"):
        ResNetRegressor(101)
    with pytest.raises(ValueError, match="head must be one of"):
        ResNetRegressor(18, head="mean")
    with pytest.raises(ValueError, match="one-channel"):
        ResNetRegressor(18, in_channels=3, head="attention")
    with pytest.raises(ValueError, match="head must be one of"):
        TrainConfig(head="mean")


def test_attention_head_reads_the_input_where_its_map_points():
    model = ResNetRegressor(18, width=8, head="attention").eval()
    assert not hasattr(model, "layer4") and not hasattr(model, "fc")  # the last stage is not built
    model.standardise_targets(mean=5.0, std=2.0)
    image = torch.full((2, 1, 64, 32), 0.2)  # 10 % fat everywhere
    weights = model.attention_map(image)
    assert weights.shape == (2, 64, 32) and torch.allclose(weights.sum((1, 2)), torch.ones(2))
    with torch.no_grad():  # an even map at the start: (10 - 5) / 2 standardised
        assert torch.allclose(model(image), torch.full((2,), 2.5), atol=1e-5)
    with pytest.raises(ValueError, match="only the attention head"):
        ResNetRegressor(18, width=8).attention_map(image)


def test_imagenet_weights_load_from_a_local_file_into_one_grey_channel(tmp_path):
    rgb = ResNetRegressor(18, in_channels=3)
    state = {k: v for k, v in rgb.state_dict().items()}
    state["fc.weight"] = torch.zeros(1000, 512)  # a classification head the regressor drops
    torch.save(state, tmp_path / "resnet18.pth")
    grey = ResNetRegressor(18)
    assert load_imagenet_weights(grey, tmp_path / "resnet18.pth") == []
    attention = ResNetRegressor(18, head="attention")  # the trunk loads; the read-out starts fresh
    assert load_imagenet_weights(attention, tmp_path / "resnet18.pth") == []
    assert torch.equal(attention.layer3[1].conv2.weight, rgb.layer3[1].conv2.weight)
    assert torch.allclose(grey.conv1.weight, rgb.conv1.weight.sum(1, keepdim=True) / 1)
    assert torch.equal(grey.layer3[0].conv1.weight, rgb.layer3[0].conv1.weight)
    with pytest.raises(FileNotFoundError, match="no pretrained weights"):
        load_imagenet_weights(grey, tmp_path / "missing.pth")
    with pytest.raises(ValueError, match="does not fit a ResNet50"):
        load_imagenet_weights(ResNetRegressor(50), tmp_path / "resnet18.pth")


def test_paper_configuration_is_the_papers():
    paper = CONFIGS["paper"]
    assert (paper.depth, paper.width, paper.batch_size, paper.iterations, paper.learning_rate,
            paper.lr_drop_iterations, paper.max_shift, paper.max_zoom, paper.head) == (
        50, 64, 32, 6000, 1e-4, 1000, 0.04, 0.0, "pool")
    shorter = config_named("paper", iterations=600)
    assert (shorter.iterations, shorter.lr_drop_iterations) == (600, 100)  # the drop keeps its share
    with pytest.raises(ValueError, match="unknown configuration keys"):
        config_named("quick", epochs=3)
    with pytest.raises(ValueError, match="lr_drop_iterations"):
        TrainConfig(iterations=10, lr_drop_iterations=20)


def test_command_line_overrides_are_read_as_json_where_they_parse():
    assert parse_overrides(["iterations=20", "max_zoom=0.1", "head=attention", "pretrained=/w/r50.pth"]) == {
        "iterations": 20, "max_zoom": 0.1, "head": "attention", "pretrained": "/w/r50.pth"}
    assert config_named("quick", **parse_overrides(["head=pool", "iterations=400"])).head == "pool"
    with pytest.raises(ValueError, match="expected KEY=VALUE"):
        parse_overrides(["iterations"])


def body_centroid(batch):
    rows, cols = torch.meshgrid(torch.arange(batch.shape[2]), torch.arange(batch.shape[3]), indexing="ij")
    mass = batch.sum((1, 2, 3))
    return (batch[:, 0] * rows).sum((1, 2)) / mass, (batch[:, 0] * cols).sum((1, 2)) / mass


def test_augmentation_translates_the_paper_way_and_scales_when_asked():
    image = torch.zeros(1, 1, 40, 80)
    image[..., 10:30, 20:60] = 1.0  # a body of 800 pixels, centred
    batch = image.repeat(64, 1, 1, 1)
    assert torch.equal(augment(batch, TrainConfig(max_shift=0.0), torch.Generator().manual_seed(0)), batch)

    shifted = augment(batch, TrainConfig(max_shift=0.1), torch.Generator().manual_seed(0))
    assert torch.equal(shifted.sum((1, 2, 3)), batch.sum((1, 2, 3)))  # whole pixels: the body only moves
    rows, cols = body_centroid(shifted)
    assert rows.min() < 17 and rows.max() > 22 and cols.min() < 34 and cols.max() > 45  # up to 4 and 8 pixels

    zoomed = augment(batch, TrainConfig(max_shift=0.0, max_zoom=0.3), torch.Generator().manual_seed(0))
    area = zoomed.sum((1, 2, 3))
    assert area.min() < 0.7 * 800 and area.max() > 1.3 * 800  # grid scaled by 0.7-1.3: area x 0.59-2.04
    rows, cols = body_centroid(zoomed)
    assert torch.allclose(rows, torch.full_like(rows, 19.5), atol=0.1)  # about the centre
    assert torch.allclose(cols, torch.full_like(cols, 39.5), atol=0.1)
    again = augment(batch, TrainConfig(max_shift=0.0, max_zoom=0.3), torch.Generator().manual_seed(0))
    assert torch.equal(zoomed, again)  # seeded
    with pytest.raises(ValueError, match="max_zoom"):
        TrainConfig(max_zoom=0.5)


def test_brightness_jitter_is_for_the_attention_trunk_only_and_stays_in_range():
    generator = torch.Generator().manual_seed(0)
    x = torch.full((256, 1, 4, 4), 0.3)
    assert brighten(x, TrainConfig(head="pool", max_brightness=1.0), generator) is None
    assert brighten(x, TrainConfig(head="attention"), generator) is None
    view = brighten(x, TrainConfig(head="attention", max_brightness=1.0), generator)
    factors = view[:, 0, 0, 0] / 0.3
    assert factors.min() >= 0.5 - 1e-6 and factors.max() <= 2 + 1e-6  # log-uniform in [1/2, 2]
    assert factors.min() < 0.6 and factors.max() > 1.8 and (factors < 1).float().mean() == pytest.approx(0.5, abs=0.1)
    assert torch.equal(x, torch.full((256, 1, 4, 4), 0.3))  # the image read off is unchanged
    assert brighten(torch.full((64, 1, 2, 2), 0.8), TrainConfig(head="attention", max_brightness=1.0),
                    generator).max() <= 1.0  # clipped to the input range
    with pytest.raises(ValueError, match="max_brightness"):
        TrainConfig(max_brightness=-0.1)


def test_training_reduces_the_loss_and_learns_the_liver_fat():
    torch.set_num_threads(2)
    images, ff = cohort(60)
    config = config_named("quick", **TINY | {"iterations": 150, "learning_rate": 3e-3})
    seen = []
    trained = train_regressor(images[:45], ff[:45], config, progress=lambda d, t, m: seen.append((d, t)))
    assert len(trained.losses) == 150
    assert np.mean(trained.losses[-20:]) < 0.5 * np.mean(trained.losses[:20])
    assert seen[-1] == (150, 150)
    predicted = predict(trained, images[45:])
    assert np.corrcoef(predicted, ff[45:])[0, 1] > 0.8


def test_attention_head_learns_to_read_the_liver_and_keeps_rising_beyond_the_training_range():
    torch.set_num_threads(2)
    rng = np.random.default_rng(1)
    ff = rng.uniform(1, 12, 48)
    images = np.stack([liver_image(value, rng) for value in ff])
    config = config_named("quick", **TINY | {"iterations": 150, "learning_rate": 3e-3, "head": "attention"})
    trained = train_regressor(images, ff, config)
    fatter = np.stack([liver_image(value, rng) for value in (20.0, 30.0)])
    predicted = predict(trained, fatter)
    assert np.abs(predicted - [20, 30]).max() < 2.5  # well beyond the highest training value, 12 %
    weights = trained.model.attention_map(torch.from_numpy(fatter).unsqueeze(1).float() / 255)
    assert weights[:, 8:28, 6:26].sum((1, 2)).min() > 0.9  # the liver block: 20 % of the image


def test_a_raising_progress_callback_stops_training():
    images, ff = cohort(10)

    def cancel(done, total, message):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_regressor(images, ff, config_named("quick", **TINY), progress=cancel)


def test_folds_are_balanced_seeded_and_cover_everyone():
    folds = fold_assignment(23, 10, seed=3)
    assert sorted(np.bincount(folds)) == [2] * 7 + [3] * 3
    assert np.array_equal(folds, fold_assignment(23, 10, seed=3))
    assert not np.array_equal(folds, fold_assignment(23, 10, seed=4))
    with pytest.raises(ValueError, match="folds"):
        fold_assignment(5, 10, seed=0)


def test_cross_validation_predicts_each_item_with_the_model_not_trained_on_it():
    images, ff = cohort(20)
    folds = fold_assignment(20, 4, seed=0)
    result = cross_validate(images, ff, folds, config_named("quick", **TINY))
    assert np.isfinite(result.predictions).all() and len(result.losses) == 4


@pytest.mark.parametrize("head", ["pool", "attention"])
def test_checkpoint_round_trip_gives_the_same_predictions(tmp_path, head):
    images, ff = cohort(12)
    trained = train_regressor(images, ff, config_named("quick", **TINY | {"head": head}))
    path = save_checkpoint(tmp_path / "m" / "model.pt", trained, data_fingerprint="abc", git_revision="1234")
    loaded, meta = load_checkpoint(path)
    assert meta["data_fingerprint"] == "abc" and meta["git_revision"] == "1234"
    assert np.allclose(predict(loaded, images), predict(trained, images), atol=1e-5)
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(Exception):  # noqa: B017 - torch's unpickling error types vary
        load_checkpoint(tmp_path / "bad.pt")
