"""The per-step objectives of the trained searches: TopDis and Voynov-Babenko.

One step of each, top to bottom:

Voynov-Babenko (``ReconstructorTerm``): draw per-sample direction indices k and shifts
ε ~ U[−6, 6] (|ε| >= 0.5, in standard deviations of the latent along the direction), render
each latent before and after the shift, and score the reconstructor's guesses of (k, ε) with
CE + 0.25·L1. Directions and reconstructor both descend this loss.

TopDis (``TopDisTerm``): pick one direction d (uniformly), draw a batch of latents, and shift
every latent along d by the Gaussian-CDF shift of Balabin et al. (2024): the projection
t = <w − mean, d>/std is treated as N(0, 1) and moved to Φ⁻¹(Φ(t) ± C), C = 1/8, so the shifted
batch keeps the latent distribution. Render both batches, embed them (downsampled pixels, or
seeded random VGG-like features), and
take the RTD between the paired clouds. A disentangled direction acts on the images like a
group action that preserves the batch's topology, so its RTD is small. RTD alone would favour
directions the image ignores (RTD = 0), so the default TopDis objective adds the reconstructor
term: γ·RTD + λ·(CE + 0.25·L1) (+ an optional GMG term on the paired clouds).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F

from gan_directions.discovery.latents import LatentSpace
from gan_directions.losses.reconstructor import Reconstructor, reconstructor_loss, sample_shifts


def embed_pixels(images: torch.Tensor, size: int | None) -> torch.Tensor:
    """Flattened images, area-downsampled to ``size``×``size`` first (None = full size)."""
    if size is not None and images.shape[-1] > size:
        images = F.interpolate(images, size=(size, size), mode="area")
    return images.flatten(1)


def direction_scales(directions: torch.Tensor, covariance: torch.Tensor) -> torch.Tensor:
    """Standard deviation of the latent along each unit direction: sqrt(dᵀ Σ d) [K]."""
    return torch.einsum("ki,ij,kj->k", directions, covariance, directions).clamp_min(1e-12).sqrt()


class ReconstructorTerm:
    """Voynov & Babenko's game: the reconstructor must recover (k, ε) from an image pair."""

    def __init__(self, latents: LatentSpace, reconstructor: Reconstructor,
                 max_shift: float = 6.0, min_shift: float = 0.5) -> None:
        self.latents, self.reconstructor = latents, reconstructor
        self.max_shift, self.min_shift = max_shift, min_shift

    def __call__(self, directions: torch.Tensor, scales: torch.Tensor, batch: int,
                 rng: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
        index, shift = sample_shifts(batch, directions.shape[0], rng,
                                     self.max_shift, self.min_shift)
        z = self.latents.sample_z(batch, rng)
        device = z.device
        index, shift = index.to(device), shift.to(device)
        with torch.no_grad():
            images = self.latents.images(z)
        shifted = self.latents.shifted_images(
            z, directions[index], shift * scales[index]
        )
        logits, predicted = self.reconstructor(images, shifted)
        return reconstructor_loss(logits, predicted, index, shift)


class TopDisTerm:
    """RTD between a latent batch's images and its images after a TopDis shift along one
    direction (valid pairs only)."""

    def __init__(self, latents: LatentSpace, rtd_loss, shift_fn, C: float = 1 / 8,
                 embed: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 gmg_loss=None) -> None:
        self.latents, self.rtd_loss, self.shift_fn = latents, rtd_loss, shift_fn
        self.C, self.gmg_loss = C, gmg_loss
        self.embed = embed if embed is not None else partial(embed_pixels, size=32)

    def __call__(self, direction: torch.Tensor, center: torch.Tensor, scale: torch.Tensor,
                 batch: int, rng: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(RTD loss, GMG loss or None) for one direction [dim]."""
        z = self.latents.sample_z(batch, rng)
        sign = 1 if torch.rand((), generator=rng) < 0.5 else -1
        base = self.latents.encode(z)
        shifted, valid = self.shift_fn(base[0], direction, C=self.C, sign=sign,
                                       center=center, scale=scale)
        with torch.no_grad():
            x = self.embed(self.latents.images(z[valid]))
        valid_base = (base[0][valid], None if base[1] is None else base[1][valid])
        y = self.embed(self.latents.decode(shifted[valid], valid_base))
        rtd = self.rtd_loss(x, y)
        gmg = self.gmg_loss(x, y) if self.gmg_loss is not None else None
        return rtd, gmg
