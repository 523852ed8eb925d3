"""Training images for the built-in StyleGAN2: procedural 3D-Shapes-like scenes, drawn uniformly
over the factor grid with a seeded generator whose state checkpoints carry."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from gan_directions.vae.shapes3d import ProceduralShapes3D


def real_batch(dataset: ProceduralShapes3D, n: int,
               rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(classes int64 [n, 6], images float32 [n, 3, 64, 64] in [-1, 1]) drawn uniformly."""
    classes, images = dataset.sample(n, rng)
    return torch.from_numpy(classes), torch.from_numpy(images * 2.0 - 1.0)


class ShapesImageSource:
    """Endless float32 [N, 3, 64, 64] image tensors in [-1, 1] on ``device``, reproducible from
    ``seed``: the factor classes are drawn on the CPU (the stream of ``real_batch`` with the
    same generator) and the images coloured on ``device``, bit for bit as ``real_batch``
    renders them. ``rng_state()`` is the state before the next batch, so a checkpoint resumes
    the stream exactly."""

    def __init__(self, seed: int = 0, device: str | torch.device = "cpu"):
        self.dataset = ProceduralShapes3D()
        self.rng = np.random.default_rng(seed)
        self.device = torch.device(device)

    def batch(self, n: int) -> torch.Tensor:
        classes = self.dataset.sample_factors(n, self.rng)
        return self.dataset.render_tensor(classes, self.device) * 2.0 - 1.0

    def rng_state(self) -> dict[str, Any]:
        return self.rng.bit_generator.state

    def set_rng_state(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state
