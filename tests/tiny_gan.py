"""A GAN-training run and factor regressor small enough for unit tests."""

import torch

from gan_directions.generators.factor_regressor import FactorRegressor
from gan_directions.training.gan import GANTrainConfig
from gan_directions.training.regressor import RegressorTrainConfig

TINY = GANTrainConfig(z_dim=16, w_dim=16, mapping_layers=2, channel_base=64, channel_max=16,
                      batch=4, r1_interval=2, steps=4)
TINY_REGRESSOR = RegressorTrainConfig(steps=2, batch=8, width=4, features=8)


def tiny_regressor(seed: int = 0) -> FactorRegressor:
    """An untrained regressor of ``TINY_REGRESSOR``'s size, its weights drawn from ``seed``."""
    torch.manual_seed(seed)
    return FactorRegressor(TINY_REGRESSOR.model_config())
