"""The per-step objectives of the trained searches: TopDis and Voynov-Babenko.

One step of each, top to bottom:

Voynov-Babenko (``ReconstructorTerm``): draw per-sample direction indices k and shifts
ε ~ U[−6, 6] (|ε| >= 0.5, in standard deviations of the latent along the direction), render
each latent before and after the shift, and score the reconstructor's guesses of (k, ε) with
CE + 0.25·L1. Directions and reconstructor both descend this loss.

TopDis (``TopDisTerm``): pick one direction d (uniformly), draw a batch of latents, and shift
every latent along d by the Gaussian-CDF shift of Balabin et al. (2024): the projection
t = <w − mean, d>/std is treated as N(0, 1) and moved to Φ⁻¹(Φ(t) ± C), C = 1/8, so the shifted
batch keeps the latent distribution. Render both batches, embed them (downsampled pixels and
their squares by default, pixels alone, or seeded random VGG-like features), and take the RTD
between the paired clouds. A disentangled direction acts on the images like a group action
that preserves the batch's topology, so its RTD is small.

Ways to win without finding better directions, and what closes them:

- **Shrinking edits.** The shift is sized by a constant of the step (no gradient): by default
  one fixed unit for every direction (``search.fixed_unit``), else the direction's own std
  sqrt(dᵀΣd). With a per-direction std, turning towards low-variance directions still shrinks
  the edits, which is why the fixed unit is the default.
- **Weaker image responses.** A fixed latent shift along a direction the image barely
  responds to makes a small edit with a small RTD. By default (the search's ``edit_floor``,
  0.5) a step whose relative image change falls below half the direction's change at the
  start pays a hinge penalty 10·(1 − change/floor). Without it, TopDis on the trained
  ``stylegan2-shapes`` halved its edits within 200 steps; on synthetic-shapes the floor is
  never reached. Optionally (``normalize``) the loss is RTD per unit of image change:
  RTD / (mean_i ‖y_i − x_i‖ / q₀.₉(‖x_i − x_j‖)) on the images' pixels, both sides
  dimensionless; it is off by default because it lowered recovery on synthetic-shapes (it
  rewards large image changes, e.g. mixing in position), as does a floor of 0.8.
- **Global free riders.** An edit that is the same on every image (brightness, a colour cast)
  keeps all pixel distances, so its pixel RTD is 0. The default embedding therefore appends the
  squared pixels (``embed_pixels_and_squares``): x + b moves x² by 2b·x, a different change
  for every image. Seeded random VGG-like features also see such edits.

RTD alone would still favour directions the image ignores, so the default TopDis objective
adds the reconstructor term: γ·RTD + λ·(CE + 0.25·L1) (+ an optional GMG term).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F

from gan_directions.discovery.latents import LatentSpace
from gan_directions.losses.reconstructor import Reconstructor, reconstructor_loss, sample_shifts

MIN_POINTS = 3  # RTD needs at least 3 points per cloud
MIN_CHANGE = 1e-3  # relative change below which RTD is not divided further


def embed_pixels(images: torch.Tensor, size: int | None) -> torch.Tensor:
    """Flattened images, area-downsampled to ``size``×``size`` first (None = full size)."""
    if size is not None and images.shape[-1] > size:
        images = F.interpolate(images, size=(size, size), mode="area")
    return images.flatten(1)


def embed_pixels_and_squares(images: torch.Tensor, size: int | None) -> torch.Tensor:
    """Downsampled pixels x and their squares x², side by side: [N, 2·C·size²].

    The squares keep pixel distances' geometry in the first half and make edits that are the
    same on every image visible: x + b moves x² by 2b·x, which differs between images, so the
    pairwise distances (and RTD) change.
    """
    pixels = embed_pixels(images, size)
    return torch.cat([pixels, pixels.square()], dim=1)


def direction_scales(directions: torch.Tensor, covariance: torch.Tensor,
                     layers: int = 1) -> torch.Tensor:
    """Standard deviation of the latent along each unit direction: sqrt(dᵀ Σ d) [K].

    With ``layers`` > 1 (W+), Σ is block-diagonal with ``covariance`` on each of the layers'
    blocks of d, and dᵀΣd = Σ_l d_lᵀ covariance d_l.
    """
    d = directions.reshape(len(directions), layers, -1)
    return torch.einsum("kli,ij,klj->k", d, covariance, d).clamp_min(1e-12).sqrt()


def relative_change(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean paired change mean_i ‖y_i − x_i‖ over the 0.9-quantile of x's pairwise distances
    (the same scale RTD normalises by; the scale carries no gradient)."""
    with torch.no_grad():
        spread = torch.quantile(torch.cdist(x, x).flatten(), 0.9).clamp_min(1e-12)
    return (y - x).norm(dim=1).mean() / spread


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
        z, c = self.latents.sample(batch, rng)
        device = z.device
        index, shift = index.to(device), shift.to(device)
        with torch.no_grad():
            images = self.latents.images(z, c)
        shifted = self.latents.shifted_images(z, c, directions[index], shift * scales[index])
        logits, predicted = self.reconstructor(images, shifted)
        return reconstructor_loss(logits, predicted, index, shift)


@dataclass
class TopDisValue:
    """One TopDis evaluation: the loss (RTD, or RTD per unit of change), its parts, GMG."""

    loss: torch.Tensor
    rtd: float
    change_tensor: torch.Tensor
    gmg: torch.Tensor | None

    @property
    def change(self) -> float:
        return float(self.change_tensor.detach())


class TopDisTerm:
    """RTD between a latent batch's images and its images after a TopDis shift along one
    direction (valid pairs only), optionally per unit of relative image change."""

    def __init__(self, latents: LatentSpace, rtd_loss, shift_fn, C: float = 1 / 8,
                 embed: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 gmg_loss=None, normalize: bool = False) -> None:
        self.latents, self.rtd_loss, self.shift_fn = latents, rtd_loss, shift_fn
        self.C, self.gmg_loss, self.normalize = C, gmg_loss, normalize
        self.embed = embed if embed is not None else partial(embed_pixels, size=32)

    def __call__(self, direction: torch.Tensor, center: torch.Tensor, scale: torch.Tensor,
                 batch: int, rng: torch.Generator) -> TopDisValue | None:
        """The TopDis value for one direction [dim]; None when the shift leaves fewer than
        3 valid latents (RTD needs 3 points; this happens with small batches)."""
        return self.values(direction[None], center, scale.reshape(1), batch, rng)[0]

    def values(self, directions: torch.Tensor, center: torch.Tensor, scales: torch.Tensor,
               batch: int, rng: torch.Generator, changes: list[float] | None = None
               ) -> list[TopDisValue | None]:
        """The TopDis values of several directions [n, dim] on one latent batch and one shift
        sign. Each value equals the single-direction call made with the same ``rng`` state;
        the RTD barcodes of all directions are computed together.

        ``changes`` (one per direction): the shift of each direction is stretched (by a
        factor without gradient, within [1/4, 4]) so that its relative image change on this
        batch is that value; a first pass without gradient measures the change at the
        nominal shift. RTD is then compared at a fixed edit size, and neither shrinking nor
        growing the edit can lower it."""
        z, c = self.latents.sample(batch, rng)
        sign = 1 if torch.rand((), generator=rng) < 0.5 else -1
        base = self.latents.encode(z, c)
        with torch.no_grad():
            all_images = self.latents.images(z, c)
        shifts: list[tuple[torch.Tensor, torch.Tensor] | None] = []  # (x, y) images per direction
        for index, (direction, scale) in enumerate(zip(directions, scales, strict=True)):
            shifted, valid = self.shift_fn(base[0], direction, C=self.C, sign=sign,
                                           center=center, scale=scale.detach())
            if int(valid.sum()) < MIN_POINTS:
                shifts.append(None)
                continue
            keep = tuple(None if part is None else part[valid] for part in base)
            x_images = all_images[valid]
            if changes is not None:
                displacement = shifted - base[0]
                factor = self.stretch(displacement[valid], keep, x_images, changes[index])
                shifted = base[0] + factor * displacement
            shifts.append((x_images, self.latents.decode(shifted[valid], keep)))
        pairs = [(self.embed(x), self.embed(y)) for x, y in filter(None, shifts)]
        values = iter(zip(pairs, self.rtd_loss.many(pairs) if pairs else [], strict=True))
        found: list[TopDisValue | None] = []
        for images in shifts:
            if images is None:
                found.append(None)
                continue
            (x, y), rtd = next(values)
            change = relative_change(images[0].flatten(1), images[1].flatten(1))
            loss = rtd / change.clamp_min(MIN_CHANGE) if self.normalize else rtd
            gmg = self.gmg_loss(x, y) if self.gmg_loss is not None else None
            found.append(TopDisValue(loss, float(rtd.detach()), change, gmg))
        return found

    @torch.no_grad()
    def stretch(self, displacement: torch.Tensor, keep: tuple, x_images: torch.Tensor,
                change: float) -> float:
        """The factor (within [1/4, 4]) by which ``displacement`` [valid, dim] must be
        stretched for the relative image change of the valid latents to be about ``change``
        (the change is close to linear in small shifts)."""
        moved = self.latents.decode(keep[0] + displacement, keep)
        measured = float(relative_change(x_images.flatten(1), moved.flatten(1)))
        return min(max(change / max(measured, 1e-12), 0.25), 4.0)
