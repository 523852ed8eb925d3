"""H1 persistence of the relaxed witness complex, with GUDHI's exact filtration.

The complex is the one ``gudhi.WitnessComplex(table).create_simplex_tree(alpha_max, 2)`` builds
from a witness-to-landmark distance table (Zhou et al. 2021 and Khrulkov & Oseledets 2018 feed it
*plain* distances, so alpha is an additive slack on distances). For a witness w and a simplex
sigma of at most three landmarks (the per-witness relaxation of GUDHI's ``Witness_complex.h``):

    a_w(sigma) = max(0, max_{l in sigma} d(w, l) - min_{l' not in sigma} d(w, l'))

and w reaches sigma when ``max_{l in sigma} d(w, l) - alpha_max <= min_{l' not in sigma} d(w, l')``
(evaluated in that floating-point form, as GUDHI does). A simplex is in the complex when a
witness reaches it and all its facets are in; its filtration value is

    f(sigma) = max( max_{facets tau} f(tau), min_w a_w(sigma) ).

Only the s+1 nearest landmarks of w can be the nearest one outside a simplex of s vertices, so a
reachable simplex lies inside the landmarks with ``d(w, l) - alpha_max <= d_(4)(w)`` (the fourth
nearest): the candidate pruning that keeps the enumeration short. H1 persistence (Z/2) of the
2-skeleton then comes from a spanning-forest pass over the edges and a bitset column reduction of
the triangle boundaries restricted to the cycle-creating edges ("compression").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree

from gan_directions.errors import InvalidInputError


@dataclass(frozen=True)
class WitnessFiltration:
    """The filtered witness 2-skeleton: landmark ids and filtration values per dimension.

    ``vertices`` [V], ``edges`` [E, 2] and ``triangles`` [T, 3] hold landmark column indices
    (sorted within each simplex); ``*_values`` the filtration value of each simplex.
    """

    vertices: np.ndarray
    vertex_values: np.ndarray
    edges: np.ndarray
    edge_values: np.ndarray
    triangles: np.ndarray
    triangle_values: np.ndarray

    def simplices(self) -> dict[tuple[int, ...], float]:
        """Every simplex as a sorted vertex tuple mapped to its filtration value."""
        out: dict[tuple[int, ...], float] = {}
        for cells, values in (
            (self.vertices.reshape(-1, 1), self.vertex_values),
            (self.edges, self.edge_values),
            (self.triangles, self.triangle_values),
        ):
            for cell, value in zip(cells.tolist(), values.tolist()):
                out[tuple(cell)] = value
        return out


@lru_cache(maxsize=256)
def _combinations_by_gap(k: int, size: int, gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Position tuples of ``size`` out of ``range(k)`` whose smallest absent position is ``gap``.

    Such a tuple holds positions 0..gap-1, skips ``gap`` and picks the rest above it. Returned
    sorted by their last position, with ``below[r]`` = how many have last position < r.
    """
    head = tuple(range(gap))
    tails = combinations(range(gap + 1, k), size - gap)
    combos = np.asarray([head + tail for tail in tails], dtype=np.int64).reshape(-1, size)
    combos = combos[np.argsort(combos[:, -1], kind="stable")]
    below = np.searchsorted(combos[:, -1], np.arange(k + 1), side="left")
    return combos, below


def _witnessed(sorted_d: np.ndarray, sorted_l: np.ndarray, reach: np.ndarray, size: int,
               ) -> tuple[np.ndarray, np.ndarray]:
    """Simplices of ``size`` vertices reached by some witness, with min_w a_w (GUDHI's rule).

    ``sorted_d``/``sorted_l`` [N, K]: each witness's K nearest landmarks, ascending (padded
    with inf / -1). ``reach`` [N, 4]: ``reach[w, j]`` counts the positions p with
    ``d_p - alpha_max <= d_j``. A simplex whose nearest omitted landmark sits at position j
    < its last position is reached by w exactly when that last position is < ``reach[w, j]``,
    with relaxation d_last - d_j; the simplex of the ``size`` nearest landmarks always is, at 0.
    Returns sorted vertex rows and their smallest relaxation over witnesses.
    """
    n_witness, k = sorted_d.shape
    witnesses, positions, gaps = [], [], []
    for gap in range(min(size, k) + 1):
        if gap == size:  # the witness's ``size`` nearest landmarks
            if k >= size:
                witnesses.append(np.arange(n_witness))
                positions.append(np.broadcast_to(np.arange(size), (n_witness, size)))
                gaps.append(np.full(n_witness, -1))
            continue
        combos, below = _combinations_by_gap(k, size, gap)
        if combos.shape[0] == 0:
            continue
        per_witness = below[np.minimum(reach[:, gap], k)]
        total = int(per_witness.sum())
        if total == 0:
            continue
        owner = np.repeat(np.arange(n_witness), per_witness)
        starts = np.cumsum(per_witness) - per_witness
        witnesses.append(owner)
        positions.append(combos[np.arange(total) - np.repeat(starts, per_witness)])
        gaps.append(np.full(total, gap))
    if not witnesses:
        return np.zeros((0, size), dtype=np.int64), np.zeros(0)
    witness = np.concatenate(witnesses)
    pos = np.concatenate(positions)
    gap = np.concatenate(gaps)
    d_last = sorted_d[witness, pos[:, -1]]
    d_gap = sorted_d[witness, np.maximum(gap, 0)]
    relax = np.where((gap >= 0) & (d_last > d_gap), d_last - d_gap, 0.0)
    verts = np.sort(sorted_l[witness[:, None], pos], axis=1)
    # Scatter-min over witnesses: group equal simplex keys, keep each group's smallest value.
    n_landmarks = int(sorted_l.max()) + 1
    keys = verts[:, 0]
    for column in range(1, size):
        keys = keys * n_landmarks + verts[:, column]
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return verts[order[starts]], np.minimum.reduceat(relax[order], starts)


def _validate_table(distances: np.ndarray, alpha_max: float) -> np.ndarray:
    d = np.asarray(distances, dtype=np.float64)
    if d.ndim != 2 or d.shape[0] == 0 or d.shape[1] == 0:
        raise InvalidInputError(f"distance table must be [witnesses, landmarks], got {d.shape}")
    if not np.all(np.isfinite(d)):
        raise InvalidInputError("distance table contains NaN or inf")
    if not np.isfinite(alpha_max) or alpha_max < 0:
        raise InvalidInputError(f"alpha_max must be finite and >= 0, got {alpha_max}")
    return d


def witness_filtration(distances: np.ndarray, alpha_max: float) -> WitnessFiltration:
    """GUDHI's relaxed witness 2-skeleton for a witness x landmark distance table [N, L]."""
    d = _validate_table(distances, alpha_max)
    n_landmarks = d.shape[1]
    alpha_max = float(alpha_max)
    # Candidate pruning (spec section 5): a reached simplex has at most 3 vertices, so its
    # nearest omitted landmark is among the 4 nearest; every vertex lies within alpha_max of it.
    k_probe = min(4, n_landmarks)
    fourth = np.partition(d, k_probe - 1, axis=1)[:, k_probe - 1]
    candidate = d - alpha_max <= fourth[:, None]
    counts = np.count_nonzero(candidate, axis=1)
    k = int(counts.max())
    rows, cols = np.nonzero(candidate)
    slot = np.arange(rows.size) - np.repeat(np.cumsum(counts) - counts, counts)
    near_d = np.full((d.shape[0], k), np.inf)
    near_l = np.full((d.shape[0], k), -1, dtype=np.int64)
    near_d[rows, slot] = d[rows, cols]
    near_l[rows, slot] = cols
    order = np.argsort(near_d, axis=1)
    sorted_d = np.take_along_axis(near_d, order, axis=1)
    sorted_l = np.take_along_axis(near_l, order, axis=1)
    anchors = sorted_d[:, np.minimum(np.arange(4), k - 1)]
    reach = np.count_nonzero(
        sorted_d[:, None, :] - alpha_max <= anchors[:, :, None], axis=2
    )  # [N, 4]

    v_rows, v_relax = _witnessed(sorted_d, sorted_l, reach, 1)
    vertex_value = np.full(n_landmarks, np.inf)
    vertex_value[v_rows[:, 0]] = v_relax

    e_rows, e_relax = _witnessed(sorted_d, sorted_l, reach, 2)
    e_face = np.maximum(vertex_value[e_rows[:, 0]], vertex_value[e_rows[:, 1]])
    keep = np.isfinite(e_face)
    e_rows, e_value = e_rows[keep], np.maximum(e_relax[keep], e_face[keep])

    t_rows, t_relax = _witnessed(sorted_d, sorted_l, reach, 3)
    edge_keys = e_rows[:, 0] * n_landmarks + e_rows[:, 1]  # sorted: rows are lexsorted
    t_value = t_relax
    keep = np.ones(t_rows.shape[0], dtype=bool)
    for a, b in ((0, 1), (0, 2), (1, 2)):
        face_keys = t_rows[:, a] * n_landmarks + t_rows[:, b]
        at = np.minimum(np.searchsorted(edge_keys, face_keys), max(len(edge_keys) - 1, 0))
        present = edge_keys[at] == face_keys if len(edge_keys) else np.zeros_like(keep)
        keep &= present
        t_value = np.maximum(t_value, np.where(present, e_value[at] if len(e_value) else 0, 0))
    return WitnessFiltration(
        vertices=v_rows[:, 0],
        vertex_values=v_relax,
        edges=e_rows,
        edge_values=e_value,
        triangles=t_rows[keep],
        triangle_values=t_value[keep],
    )


def h1_intervals(filtration: WitnessFiltration) -> np.ndarray:
    """H1 persistence intervals [M, 2] (Z/2; zero-length pairs dropped; death inf if essential).

    Edges are ordered by (value, vertices); an edge closing a cycle in the spanning forest of
    the edges before it creates an H1 class. Triangle boundaries, restricted to those edges,
    are reduced as Python-int bitsets in triangle order; each pivot pairs an edge (birth) with
    a triangle (death).
    """
    edges, edge_values = filtration.edges, filtration.edge_values
    n_edges = edges.shape[0]
    if n_edges == 0:
        return np.zeros((0, 2))
    edge_order = np.lexsort((edges[:, 1], edges[:, 0], edge_values))
    rank = np.empty(n_edges, dtype=np.int64)
    rank[edge_order] = np.arange(n_edges)
    # Kruskal by rank: with distinct weights the minimum spanning forest is the set of edges that
    # merge two components (negative edges); every other edge creates a cycle.
    n_vertices = int(max(edges.max(), filtration.vertices.max(initial=0))) + 1
    graph = coo_matrix((rank + 1.0, (edges[:, 0], edges[:, 1])), shape=(n_vertices,) * 2)
    forest = minimum_spanning_tree(graph).tocoo()
    negative = np.zeros(n_edges, dtype=bool)
    negative[np.rint(forest.data).astype(np.int64) - 1] = True  # indexed by rank
    positive_ranks = np.flatnonzero(~negative)
    bit_of_rank = np.full(n_edges, -1, dtype=np.int64)
    bit_of_rank[positive_ranks] = np.arange(positive_ranks.size)
    birth = edge_values[edge_order][positive_ranks]

    triangles = filtration.triangles
    pairs_birth: list[int] = []
    pairs_death: list[float] = []
    if triangles.shape[0]:
        n_landmarks = n_vertices
        edge_keys = edges[:, 0] * n_landmarks + edges[:, 1]
        key_order = np.argsort(edge_keys)
        sorted_keys = edge_keys[key_order]
        face_bits = []
        for a, b in ((0, 1), (0, 2), (1, 2)):
            keys = triangles[:, a] * n_landmarks + triangles[:, b]
            face = key_order[np.searchsorted(sorted_keys, keys)]
            face_bits.append(bit_of_rank[rank[face]])
        face_bits = np.stack(face_bits, axis=1)
        tri_order = np.lexsort((*triangles.T[::-1], filtration.triangle_values))
        tri_values = filtration.triangle_values[tri_order].tolist()
        pivots: dict[int, int] = {}
        for bits, death in zip(face_bits[tri_order].tolist(), tri_values):
            column = 0
            for bit in bits:
                if bit >= 0:
                    column ^= 1 << bit
            while column:
                low = column.bit_length() - 1
                other = pivots.get(low)
                if other is None:
                    pivots[low] = column
                    pairs_birth.append(low)
                    pairs_death.append(death)
                    break
                column ^= other
    death = np.full(positive_ranks.size, np.inf)
    if pairs_birth:
        death[np.asarray(pairs_birth)] = pairs_death
    keep = death > birth
    return np.stack([birth[keep], death[keep]], axis=1)


def witness_diagram_from_distances(distances: np.ndarray, alpha_max: float,
                                   gudhi_compatible: bool = True) -> np.ndarray:
    """H1 intervals [M, 2] of the witness complex of a distance table [N witnesses, L landmarks].

    ``gudhi_compatible``: GUDHI's ``persistence()`` (``persistence_dim_max=False``) skips the
    complex's top dimension, so a complex with no triangle (dimension 1) reports *no* H1
    interval even when its graph has cycles; the official pipeline inherits this. True keeps
    that behaviour (exact equality with GUDHI); False reports the cycles of such a graph.
    """
    filtration = witness_filtration(distances, alpha_max)
    if gudhi_compatible and filtration.triangles.shape[0] == 0:
        return np.zeros((0, 2))
    return h1_intervals(filtration)


def landmark_distances(X: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Euclidean witness-to-landmark table [N, L]; ``landmarks`` are indices into X or points."""
    from scipy.spatial.distance import cdist

    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise InvalidInputError(f"points must be a [N, D] array, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise InvalidInputError("points contain NaN or inf")
    landmarks = np.asarray(landmarks)
    if landmarks.ndim == 1:
        if not np.issubdtype(landmarks.dtype, np.integer):
            raise InvalidInputError("landmark indices must be integers")
        if landmarks.size == 0 or landmarks.min() < 0 or landmarks.max() >= X.shape[0]:
            raise InvalidInputError(f"landmark indices must lie in [0, {X.shape[0]})")
        points = X[landmarks]
    else:
        points = np.asarray(landmarks, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != X.shape[1] or points.shape[0] == 0:
            raise InvalidInputError(
                f"landmark points must be [L, {X.shape[1]}], got shape {points.shape}"
            )
        if not np.all(np.isfinite(points)):
            raise InvalidInputError("landmark points contain NaN or inf")
    return cdist(X, points)


def witness_diagram(X: np.ndarray, landmarks: np.ndarray, alpha_max: float,
                    gudhi_compatible: bool = True) -> np.ndarray:
    """H1 persistence intervals [M, 2] of the witness complex of points ``X`` [N, D].

    ``landmarks``: integer indices into X (every point is a witness) or landmark points [L, D].
    Identical to ``gudhi.WitnessComplex`` on the plain-distance table with
    ``max_alpha_square=alpha_max`` and ``limit_dimension=2`` (Z/2 coefficients); see
    ``witness_diagram_from_distances`` for ``gudhi_compatible``.
    """
    return witness_diagram_from_distances(
        landmark_distances(X, landmarks), alpha_max, gudhi_compatible
    )
