"""Direction recovery on models with known factors (e.g. ``synthetic-shapes``).

Two numbers, both 1.0 for the model's true directions:

- matched |cos|: the mean |cosine| between found and true directions after a one-to-one
  (Hungarian) matching that maximizes the total |cosine|;
- DCI disentanglement (Eastwood & Williams 2018) of the direction→factor effect matrix
  E[k, f] = mean |Δ factor f| when latents move ±``alpha`` standard deviations along direction
  k. Row k's normalized effects p_k give D_k = 1 − H(p_k)/log F; the score weights D_k by row
  k's share of all effects. Completeness is the same with rows and columns swapped.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from gan_directions.directions import DirectionSet
from gan_directions.generators.base import Generator
from gan_directions.generators.capabilities import known_factors, true_directions


def matched_abs_cosine(found: np.ndarray, true: np.ndarray) -> tuple[float, list[int]]:
    """Mean |cos| over the Hungarian matching of found [K, d] to true [F, d] directions,
    and the true index matched to each found direction (-1 when unmatched)."""
    a = np.asarray(found, dtype=np.float64)
    b = np.asarray(true, dtype=np.float64)
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    cos = np.abs(a @ b.T)
    rows, cols = linear_sum_assignment(cos, maximize=True)
    match = [-1] * len(a)
    for r, c in zip(rows, cols, strict=True):
        match[r] = int(c)
    return float(cos[rows, cols].mean()), match


def _normalized_entropy(p: np.ndarray) -> np.ndarray:
    """Entropy of each row of p (rows sum to 1) divided by log(row length)."""
    logs = np.log(np.where(p > 0, p, 1.0))
    return -(p * logs).sum(axis=1) / np.log(p.shape[1])


def dci_scores(effects: np.ndarray) -> dict[str, float]:
    """DCI disentanglement (over directions) and completeness (over factors) of E [K, F] >= 0."""
    e = np.abs(np.asarray(effects, dtype=np.float64)) + 1e-12
    total = e.sum()
    rows = e / e.sum(axis=1, keepdims=True)
    cols = (e / e.sum(axis=0, keepdims=True)).T
    disentanglement = (1 - _normalized_entropy(rows)) if e.shape[1] > 1 else np.ones(len(e))
    completeness = (1 - _normalized_entropy(cols)) if e.shape[0] > 1 else np.ones(e.shape[1])
    return {
        "disentanglement": float((disentanglement * e.sum(axis=1) / total).sum()),
        "completeness": float((completeness * e.sum(axis=0) / total).sum()),
    }


def factor_change(before: torch.Tensor, after: torch.Tensor, circular: list[bool]) -> torch.Tensor:
    """|Δ factor| per sample [N, F]; circular factors (period 1) take the shorter way round."""
    delta = (after - before).abs()
    wrap = torch.tensor(circular, dtype=torch.bool, device=delta.device)
    return torch.where(wrap, torch.minimum(delta, 1 - delta), delta)


def _identity_mapping(generator: Generator) -> bool:
    return type(generator).mapping is Generator.mapping and generator.w_dim == generator.z_dim


@torch.no_grad()
def effect_matrix(
    generator, directions: DirectionSet, alpha: float = 1.0, samples: int = 256, seed: int = 0
) -> np.ndarray:
    """E [K, F]: mean |Δ factor| when moving ±alpha std along each direction (read by
    ``generator.factors``). Needs z-space directions or a model whose w equals z."""
    if directions.space != "z" and not _identity_mapping(generator):
        raise ValueError("factor effects need z-space directions or a model with w = z")
    rng = torch.Generator().manual_seed(seed)
    z = torch.randn(samples, generator.z_dim, generator=rng).to(generator.device)
    known = known_factors(generator)
    if known is None:
        raise ValueError("factor effects need a model with known factors")
    before = known.values(z)
    rows = []
    for index in range(directions.k):
        d = torch.as_tensor(directions.directions[index], device=z.device)
        step = alpha * float(directions.scales[index]) * d
        change = [factor_change(before, known.values(z + sign * step), known.circular)
                  for sign in (1.0, -1.0)]
        rows.append(torch.stack(change).mean(dim=(0, 1)))
    return torch.stack(rows).cpu().numpy().astype(np.float64)


def recovery_report(generator, directions: DirectionSet, alpha: float = 1.0,
                    samples: int = 256, seed: int = 0) -> dict | None:
    """Matched |cos| (when the model has true directions of the same dimension) and DCI of the
    effect matrix, as a JSON-able dict; None for models without factors."""
    known = known_factors(generator)
    if known is None:
        return None
    report: dict = {"factor_names": known.names}
    true = true_directions(generator)
    comparable = directions.space == "z" or _identity_mapping(generator)
    if true is not None and comparable and true.shape[1] == directions.dim:
        cosine, match = matched_abs_cosine(directions.directions, true)
        report["matched_abs_cos"] = cosine
        report["matched_factor"] = match
    if comparable:
        effects = effect_matrix(generator, directions, alpha, samples, seed)
        report.update(dci_scores(effects))
        report["effect_alpha"] = alpha
        report["effects"] = effects.round(6).tolist()
    return report
