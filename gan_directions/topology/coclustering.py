"""Topological similarity of directions, spectral co-clustering and the score (Zhou et al. 2021).

Given W. RLT distances between every (direction, value) pair, the direction-level distance is
A_ij = mean over value pairs of d(b_{i,v}, b_{j,v'}). In ``paper`` mode the diagonal keeps the
v = v' terms (zeros), as the official code does; ``corrected`` mode leaves them out. The
similarity fed to sklearn's ``SpectralCoclustering`` (Dhillon 2001; random_state=0) is
S = 1 - A (paper) or S = 1 - A / max(A) (corrected, where A is in units of holes).

For bicluster c with rows R_c, columns C_c and complementary columns C'_c:
    score_c = mean A[R_c x C'_c] - mean A[R_c x C_c]
    var_c   = (std A[R_c x C_c] / (|R_c||C_c|))^2 + (std A[R_c x C'_c] / (|R_c||C'_c|))^2
and Score = scale * mean_c score_c, Var = scale * mean_c var_c (scale = 1e4 in paper mode).
A bicluster without rows, columns or complementary columns contributes 0 to both. The k with
the smallest Var over 2..max is the searched choice; a fixed k is reported too.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.cluster import SpectralCoclustering
from threadpoolctl import threadpool_limits

from gan_directions.errors import InvalidInputError
from gan_directions.topology.barycenter import check_mode

SCORE_SCALE = {"paper": 1e4, "corrected": 1.0}


def direction_distance_matrix(pair_distances: np.ndarray, rows: int, row_values: int,
                              cols: int, col_values: int, exclude_same_value: bool
                              ) -> np.ndarray:
    """A [rows, cols] from value-level distances [rows*row_values, cols*col_values].

    ``exclude_same_value`` drops the (v, v) terms when a row and column are the same item
    (square, same values); the official code keeps them.
    """
    d = np.asarray(pair_distances, dtype=np.float64).reshape(rows, row_values, cols, col_values)
    if not exclude_same_value:
        return d.mean(axis=(1, 3))
    if rows != cols or row_values != col_values:
        raise InvalidInputError("excluding same-value pairs needs a square distance matrix")
    if row_values < 2:
        raise InvalidInputError("excluding same-value pairs needs at least 2 values per row")
    a = d.mean(axis=(1, 3))
    same_value = np.einsum("ivjv->ij", d).diagonal()  # sum over v of d[i, v, i, v]
    pairs = row_values**2
    np.fill_diagonal(a, (a.diagonal() * pairs - same_value) / (pairs - row_values))
    return a


def similarity_from_distance(distance: np.ndarray, mode: str) -> np.ndarray:
    """S = 1 - A (paper) or 1 - A / max A (corrected); both non-negative for co-clustering."""
    distance = np.asarray(distance, dtype=np.float64)
    if check_mode(mode) == "paper":
        return 1.0 - distance
    peak = distance.max()
    return 1.0 - distance / peak if peak > 0 else np.ones_like(distance)


def bicluster_statistics(distance: np.ndarray, row_labels: np.ndarray, col_labels: np.ndarray,
                         n_clusters: int) -> tuple[float, float]:
    """(mean_c score_c, mean_c var_c) of the module docstring, unscaled."""
    scores, variances = [], []
    for c in range(n_clusters):
        rows = row_labels == c
        cols = col_labels == c
        if not rows.any() or not cols.any() or cols.all():
            scores.append(0.0)
            variances.append(0.0)
            continue
        inside = distance[np.ix_(rows, cols)]
        outside = distance[np.ix_(rows, ~cols)]
        scores.append(outside.mean() - inside.mean())
        variances.append(
            (inside.std() / inside.size) ** 2 + (outside.std() / outside.size) ** 2
        )
    return float(np.mean(scores)), float(np.mean(variances))


def cocluster(similarity: np.ndarray, n_clusters: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column labels of ``SpectralCoclustering(n_clusters, random_state=0)``."""
    model = SpectralCoclustering(n_clusters=n_clusters, random_state=0)
    # One thread: the matrices are tiny, and k-means thread start-up dominates otherwise.
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")  # k-means warnings on tiny or degenerate matrices
        model.fit(np.asarray(similarity, dtype=np.float64) + 1e-12)
    return model.row_labels_.astype(int), model.column_labels_.astype(int)


def score_at_k(distance: np.ndarray, similarity: np.ndarray, n_clusters: int, mode: str
               ) -> dict:
    """Co-cluster at ``n_clusters`` and score: a JSON-able dict (score, variance, labels)."""
    row_labels, col_labels = cocluster(similarity, n_clusters)
    score, variance = bicluster_statistics(distance, row_labels, col_labels, n_clusters)
    scale = SCORE_SCALE[check_mode(mode)]
    return {
        "k": int(n_clusters),
        "score": scale * score,
        "variance": scale * variance,
        "row_labels": row_labels.tolist(),
        "column_labels": col_labels.tolist(),
    }


def search_k(distance: np.ndarray, similarity: np.ndarray, mode: str,
             k_values: range | list[int] | None = None) -> dict:
    """Try k in 2..min(shape) (or ``k_values``) and keep the smallest-variance result."""
    limit = min(distance.shape)
    if limit < 2:
        raise InvalidInputError("co-clustering needs at least 2 rows and 2 columns")
    k_values = list(range(2, limit + 1)) if k_values is None else list(k_values)
    trials = [score_at_k(distance, similarity, k, mode) for k in k_values]
    best = min(trials, key=lambda t: (t["variance"], t["k"]))
    return {
        "best": best,
        "trials": [{"k": t["k"], "score": t["score"], "variance": t["variance"]} for t in trials],
    }
