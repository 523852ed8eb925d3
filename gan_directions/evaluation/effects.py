"""The direction × factor effect matrix of a model with known factors.

E[k, f] = mean over samples and over the two signs of |Δ factor f| when the latents move
±``alpha`` standard deviations along direction k, in the direction's own space (z, w, or w+ on
its layer range, by the one edit rule of ``directions.edited_ws``), divided by the mean
|Δ factor f| between two independent samples. So E is in units of "resampling the factor"
(1: the direction changes f as much as drawing a new sample does), comparable across factors
of different kinds. Factors are in [0, 1]; circular factors (period 1) take the shorter way
round; for categorical factors the change is 1 when the class changes, else 0.

Factors of edited latents come from the model's known factors (``capabilities``): ``of_ws``
when the model reads the factors of any ws (``stylegan2-shapes``: its regressor on the image;
``synthetic-shapes``: the true factors of w = z), else ``values(z)``, which only serves
z-space directions.
"""

from __future__ import annotations

import numpy as np
import torch

from gan_directions.directions import DirectionSet, edited_ws
from gan_directions.errors import InvalidInputError
from gan_directions.generators.capabilities import KnownFactors, known_factors


def measurable(known: KnownFactors | None, directions: DirectionSet) -> bool:
    """Whether the effects of ``directions`` can be read with these known factors."""
    return known is not None and (known.of_ws is not None or directions.space == "z")


def factor_change(before: torch.Tensor, after: torch.Tensor, circular: list[bool],
                  categorical: list[bool] | None = None) -> torch.Tensor:
    """|Δ factor| per sample [N, F] (see the module docstring for each kind of factor)."""
    delta = (after - before).abs()
    wrap = torch.tensor(circular, dtype=torch.bool, device=delta.device)
    delta = torch.where(wrap, torch.minimum(delta, 1 - delta), delta)
    if categorical is not None:
        nominal = torch.tensor(categorical, dtype=torch.bool, device=delta.device)
        delta = torch.where(nominal, (delta > 1e-6).to(delta.dtype), delta)
    return delta


@torch.no_grad()
def effect_matrix(generator, directions: DirectionSet, alpha: float = 1.0, samples: int = 256,
                  seed: int = 0, truncation_psi: float = 1.0, batch: int = 128) -> np.ndarray:
    """E [K, F] of the module docstring, from ``samples`` seeded latents."""
    directions.check_fits(generator)
    known = known_factors(generator)
    if not measurable(known, directions):
        raise InvalidInputError("factor effects need a model with known factors (of ws for "
                                "directions in w or w+)")
    z_all = torch.randn(samples, generator.z_dim, generator=torch.Generator().manual_seed(seed))
    totals = torch.zeros(directions.k, len(known.names), dtype=torch.float64)
    unedited = []
    for start in range(0, samples, batch):
        z = z_all[start:start + batch].to(generator.device)
        if known.of_ws is not None:
            before = known.of_ws(generator.mapping(z, truncation_psi=truncation_psi))
        else:
            before = known.values(z)
        unedited.append(before)
        for index in range(directions.k):
            d = torch.as_tensor(directions.directions[index], device=z.device)
            for sign in (1.0, -1.0):
                if known.of_ws is not None:
                    after = known.of_ws(edited_ws(generator, z, directions, index, sign * alpha,
                                                  truncation_psi=truncation_psi))
                else:
                    after = known.values(z + sign * alpha * float(directions.scales[index]) * d)
                change = factor_change(before, after, known.circular, known.categorical)
                totals[index] += change.sum(dim=0).double().cpu()
    before = torch.cat(unedited)
    resample = factor_change(before, before.roll(1, dims=0), known.circular, known.categorical)
    scale = resample.mean(dim=0).double().cpu().clamp_min(1e-6)
    return (totals / (2 * samples) / scale).numpy()
