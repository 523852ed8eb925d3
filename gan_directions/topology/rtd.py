"""R-Cross-Barcode and Representation Topology Divergence (RTD).

Barannikov et al., "Representation Topology Divergence", ICML 2022. For two distance matrices
``A`` (cloud P) and ``B`` (cloud Q) on the same N objects, the R-Cross-Barcode is the H1
Vietoris-Rips barcode of a 2N x 2N "doubled" matrix:

* ``'min'``: ``[[0, Aᵀ], [A, min(A, B)]]`` (the paper's construction),
* ``'max'``: ``[[0, max(A, B)ᵀ], [max(A, B), B]]`` (the variant of the TopDis MinMax loss).

RTD is the sum of its bar lengths. Vertices ``0..N-1`` of the doubled matrix are the "A" copies of
the points, ``N..2N-1`` the "B" copies; every bar's birth and death is one entry of that matrix
(the longest edge of its birth edge / death triangle), which is what makes RTD differentiable.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np

from gan_directions.errors import InvalidInputError
from gan_directions.topology.ph import h1_pairs_many

MODES = ("min", "max")


class CrossBarcode(NamedTuple):
    """H1 R-Cross-Barcode with the matrix entries that realise each bar.

    ``bars[k] = (birth, death)`` (float64), sorted by length, longest first;
    ``birth_edges[k] = (a, b)`` and ``death_edges[k] = (c, d)`` (int64, ``a < b``, ``c < d``) are
    indices into the 2N x 2N doubled matrix with ``M[a, b] = birth`` and ``M[c, d] = death``.
    """

    bars: np.ndarray
    birth_edges: np.ndarray
    death_edges: np.ndarray

    @property
    def lengths(self) -> np.ndarray:
        return self.bars[:, 1] - self.bars[:, 0]


def _as_array(X) -> np.ndarray:
    if hasattr(X, "detach"):  # a torch tensor, possibly on a GPU or requiring grad
        X = X.detach().cpu().numpy()
    return np.asarray(X, dtype=np.float64)


def check_distance_pair(A, B) -> tuple[np.ndarray, np.ndarray]:
    """Validate two distance matrices and return them as symmetric float64 arrays, zero diagonal.

    Raises ``InvalidInputError`` (a ValueError) for non-square or mismatched matrices, N < 3,
    NaN/inf, negative entries or clearly asymmetric input.
    """
    mats = []
    for name, M in (("A", A), ("B", B)):
        M = _as_array(M)
        if M.ndim != 2 or M.shape[0] != M.shape[1]:
            raise InvalidInputError(f"distance matrix {name} must be square, got shape {M.shape}")
        if not np.isfinite(M).all():
            raise InvalidInputError(f"distance matrix {name} contains NaN or inf")
        if (M < 0).any():
            raise InvalidInputError(f"distance matrix {name} has negative entries")
        scale = float(np.abs(M).max()) if M.size else 0.0
        if not np.allclose(M, M.T, rtol=1e-5, atol=1e-6 * scale):
            raise InvalidInputError(f"distance matrix {name} is not symmetric")
        M = 0.5 * (M + M.T)
        np.fill_diagonal(M, 0.0)
        mats.append(M)
    A, B = mats
    if A.shape != B.shape:
        raise InvalidInputError(f"distance matrices differ in shape: {A.shape} vs {B.shape}")
    if A.shape[0] < 3:
        raise InvalidInputError(f"need at least 3 points, got {A.shape[0]}")
    return A, B


def cross_matrix(A: np.ndarray, B: np.ndarray, mode: str = "min") -> np.ndarray:
    """The 2N x 2N doubled distance matrix of the R-Cross-Barcode (RTD paper, Sec. 3)."""
    if mode not in MODES:
        raise InvalidInputError(f"mode must be 'min' or 'max', got {mode!r}")
    n = A.shape[0]
    off, low = (A, np.minimum(A, B)) if mode == "min" else (np.maximum(A, B), B)
    M = np.zeros((2 * n, 2 * n), dtype=np.float64)
    M[n:, :n] = off
    M[:n, n:] = off.T
    M[n:, n:] = low
    return M


def rtd_barcode(A, B, mode: str = "min") -> CrossBarcode:
    """H1 R-Cross-Barcode of distance matrices ``A`` (P) and ``B`` (Q), with realising edges.

    ``mode='min'`` uses ``[[0, Aᵀ], [A, min(A, B)]]``, ``mode='max'`` uses
    ``[[0, max(A, B)ᵀ], [max(A, B), B]]``. Bar values are read from the float64 matrix at the
    edges giotto-ph reports; zero-length bars are dropped.
    """
    return rtd_barcodes([(A, B, mode)])[0]


def rtd_barcodes(jobs) -> list[CrossBarcode]:
    """``rtd_barcode`` of several ``(A, B, mode)`` triples, computed in parallel."""
    matrices = []
    for A, B, mode in jobs:
        A, B = check_distance_pair(A, B)
        matrices.append(cross_matrix(A, B, mode))
    return [
        barcode_from_pairs(M, births, deaths)
        for M, (births, deaths) in zip(matrices, h1_pairs_many(matrices, doubled=True), strict=True)
    ]


def barcode_from_pairs(M: np.ndarray, births: np.ndarray, deaths: np.ndarray) -> CrossBarcode:
    """Read bar values off ``M`` at the pair edges, drop empty bars, sort longest first."""
    bars = np.stack([M[births[:, 0], births[:, 1]], M[deaths[:, 0], deaths[:, 1]]], axis=1)
    keep = bars[:, 1] > bars[:, 0]
    bars, births, deaths = bars[keep], births[keep], deaths[keep]
    order = np.argsort(bars[:, 0] - bars[:, 1], kind="stable")
    return CrossBarcode(bars[order], births[order], deaths[order])


def pairwise_distances(X: np.ndarray) -> np.ndarray:
    """Euclidean distance matrix of the rows of ``X`` (float64, Gram matrix of centred rows)."""
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    X = X - X.mean(axis=0)
    sq = np.einsum("ij,ij->i", X, X)
    D2 = sq[:, None] + sq[None, :] - 2.0 * (X @ X.T)
    D = np.sqrt(np.maximum(D2, 0.0))
    np.fill_diagonal(D, 0.0)
    return 0.5 * (D + D.T)


def normalize_distances(D: np.ndarray, normalize: str | None) -> np.ndarray:
    """Divide a distance matrix by its ``'quantileQ'`` (e.g. ``'quantile0.9'``), median or mean.

    The statistic runs over all N x N entries (zero diagonal included), as in the RTD library.
    A zero statistic (mostly duplicate points) leaves ``D`` unscaled.
    """
    if normalize is None or normalize == "none":
        return D
    if normalize == "median":
        stat = float(np.median(D))
    elif normalize == "mean":
        stat = float(np.mean(D))
    else:
        match = re.fullmatch(r"quantile(0?\.\d+|1(\.0*)?)", normalize)
        if match is None:
            raise InvalidInputError(
                f"normalize must be None, 'median', 'mean' or 'quantileQ' (0<Q<=1), "
                f"got {normalize!r}"
            )
        stat = float(np.quantile(D, float(match.group(1))))
    return D / stat if stat > 0 else D  # mostly duplicate points: leave unscaled


def _check_clouds(P, Q) -> tuple[np.ndarray, np.ndarray]:
    P, Q = _as_array(P), _as_array(Q)
    if P.ndim < 2 or Q.ndim < 2:
        raise InvalidInputError("point clouds must be arrays of shape [N, ...]")
    if len(P) != len(Q):
        raise InvalidInputError(f"clouds must hold the same N points, got {len(P)} and {len(Q)}")
    if len(P) < 3:
        raise InvalidInputError(f"need at least 3 points, got {len(P)}")
    if not (np.isfinite(P).all() and np.isfinite(Q).all()):
        raise InvalidInputError("point clouds contain NaN or inf")
    return P.reshape(len(P), -1), Q.reshape(len(Q), -1)


def rtd_from_distances(A, B, symmetric: bool = True, mode: str = "min") -> float:
    """RTD of two (already normalized) distance matrices: sum of H1 R-Cross-Barcode lengths.

    ``symmetric=True`` returns ½[RTD(A, B) + RTD(B, A)].
    """
    jobs = [(A, B, mode), (B, A, mode)] if symmetric else [(A, B, mode)]
    return float(np.mean([barcode.lengths.sum() for barcode in rtd_barcodes(jobs)]))


def rtd(
    P,
    Q,
    symmetric: bool = True,
    normalize: str | None = "quantile0.9",
    trials: int = 10,
    subset: int | None = 500,
    mode: str = "min",
    seed: int = 0,
) -> float:
    """Representation Topology Divergence between matched point clouds ``P`` and ``Q`` [N, ...].

    Follows the RTD library's evaluation protocol: Euclidean distances of each cloud divided by
    its own 0.9-quantile, entries below 1e-6 x mean(A) set to 0, H1 bar-length sum of the 'min'
    R-Cross-Barcode, symmetrised as ½[RTD(P→Q) + RTD(Q→P)], averaged over ``trials`` random
    subsets of ``subset`` matched points (one evaluation on all points when N <= subset or
    ``subset`` is None). ``seed`` fixes the subsets.
    """
    P, Q = _check_clouds(P, Q)
    if mode not in MODES:
        raise InvalidInputError(f"mode must be 'min' or 'max', got {mode!r}")
    n = len(P)
    if subset is None or subset >= n:
        index_sets = [np.arange(n)]
    else:
        if subset < 3 or trials < 1:
            raise InvalidInputError("need subset >= 3 and trials >= 1")
        rng = np.random.default_rng(seed)
        index_sets = [rng.choice(n, size=subset, replace=False) for _ in range(trials)]
    values = []
    for idx in index_sets:
        dist_p = normalize_distances(pairwise_distances(P[idx]), normalize)
        dist_q = normalize_distances(pairwise_distances(Q[idx]), normalize)
        tiny = 1e-6 * float(dist_p.mean())
        dist_p[dist_p < tiny] = 0.0
        dist_q[dist_q < tiny] = 0.0
        values.append(rtd_from_distances(dist_p, dist_q, symmetric, mode))
    return float(np.mean(values))
