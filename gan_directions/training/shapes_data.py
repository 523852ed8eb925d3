"""Training images for the built-in StyleGAN2: procedural 3D-Shapes-like scenes, drawn uniformly
over the factor grid with a seeded generator whose state checkpoints carry."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
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
    """Endless float32 [N, 3, 64, 64] image tensors in [-1, 1], reproducible from ``seed``.

    With ``prefetch`` the next batch is drawn on a worker thread while the caller trains on this
    one (the renderer is numpy, which releases the GIL). The batches are the same either way:
    ``rng_state()`` is the state before the first batch not yet handed out, so a checkpoint
    resumes the stream exactly.
    """

    def __init__(self, seed: int = 0, prefetch: bool = False):
        self.dataset = ProceduralShapes3D()
        self.rng = np.random.default_rng(seed)
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="shapes") if prefetch else None
        self._pending: tuple[int, Future] | None = None

    def _draw(self, n: int) -> tuple[dict[str, Any], torch.Tensor]:
        state = self.rng.bit_generator.state
        return state, real_batch(self.dataset, n, self.rng)[1]

    def batch(self, n: int) -> torch.Tensor:
        if self._worker is None:
            return self._draw(n)[1]
        if self._pending is not None and self._pending[0] != n:
            self.set_rng_state(self.rng_state())
        _, images = self._pending[1].result() if self._pending else self._draw(n)
        self._pending = (n, self._worker.submit(self._draw, n))
        return images

    def rng_state(self) -> dict[str, Any]:
        if self._pending is not None:
            return self._pending[1].result()[0]
        return self.rng.bit_generator.state

    def set_rng_state(self, state: dict[str, Any]) -> None:
        if self._pending is not None:
            self._pending[1].result()
            self._pending = None
        self.rng.bit_generator.state = state
