"""Relative Living Times (Khrulkov & Oseledets 2018, Algorithm 1), as used by Zhou et al. 2021.

One RLT sample: draw L landmarks from the points uniformly *with replacement* (as the official
code does), take every point as a witness, set alpha_max = gamma * (largest witness-to-landmark
distance), compute the H1 diagram of the witness complex (``witness.py``) and measure, for each
i < i_max, the fraction of [0, alpha_max] during which exactly i H1 classes are alive.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_all_start_methods, get_context

import numpy as np
from scipy.spatial.distance import cdist, pdist, squareform

from gan_directions.errors import InvalidInputError
from gan_directions.topology.witness import _diagram, warm_up, witness_diagram_from_distances

# Up to this many point x point entries (3000 points, 72 MB) the distance matrix is shared.
FULL_MATRIX_LIMIT = 9_000_000


def relative_living_times(intervals: np.ndarray, alpha_max: float, i_max: int = 100) -> np.ndarray:
    """RLT(i) = |{alpha in [0, alpha_max] : beta_1(alpha) = i}| / alpha_max, i < i_max.

    ``intervals`` [M, 2] are H1 [birth, death) pairs; infinite deaths are clipped to alpha_max.
    beta_1 is evaluated at the midpoints between consecutive distinct endpoints (0 and alpha_max
    included). Time spent with beta_1 >= i_max is dropped, so the RLT then sums to less than 1
    (the official behaviour, kept on purpose). No interval gives e_0.
    """
    if alpha_max <= 0 or not np.isfinite(alpha_max):
        raise InvalidInputError(f"alpha_max must be positive and finite, got {alpha_max}")
    if i_max < 1:
        raise InvalidInputError(f"i_max must be >= 1, got {i_max}")
    out = np.zeros(i_max)
    intervals = np.asarray(intervals, dtype=np.float64).reshape(-1, 2)
    if intervals.shape[0] == 0:
        out[0] = 1.0
        return out
    births = intervals[:, 0]
    deaths = np.where(np.isinf(intervals[:, 1]), alpha_max, intervals[:, 1])
    points = np.unique(np.concatenate([[0.0, alpha_max], births, deaths]))
    mids = 0.5 * (points[1:] + points[:-1])
    alive = (
        np.searchsorted(np.sort(births), mids, side="right")
        - np.searchsorted(np.sort(deaths), mids, side="right")
    )  # intervals with birth <= mid < death
    lengths = np.diff(points)
    kept = alive < i_max
    out += np.bincount(alive[kept], weights=lengths[kept], minlength=i_max)[:i_max]
    return out / alpha_max


def random_landmarks(n_points: int, n_landmarks: int, rng: np.random.Generator) -> np.ndarray:
    """``n_landmarks`` indices drawn uniformly with replacement (the official sampling)."""
    return rng.integers(0, n_points, size=n_landmarks)


def _check_points(X: np.ndarray, n_landmarks: int | None = None) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise InvalidInputError(f"points must be a [N, D] array, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise InvalidInputError("points contain NaN or inf")
    if n_landmarks is not None and (n_landmarks < 1 or X.shape[0] < n_landmarks):
        raise InvalidInputError(
            f"need at least as many points as landmarks: {X.shape[0]} points, "
            f"{n_landmarks} landmarks"
        )
    return X


def rlt_from_distances(distances: np.ndarray, gamma: float = 1 / 128, i_max: int = 100,
                       gudhi_compatible: bool = True) -> np.ndarray:
    """One RLT from a witness x landmark distance table: alpha_max = gamma * max distance.

    ``gudhi_compatible``: see ``witness_diagram_from_distances`` (True: as the official code).
    """
    return _rlt(np.ascontiguousarray(distances, dtype=np.float64), gamma, i_max,
                gudhi_compatible, validate=True)


def _rlt(table: np.ndarray, gamma: float, i_max: int, gudhi_compatible: bool,
         validate: bool) -> np.ndarray:
    alpha_max = gamma * float(table.max())
    if alpha_max <= 0:  # every point coincides with every landmark: no hole, ever
        out = np.zeros(i_max)
        out[0] = 1.0
        return out
    if validate:
        intervals = witness_diagram_from_distances(table, alpha_max, gudhi_compatible)
    else:
        intervals = _diagram(table, alpha_max, gudhi_compatible)
    return relative_living_times(intervals, alpha_max, i_max)


def rlt(X: np.ndarray, landmarks: int | np.ndarray = 64, gamma: float = 1 / 128,
        i_max: int = 100, seed: int | np.random.Generator | None = 0,
        gudhi_compatible: bool = True) -> np.ndarray:
    """One RLT of points ``X`` [N, D].

    ``landmarks``: a count (drawn with replacement from ``seed``) or explicit indices into X.
    """
    if np.ndim(landmarks) == 0:
        X = _check_points(X, int(landmarks))
        landmarks = random_landmarks(X.shape[0], int(landmarks), np.random.default_rng(seed))
    else:
        landmarks = np.asarray(landmarks)
        X = _check_points(X, landmarks.size)
        if not np.issubdtype(landmarks.dtype, np.integer) or landmarks.ndim != 1:
            raise InvalidInputError("landmarks must be a count or a 1-D array of indices")
        if landmarks.min() < 0 or landmarks.max() >= X.shape[0]:
            raise InvalidInputError(f"landmark indices must lie in [0, {X.shape[0]})")
    return rlt_from_distances(cdist(X, X[landmarks]), gamma, i_max, gudhi_compatible)


def rlts(X: np.ndarray, n: int = 100, n_landmarks: int = 64, gamma: float = 1 / 128,
         i_max: int = 100, seed: int | np.random.Generator | None = 0,
         gudhi_compatible: bool = True) -> np.ndarray:
    """``n`` RLT samples [n, i_max] of ``X`` with independent landmark draws.

    The point-to-point distance matrix is computed once and shared by the draws (each table is
    a selection of it, bit-identical to ``cdist(X, X[landmarks])``: the Euclidean distance is
    computed from the same differences in the same order either way).
    """
    X = _check_points(X, n_landmarks)
    rng = np.random.default_rng(seed)
    draws = [random_landmarks(X.shape[0], n_landmarks, rng) for _ in range(n)]
    full = squareform(pdist(X)) if X.shape[0] ** 2 <= FULL_MATRIX_LIMIT else None
    out = np.empty((n, i_max))
    for row, landmarks in enumerate(draws):
        if full is not None:
            table = np.ascontiguousarray(full[landmarks].T)
        else:
            table = cdist(X, X[landmarks])
        out[row] = _rlt(table, gamma, i_max, gudhi_compatible, validate=False)
    return out


def _rlts_task(args: tuple) -> np.ndarray:
    X, n, n_landmarks, gamma, i_max, seed, gudhi_compatible = args
    return rlts(X, n=n, n_landmarks=n_landmarks, gamma=gamma, i_max=i_max, seed=seed,
                gudhi_compatible=gudhi_compatible)


def default_workers() -> int:
    return max(1, min(len(os.sched_getaffinity(0)), 8))


def rlts_many(clouds: Sequence[np.ndarray], n: int = 100, n_landmarks: int = 64,
              gamma: float = 1 / 128, i_max: int = 100, seed: int = 0,
              workers: int | None = None, progress=None, gudhi_compatible: bool = True
              ) -> list[np.ndarray]:
    """``rlts`` for many independent point clouds, over a process pool.

    Cloud c uses the c-th child of ``SeedSequence(seed)``, so results do not depend on
    ``workers``. ``progress`` (optional) is called once per finished cloud.
    """
    children = np.random.SeedSequence(seed).spawn(len(clouds))
    tasks = [
        (_check_points(X, n_landmarks), n, n_landmarks, gamma, i_max, np.random.default_rng(s),
         gudhi_compatible)
        for X, s in zip(clouds, children, strict=False)
    ]
    workers = default_workers() if workers is None else max(1, int(workers))
    if workers == 1 or len(tasks) <= 1:
        results = []
        for task in tasks:
            results.append(_rlts_task(task))
            if progress is not None:
                progress()
        return results
    # fork: workers need no re-import of the caller's script (spawn would re-run an unguarded
    # __main__); they only run numpy/scipy code.
    method = "fork" if "fork" in get_all_start_methods() else None
    if method == "fork":
        warm_up()  # forked workers inherit the compiled kernels
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)),
                             mp_context=get_context(method)) as pool:
        results = []
        for result in pool.map(_rlts_task, tasks):
            results.append(result)
            if progress is not None:
                progress()
    return results
