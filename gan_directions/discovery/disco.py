"""DisCo's per-step objective (Ren et al., ICLR 2022): contrast image variations in a learned
encoder's space; directions (the navigator) and encoder descend it together.

One step, as in the published training loop, with B = ``batch``:

1. pick a target direction t uniformly among the K;
2. shift B query latents and N = B positive latents along t, each by its own
   ε ~ N(0, σ²), |ε| >= 0.5 (σ = 6, ``shift_scale``), in units of the search's shift scale;
3. shift 2B negative latents each along a direction drawn uniformly among the other K − 1;
4. render every latent before and after its shift, encode both images, and take the unit
   variations v = normalise(|E(shifted) − E(original)|) (``losses.contrastive.variations``);
5. loss = BCE of the query–key similarities against the flipped targets
   (``contrastive_loss``) + 1 · domination entropy of the query variations.

The negatives carry no gradient (the published code detaches them), so they are rendered and
encoded without one.

Deviations from the paper and its code (github.com/xrenaa/DisCo):

- K directions (``--k``) of the search's orthonormal direction model, started from ``--init``;
  the code uses 64 columns of a full-rank orthogonal matrix started at random
  (``--init random`` gives a random start here);
- ε is in units of the search's shift scale (the fixed unit by default), not raw latent
  units, and small ε of both signs are pushed out to 0.5 (the code's push-out misses the
  negative ones);
- the encoder (``losses.variation_encoder``) has the published layout at a quarter of its
  width and sees images area-resized to ``--recon-size``; the published 64 outputs are kept;
- directions learn at ``--lr`` and the encoder at ``--recon-lr`` (defaults 0.01 and 1e-3,
  sized for hundreds of steps); the code runs one Adam at 1e-4 for both over 70,000 steps;
- the contrastive term is the code's per-key binary cross-entropy on plain cosine
  similarities; the paper writes it in InfoNCE form with a temperature.
"""

from __future__ import annotations

import torch

from gan_directions.discovery.latents import LatentSpace
from gan_directions.losses.contrastive import contrastive_loss, domination_entropy, variations
from gan_directions.losses.variation_encoder import VariationEncoder

SHIFT_SCALE = 6.0  # σ of ε (the published code's shift_scale)
MIN_SHIFT = 0.5  # |ε| is pushed out to at least this
ENTROPY_WEIGHT = 1.0  # λ of the domination loss (the published code)
NEGATIVES_PER_QUERY = 2  # K = 2B negatives (published: B = N = 32, K = 64)
VARIATION_DIM = 64  # the encoder's outputs (published)


def normal_shifts(n: int, rng: torch.Generator, scale: float = SHIFT_SCALE,
                  min_shift: float = MIN_SHIFT) -> torch.Tensor:
    """ε ~ N(0, scale²) pushed out to |ε| >= ``min_shift``, keeping its sign."""
    shift = torch.randn(n, generator=rng) * scale
    sign = torch.where(shift < 0, -1.0, 1.0)
    return torch.where(shift.abs() < min_shift, sign * min_shift, shift)


def other_indices(n: int, k: int, target: int, rng: torch.Generator) -> torch.Tensor:
    """``n`` direction indices drawn uniformly from {0, ..., k − 1} without ``target``."""
    drawn = torch.randint(0, k - 1, (n,), generator=rng)
    return drawn + (drawn >= target).long()


class DisCoTerm:
    """DisCo's loss for the current directions; the encoder is trained with them."""

    def __init__(self, latents: LatentSpace, encoder: VariationEncoder,
                 shift_scale: float = SHIFT_SCALE) -> None:
        self.latents, self.encoder, self.shift_scale = latents, encoder, shift_scale

    def unit_variations(self, n: int, index: torch.Tensor, directions: torch.Tensor,
                        scales: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        """Variations [n, D] of ``n`` fresh latents, latent i shifted along direction
        ``index[i]``."""
        z, c = self.latents.sample(n, rng)
        shift = normal_shifts(n, rng, self.shift_scale).to(z.device)
        index = index.to(z.device)
        with torch.no_grad():
            images = self.latents.images(z, c)
        shifted = self.latents.shifted_images(z, c, directions[index], shift * scales[index])
        return variations(self.encoder(images), self.encoder(shifted))

    def __call__(self, directions: torch.Tensor, scales: torch.Tensor, batch: int,
                 rng: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
        """(loss, logged parts) of one step with ``batch`` queries, as many positives and
        ``NEGATIVES_PER_QUERY``·``batch`` negatives."""
        k = len(directions)
        target = int(torch.randint(0, k, (), generator=rng))
        same = torch.full((2 * batch,), target)
        query, keys = self.unit_variations(2 * batch, same, directions, scales, rng).split(batch)
        with torch.no_grad():
            count = NEGATIVES_PER_QUERY * batch
            negatives = self.unit_variations(count, other_indices(count, k, target, rng),
                                             directions, scales, rng)
        contrast, targets = contrastive_loss(query, keys, negatives)
        entropy = domination_entropy(query)
        flipped = (targets[:, len(keys):] > 0).float().mean()
        return contrast + ENTROPY_WEIGHT * entropy, {
            "direction": target, "contrast": float(contrast.detach()),
            "entropy": float(entropy.detach()), "flipped": float(flipped),
        }


def disco_term(latents: LatentSpace, size: int, seed: int) -> DisCoTerm:
    """DisCo's term with a fresh, seeded encoder on ``size``² images. Its variation space keeps
    the published 64 dimensions whatever K: with as few dimensions as directions (K = 6),
    random variations are similar enough (mean cosine 2/π, widely spread) that flipping hard
    negatives snowballs and every variation collapses onto one."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        encoder = VariationEncoder(VARIATION_DIM, latents.generator.img_channels, size)
    return DisCoTerm(latents, encoder.to(latents.device))
