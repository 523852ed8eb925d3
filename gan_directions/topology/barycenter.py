"""Aggregating RLT samples ("W. RLT") and distances between them, in two labelled modes.

``paper`` (faithful to Zhou et al.'s code): entropic Wasserstein barycenter by iterative Bregman
projections (Benamou et al. 2015) with cost C_jk = (j - k)^2 / (B - 1)^2, eps = 0.01, at most
100 iterations, tolerance 1e-4; distance = scipy's ``wasserstein_distance(a, b)`` applied to the
two vectors as *sample values* (the mean absolute difference of the sorted vectors).

``corrected``: the exact 1-D W2 barycenter (quantile functions averaged, no blur) and the
histogram W1 distance between barycenters (the L1 distance between their CDFs).

For n histograms on bins 0..B-1 the averaged quantile function takes values in {m / n}, so the
exact barycenter lives on that grid. Its CDF there is the sorted list of all n*B cumulative
sums of the inputs: the m-th smallest cumulative value is the barycenter's CDF at m / n. W1
between two barycenters is then (1/n) * sum_m |CDF_a - CDF_b| over the grid.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist

from gan_directions.errors import InvalidInputError

MODES = ("paper", "corrected")
PAPER_EPS = 1e-2
PAPER_MAX_ITER = 100
PAPER_TOL = 1e-4


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise InvalidInputError(f"unknown scoring mode {mode!r}; choose one of {MODES}")
    return mode


def paper_cost(n_bins: int) -> np.ndarray:
    """C_jk = (j - k)^2 / max_jk (j - k)^2: squared bin distance rescaled to [0, 1]."""
    bins = np.arange(n_bins, dtype=np.float64)
    cost = (bins[:, None] - bins[None, :]) ** 2
    return cost / cost.max() if n_bins > 1 else cost


def entropic_barycenter(histograms: np.ndarray, eps: float = PAPER_EPS,
                        max_iter: int = PAPER_MAX_ITER, tol: float = PAPER_TOL) -> np.ndarray:
    """Entropic W2 barycenter, uniform weights, of ``histograms`` [..., n, B] -> [..., B].

    Iterative Bregman projections with the Gibbs kernel K = exp(-C / eps) of ``paper_cost``:
    u = a / (K v), q = geometric mean over inputs of (K^T u), v = q / (K^T u), until successive
    q differ by < tol (L2) and |1 - sum q| < tol, or ``max_iter`` sweeps. Batched over the
    leading axes; the inputs are renormalised to sum 1.
    """
    a = np.asarray(histograms, dtype=np.float64)
    if a.ndim < 2:
        raise InvalidInputError(f"histograms must be [..., n, B], got shape {a.shape}")
    total = a.sum(axis=-1, keepdims=True)
    if np.any(total <= 0) or np.any(a < 0) or not np.all(np.isfinite(a)):
        raise InvalidInputError("histograms must be finite, non-negative and non-zero")
    a = a / total
    kernel = np.exp(-paper_cost(a.shape[-1]) / eps)  # symmetric
    v = np.ones_like(a)
    q = np.full(a.shape[:-2] + a.shape[-1:], 1.0 / a.shape[-1])
    for _ in range(max_iter):
        u = a / (v @ kernel)
        ktu = u @ kernel
        q_new = np.exp(np.log(ktu).mean(axis=-2))
        v = q_new[..., None, :] / ktu
        step = np.linalg.norm(q_new - q, axis=-1)
        q = q_new
        if np.all(step < tol) and np.all(np.abs(1 - q.sum(axis=-1)) < tol):
            break
    return q


def values_w1_matrix(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Pairwise scipy-style ``wasserstein_distance(x, y)`` of vectors read as sample values.

    For equal-length vectors this is mean |sort(x) - sort(y)|; [M, B] x [M', B] -> [M, M'].
    """
    a = np.sort(np.asarray(a, dtype=np.float64), axis=-1)
    b = a if b is None else np.sort(np.asarray(b, dtype=np.float64), axis=-1)
    return cdist(a, b, "cityblock") / a.shape[-1]


def quantile_barycenter_cdf(histograms: np.ndarray) -> np.ndarray:
    """Exact 1-D W2 barycenter of ``histograms`` [..., n, B], as its CDF on the grid m / n.

    Returns [..., n * B]: entry m is the barycenter's CDF at position m / n (in bins), i.e. the
    m-th smallest of the n*B cumulative sums of the (renormalised) inputs.
    """
    a = np.asarray(histograms, dtype=np.float64)
    total = a.sum(axis=-1, keepdims=True)
    if a.ndim < 2 or np.any(total <= 0) or np.any(a < 0) or not np.all(np.isfinite(a)):
        raise InvalidInputError("histograms must be [..., n, B], finite, non-negative, non-zero")
    cumulative = np.minimum(np.cumsum(a / total, axis=-1), 1.0)
    cumulative[..., -1] = 1.0
    flat = cumulative.reshape(a.shape[:-2] + (-1,))
    return np.sort(flat, axis=-1)


def cdf_to_histogram(cdf: np.ndarray, n: int, n_bins: int) -> np.ndarray:
    """Mass of a grid-CDF (``quantile_barycenter_cdf``) rounded onto integer bins [..., B]."""
    mass = np.diff(cdf, axis=-1, prepend=0.0)
    position = np.arange(cdf.shape[-1]) / n
    index = np.minimum(np.floor(position + 0.5).astype(np.int64), n_bins - 1)
    out = np.zeros(cdf.shape[:-1] + (n_bins,))
    np.add.at(out, (..., index), mass)
    return out


def grid_mean(cdf: np.ndarray, n: int) -> np.ndarray:
    """Mean position (in bins) of grid-CDFs [..., n*B]."""
    mass = np.diff(cdf, axis=-1, prepend=0.0)
    return (mass * (np.arange(cdf.shape[-1]) / n)).sum(axis=-1)


def histogram_w1_matrix(cdf_a: np.ndarray, cdf_b: np.ndarray | None, step: float) -> np.ndarray:
    """W1 = step * sum |CDF_a - CDF_b| between distributions on a common uniform grid."""
    cdf_b = cdf_a if cdf_b is None else cdf_b
    return cdist(cdf_a, cdf_b, "cityblock") * step


def close_overflow(samples: np.ndarray) -> np.ndarray:
    """Give each RLT's missing mass (time with >= B holes, dropped by the RLT) to its last bin.

    The last bin then reads "B - 1 or more holes" and every RLT sums to 1. An RLT spent
    entirely beyond B holes would otherwise be all zeros (the official barycenter then
    returns NaN).
    """
    samples = np.array(samples, dtype=np.float64)
    samples[..., -1] += np.clip(1.0 - samples.sum(axis=-1), 0.0, None)
    return samples


def aggregate_rlts(samples: np.ndarray, mode: str) -> np.ndarray:
    """The W. RLT of each set of RLT samples [..., n, B]: see the module docstring.

    Overflowing mass goes to the last bin first (``close_overflow``).
    """
    samples = close_overflow(samples)
    if check_mode(mode) == "paper":
        return entropic_barycenter(samples)
    return quantile_barycenter_cdf(samples)


def wrlt_distance_matrix(a: np.ndarray, b: np.ndarray | None, mode: str, n: int) -> np.ndarray:
    """Pairwise distances between aggregated W. RLTs of ``aggregate_rlts`` ([M, *] x [M', *])."""
    if check_mode(mode) == "paper":
        return values_w1_matrix(a, b)
    return histogram_w1_matrix(a, b, 1.0 / n)
