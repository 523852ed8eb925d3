"""Edit-size diagnostics: how much each direction changes the image, and how much RTD it costs
per unit of that change.

For direction k with scale s_k (the latent's std along it), a fixed seeded batch of latents is
moved by ±``alpha``·s_k (default ±2 std) and rendered at the search resolution (full
resolution unless ``--search-res`` lowered it; full-size renders of every direction would cost
more than a short search on large models). Per direction:

- ``image_change``: mean over the batch and both signs of the RMS pixel difference between the
  edited and the original image (pixels in [-1, 1]);
- ``rtd``: mean over both signs of the search's RTD between the embedded original and edited
  batches;
- ``rtd_per_change``: rtd / image_change.

An objective that lowers RTD by shrinking edits shows up here as a falling image change and a
rising RTD per unit of change.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from gan_directions.discovery.latents import LatentSpace

EDIT_ALPHA = 2.0
EDIT_SAMPLES = 16


@torch.no_grad()
def edit_diagnostics(latents: LatentSpace, directions: np.ndarray, scales: np.ndarray,
                     embed: Callable[[torch.Tensor], torch.Tensor], rtd_loss,
                     alpha: float = EDIT_ALPHA, samples: int = EDIT_SAMPLES, seed: int = 0
                     ) -> dict[str, list[float]]:
    """Per-direction ``image_change``, ``rtd`` and ``rtd_per_change`` lists (see the module)."""
    result: dict[str, list[float]] = {"image_change": [], "rtd": [], "rtd_per_change": []}
    for original, edits in edited_batches(latents, directions, scales, alpha, samples, seed):
        x = embed(original)
        changes = [rms_change(original, edited) for edited in edits]
        rtds = [float(rtd_loss(x, embed(edited))) for edited in edits]
        change, rtd = float(np.mean(changes)), float(np.mean(rtds))
        result["image_change"].append(round(change, 6))
        result["rtd"].append(round(rtd, 6))
        result["rtd_per_change"].append(round(rtd / change, 6) if change > 0 else None)
    return result


@torch.no_grad()
def image_changes(latents: LatentSpace, directions: np.ndarray, scales: np.ndarray,
                  alpha: float = EDIT_ALPHA, samples: int = EDIT_SAMPLES, seed: int = 0
                  ) -> np.ndarray:
    """Each direction's ``image_change`` (as ``edit_diagnostics``, without RTD) [K]."""
    return np.array([np.mean([rms_change(original, edited) for edited in edits])
                     for original, edits in edited_batches(latents, directions, scales, alpha,
                                                           samples, seed)])


def rms_change(original: torch.Tensor, edited: torch.Tensor) -> float:
    """Mean over the batch of the RMS pixel difference."""
    return float((edited - original).pow(2).flatten(1).mean(dim=1).sqrt().mean())


def edited_batches(latents: LatentSpace, directions: np.ndarray, scales: np.ndarray,
                   alpha: float, samples: int, seed: int):
    """Per direction: (the seeded batch's images, [images at +alpha·s_k, at −alpha·s_k])."""
    rng = torch.Generator().manual_seed(seed)
    z, c = latents.sample(samples, rng)
    base = latents.encode(z, c)
    original = latents.synthesize(base[1]) if base[1] is not None else latents.images(z, c)
    d = torch.as_tensor(np.asarray(directions), dtype=torch.float32, device=z.device)
    for k in range(len(d)):
        yield original, [latents.decode(base[0] + sign * alpha * float(scales[k]) * d[k], base)
                         for sign in (1.0, -1.0)]
