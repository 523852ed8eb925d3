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
2-skeleton then comes from ``reduction.h1_pairing`` (union-find over the edges, then a compiled
Z/2 column reduction of the triangle boundaries restricted to the cycle-creating edges).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gan_directions.errors import InvalidInputError
from gan_directions.topology.reduction import h1_from_arrays, witness_complex_arrays


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
            for cell, value in zip(cells.tolist(), values.tolist(), strict=False):
                out[tuple(cell)] = value
        return out


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
    return WitnessFiltration(*witness_complex_arrays(np.ascontiguousarray(d), float(alpha_max)))


def h1_intervals(filtration: WitnessFiltration) -> np.ndarray:
    """H1 persistence intervals [M, 2] (Z/2; zero-length pairs dropped; death inf if essential).

    Simplices are ordered by (value, vertices) within each dimension, a filtration order since
    a face's value never exceeds its coface's; ``reduction.h1_pairing`` pairs the edges.
    """
    edges = filtration.edges
    if edges.shape[0] == 0:
        return np.zeros((0, 2))
    births, deaths = h1_from_arrays(
        int(edges.max()) + 1, edges, filtration.edge_values, filtration.triangles,
        filtration.triangle_values,
    )
    return np.stack([births, deaths], axis=1)


def witness_diagram_from_distances(distances: np.ndarray, alpha_max: float,
                                   gudhi_compatible: bool = True) -> np.ndarray:
    """H1 intervals [M, 2] of the witness complex of a distance table [N witnesses, L landmarks].

    ``gudhi_compatible``: GUDHI's ``persistence()`` (``persistence_dim_max=False``) skips the
    complex's top dimension, so a complex with no triangle (dimension 1) reports *no* H1
    interval even when its graph has cycles; the official pipeline inherits this. True keeps
    that behaviour (exact equality with GUDHI); False reports the cycles of such a graph.
    """
    d = np.ascontiguousarray(_validate_table(distances, alpha_max))
    return _diagram(d, float(alpha_max), gudhi_compatible)


def warm_up() -> None:
    """Compile (or load from numba's cache) the kernels now, e.g. before forking workers."""
    _diagram(np.array([[0.0, 1.0, 2.0, 3.0], [1.0, 0.0, 1.5, 2.5]]), 0.5, True)


def _diagram(d: np.ndarray, alpha_max: float, gudhi_compatible: bool) -> np.ndarray:
    """``witness_diagram_from_distances`` on a validated, C-contiguous float64 table."""
    _, _, edges, edge_values, triangles, triangle_values = witness_complex_arrays(d, alpha_max)
    if edges.shape[0] == 0 or (gudhi_compatible and triangles.shape[0] == 0):
        return np.zeros((0, 2))
    births, deaths = h1_from_arrays(d.shape[1], edges, edge_values, triangles, triangle_values)
    return np.stack([births, deaths], axis=1)


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
