"""Scores of a direction × factor effect matrix E [K, F] ≥ 0 and of found vs true directions.

- DCI (Eastwood & Williams, ICLR 2018, eqs. 1–3) with E as the importance matrix: row k's
  shares p_k = E[k] / Σ_f E[k, f] give D_k = 1 − H(p_k)/log F, weighted by row k's share of
  all effects; completeness is the same over columns (log K), weighted by column share.
- MIG-style gap (after Chen et al., NeurIPS 2018, eq. 5, with effects in place of mutual
  information): for each factor f, the gap between the largest and second-largest effect on f
  over directions, divided by the total effect on f (at least ``MIN_EFFECT``, so that a factor
  no direction moves scores 0); averaged over factors. 1 when each factor is moved by a single
  direction, 0 when its two strongest directions move it equally or nothing moves it.
- matched |cos|: mean |cosine| over the Hungarian matching of found to true directions.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

MIN_EFFECT = 0.01  # effects are in units of resampling; below this a factor counts as unmoved


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


def mig_gap(effects: np.ndarray) -> float:
    """Mean over factors of (largest − second-largest effect) / total effect on the factor."""
    e = np.abs(np.asarray(effects, dtype=np.float64))
    if e.shape[0] < 2:
        return 1.0
    ordered = np.sort(e, axis=0)[::-1]
    gaps = (ordered[0] - ordered[1]) / np.maximum(e.sum(axis=0), MIN_EFFECT)
    return float(gaps.mean())
