"""The supervised probe refined against the model's own factor reader.

The least-squares probe (``probe.py``, InterFaceGAN's recipe) is the best linear *predictor*
of each attribute, not the direction that *changes* it most cleanly. On models whose factors a
differentiable regressor reads from the image (the built-in StyleGAN2s), each direction d_j is
refined, from the least-squares one, by Adam on

    L_j(d) = −E_j(d) + λ Σ_{k≠j} E_k(d) + μ · max(0, E_j(d₀) − E_j(d)),

where E_k(d) is row j of the effect matrix of ``evaluation.effects``: the mean change of factor
k when sampled latents move ±1 standard deviation of the latent along d, over the mean change
between two independent samples. It is made differentiable by reading the factors from the
regressor's class probabilities (a categorical factor's 0/1 class change becomes the
total-variation distance of its probabilities). λ (``leak_weight``, ``LEAK_WEIGHT`` by
default): at 1 the refined directions still leak as much as the least-squares ones; larger
values buy purity with smaller edits, held above the start's by the last term
(``docs/research/topdis-on-trained-gans.md``). The last term keeps the own
effect at least that of the start d₀ (μ = ``FLOOR_WEIGHT``; E_j(d₀) measured once on
``FLOOR_SAMPLES`` latents): without it, a factor whose start leaks more than it moves (every
edit of ``stylegan2-shapes`` flips its categorical shape reading) is "refined" into an edit
that changes nothing, which no effect-based score should count as a ceiling. Each step draws a
fresh batch of latents from the search seed, never the evaluation's.

Still a supervised ceiling: the labels are the regressor's readings, so it bounds what one
linear direction per factor can do under that reader; it is not a competitor.
"""

from __future__ import annotations

import numpy as np
import torch
from tqdm import tqdm

from gan_directions.discovery.latents import LatentSpace, LatentStats
from gan_directions.discovery.objectives import direction_scales
from gan_directions.evaluation.effects import factor_change
from gan_directions.generators.factor_regressor import factors_from_probabilities

LEAK_WEIGHT = 1.5  # λ of the module docstring
FLOOR_WEIGHT = 20.0  # μ: far above what shrinking a leaky edit gains (λ · leak / own effect)
FLOOR_SAMPLES = 128
LEARNING_RATE = 0.01
BATCH = 32
RESAMPLE_SAMPLES = 512


def factor_changes(before: list[torch.Tensor], after: list[torch.Tensor], kinds: list[str]
                   ) -> torch.Tensor:
    """Differentiable |Δ factor| per sample [N, F] from class probabilities (lists of
    [N, n_f]): the evaluation's change for ordinal and circular factors, the total-variation
    distance of the probabilities for categorical ones."""
    change = factor_change(factors_from_probabilities(before, kinds),
                           factors_from_probabilities(after, kinds),
                           [kind == "circular" for kind in kinds])
    columns = [0.5 * (b - a).abs().sum(dim=1) if kind == "categorical" else change[:, j]
               for j, (a, b, kind) in enumerate(zip(before, after, kinds, strict=True))]
    return torch.stack(columns, dim=1)


class EffectReader:
    """Differentiable effect rows E(d) [F] of one direction on fresh latent batches;
    ``probabilities(images)`` reads images in [-1, 1] (it clamps them itself)."""

    def __init__(self, latents: LatentSpace, stats: LatentStats, probabilities, kinds: list[str],
                 seed: int) -> None:
        self.latents, self.probabilities, self.kinds = latents, probabilities, kinds
        self.layers = stats.layers
        self.covariance = torch.as_tensor(stats.covariance, dtype=torch.float32,
                                          device=latents.device)
        self.rng = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            z, c = latents.sample(RESAMPLE_SAMPLES, self.rng)
            read = probabilities(latents.images(z, c, resolution=None))
            rolled = [p.roll(1, dims=0) for p in read]
            self.resample = factor_changes(read, rolled, kinds).mean(dim=0).clamp_min(1e-6)

    def row(self, direction: torch.Tensor) -> torch.Tensor:
        unit = direction / direction.norm()
        scale = direction_scales(unit[None], self.covariance, self.layers)[0]
        z, c = self.latents.sample(BATCH, self.rng)
        with torch.no_grad():
            base = self.latents.encode(z, c)
            before = self.probabilities(self.latents.decode(base[0], base, resolution=None))
        total = 0.0
        for sign in (1.0, -1.0):
            moved = self.latents.decode(base[0] + sign * scale * unit, base, resolution=None)
            total = total + factor_changes(before, self.probabilities(moved),
                                           self.kinds).mean(dim=0)
        return total / 2 / self.resample


def refine_probe(directions: np.ndarray, latents: LatentSpace, stats: LatentStats,
                 probabilities, kinds: list[str], steps: int, seed: int, quiet: bool = True,
                 leak_weight: float = LEAK_WEIGHT) -> np.ndarray:
    """Unit directions [K, dim]: row j of ``directions`` (the least-squares direction of factor
    j, in the order of ``kinds`` and of what ``probabilities(images)`` returns) refined for
    ``steps`` Adam steps on L_j of the module docstring, λ = ``leak_weight``."""
    reader = EffectReader(latents, stats, probabilities, kinds, seed)
    refined = []
    with tqdm(total=steps * len(directions), disable=quiet, desc="probe refine",
              dynamic_ncols=True) as bar:
        for j, start in enumerate(directions):
            d = torch.tensor(start, dtype=torch.float32, device=latents.device,
                             requires_grad=True)
            with torch.no_grad():
                floor = torch.stack([reader.row(d)[j]
                                     for _ in range(FLOOR_SAMPLES // BATCH)]).mean()
            optimizer = torch.optim.Adam([d], lr=LEARNING_RATE)
            for _ in range(steps):
                effects = reader.row(d)
                loss = (-effects[j] + leak_weight * (effects.sum() - effects[j])
                        + FLOOR_WEIGHT * torch.relu(floor - effects[j]))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                bar.update(1)
            refined.append((d / d.norm()).detach().double().cpu().numpy())
    return np.stack(refined)
