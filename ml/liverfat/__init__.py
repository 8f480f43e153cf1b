"""The liver fat paper's regression network in plain PyTorch (no Django): ResNet, training configurations,
training with translation (and optional scaling and brightness) augmentation, prediction, k-fold cross-validation
and checkpoints."""

from .checkpoint import load_checkpoint, save_checkpoint
from .config import CONFIGS, TrainConfig, config_named, parse_overrides
from .resnet import ResNetRegressor, load_imagenet_weights
from .training import (
                       CrossValidation,
                       TrainedRegressor,
                       augment,
                       brighten,
                       cross_validate,
                       device_name,
                       fold_assignment,
                       pick_device,
                       predict,
                       train_regressor,
)

__all__ = ["CONFIGS", "CrossValidation", "ResNetRegressor", "TrainConfig", "TrainedRegressor", "augment",
           "brighten", "config_named", "cross_validate", "device_name", "fold_assignment", "load_checkpoint",
           "load_imagenet_weights", "parse_overrides", "pick_device", "predict", "save_checkpoint",
           "train_regressor"]
