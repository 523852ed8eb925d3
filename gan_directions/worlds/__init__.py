"""Worlds: procedural (and file-backed) image sets with known factors, shared by the VAE module,
GAN training, the factor regressors and the evaluation. See ``registry`` for the names."""

from gan_directions.worlds.registry import (
    DATA_DIR_ENV,
    WORLDS,
    World,
    default_data_dir,
    get_dataset,
    register_world,
    world_names,
)

__all__ = ["DATA_DIR_ENV", "WORLDS", "World", "default_data_dir", "get_dataset",
           "register_world", "world_names"]
