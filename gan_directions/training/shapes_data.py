"""Training images for the built-in StyleGAN2: procedural 3D-Shapes-like scenes, drawn uniformly
over the factor grid with a seeded generator whose state checkpoints carry."""

from __future__ import annotations

from typing import Any

import numpy as np

from gan_directions.vae.shapes3d import ProceduralShapes3D


class ShapesImageSource:
    """Endless batches of float32 [N, 3, 64, 64] images in [-1, 1], reproducible from ``seed``."""

    def __init__(self, seed: int = 0):
        self.dataset = ProceduralShapes3D()
        self.rng = np.random.default_rng(seed)

    def batch(self, n: int) -> np.ndarray:
        _, images = self.dataset.sample(n, self.rng)
        return images * 2.0 - 1.0

    def rng_state(self) -> dict[str, Any]:
        return self.rng.bit_generator.state

    def set_rng_state(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state
