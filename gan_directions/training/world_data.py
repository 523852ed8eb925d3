"""Training images for gandir's StyleGAN2s: a world's images (``gan_directions.worlds``), drawn
uniformly over its factor grid with a seeded generator whose state checkpoints carry."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from gan_directions.worlds import get_dataset
from gan_directions.worlds.grid import GroundTruthDataset

DEFAULT_WORLD = "shapes3d"


def real_batch(dataset: GroundTruthDataset, n: int, rng: np.random.Generator,
               device: str | torch.device = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """(classes int64 [n, F] on the CPU, images float32 [n, 3, 64, 64] in [-1, 1] on
    ``device``) drawn uniformly: the stream of ``dataset.sample`` with the same generator."""
    classes = dataset.sample_factors(n, rng)
    images = dataset.render_tensor(classes, device) * 2.0 - 1.0
    return torch.from_numpy(classes), images


class WorldImageSource:
    """Endless ``real_batch`` images of ``world`` on ``device``, reproducible from ``seed``: the
    factor classes are drawn on the CPU and the images drawn on ``device``, the same bit for bit
    on every device. ``rng_state()`` is the state before the next batch, so a checkpoint resumes
    the stream exactly."""

    def __init__(self, world: str = DEFAULT_WORLD, seed: int = 0,
                 device: str | torch.device = "cpu"):
        self.dataset = get_dataset(world)
        self.rng = np.random.default_rng(seed)
        self.device = torch.device(device)

    def batch(self, n: int) -> torch.Tensor:
        return real_batch(self.dataset, n, self.rng, self.device)[1]

    def rng_state(self) -> dict[str, Any]:
        return self.rng.bit_generator.state

    def set_rng_state(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state
