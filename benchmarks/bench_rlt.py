"""Benchmark: witness-complex RLTs, gudhi.WitnessComplex vs gandir, and a full `gandir score`.

Part 1: RLTs of point clouds (N=1000 points in 64-d, 100 landmarks drawn with replacement,
gamma=1/128, i_max=100), 100 landmark draws per cloud, the same draws for both sides. Both run
over a process pool of --workers processes (default 2), one task per cloud:
- gudhi: the official pipeline per draw (cdist to the landmarks, argsort, list-of-pairs table,
  gudhi.WitnessComplex, create_simplex_tree, persistence over Z/2, H1 intervals);
- gandir: ``gan_directions.topology.rlt.rlts`` (shared distance matrix, pruned vectorised
  filtration, spanning forest + bitset reduction).
Every H1 diagram is compared for exact equality.

Part 2 (--score, on by default): wall time of `score_run` (what `gandir score` runs) on
synthetic-shapes for 10 random z directions with the paper's settings (1000 points, 10 values,
100 landmarks, 100 redraws).

    python benchmarks/bench_rlt.py                  # both parts
    python benchmarks/bench_rlt.py --clouds 2 --no-score   # quick
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from scipy.spatial.distance import cdist, pdist, squareform

from gan_directions.runs.layout import DIRECTIONS
from gan_directions.topology.rlt import random_landmarks, relative_living_times
from gan_directions.topology.witness import warm_up, witness_diagram_from_distances

N_POINTS, DIM, N_LANDMARKS, GAMMA, I_MAX = 1000, 64, 100, 1 / 128, 100


def _draws(seed: int, n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [random_landmarks(N_POINTS, N_LANDMARKS, rng) for _ in range(n)]


def _cloud(seed: int) -> np.ndarray:
    return np.random.default_rng(10_000 + seed).standard_normal((N_POINTS, DIM))


def gudhi_task(args):
    """The official per-draw pipeline with gudhi; returns (diagrams, rlts)."""
    import gudhi

    seed, n = args
    X = _cloud(seed)
    diagrams, rlts = [], []
    for landmarks in _draws(seed, n):
        distances = cdist(X, X[landmarks])
        order = np.argsort(distances, axis=1)
        ordered = np.take_along_axis(distances, order, axis=1)
        rows = zip(order, ordered, strict=True)
        table = [list(zip(o.tolist(), d.tolist(), strict=True)) for o, d in rows]
        alpha_max = GAMMA * float(distances.max())
        complex_ = gudhi.WitnessComplex(nearest_landmark_table=table)
        tree = complex_.create_simplex_tree(max_alpha_square=alpha_max, limit_dimension=2)
        tree.persistence(homology_coeff_field=2)
        intervals = np.asarray(tree.persistence_intervals_in_dimension(1)).reshape(-1, 2)
        diagrams.append(intervals)
        rlts.append(relative_living_times(intervals, alpha_max, I_MAX))
    return diagrams, np.stack(rlts)


def gandir_task(args):
    """gandir's path (as ``rlts``: one distance matrix per cloud); returns (diagrams, rlts)."""
    seed, n = args
    X = _cloud(seed)
    full = squareform(pdist(X))
    diagrams, rlts = [], []
    for landmarks in _draws(seed, n):
        table = np.ascontiguousarray(full[landmarks].T)  # = cdist(X, X[landmarks]) exactly
        alpha_max = GAMMA * float(table.max())
        intervals = witness_diagram_from_distances(table, alpha_max)
        diagrams.append(intervals)
        rlts.append(relative_living_times(intervals, alpha_max, I_MAX))
    return diagrams, np.stack(rlts)


def _run(task, clouds: int, n: int, workers: int):
    start = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        results = list(pool.map(task, [(seed, n) for seed in range(clouds)]))
    return time.perf_counter() - start, results


def _canonical(intervals: np.ndarray) -> np.ndarray:
    return intervals[np.lexsort((intervals[:, 1], intervals[:, 0]))]


def bench_rlts(clouds: int, gudhi_clouds: int, n: int, workers: int) -> None:
    print(f"RLTs: {clouds} clouds x {n} draws (N={N_POINTS}, {DIM}-d, L={N_LANDMARKS}, "
          f"gamma=1/128), {workers} worker processes")
    warm_up()  # load the compiled kernels once, before forking (as ``rlts_many`` does)
    ours_s, ours = _run(gandir_task, clouds, n, workers)
    theirs_s, theirs = _run(gudhi_task, gudhi_clouds, n, workers)
    ours_ms = 1e3 * ours_s / (clouds * n)
    theirs_ms = 1e3 * theirs_s / (gudhi_clouds * n)
    same = total = same_rlts = 0
    for (d_ours, r_ours), (d_theirs, r_theirs) in zip(ours, theirs, strict=False):
        for a, b in zip(d_ours, d_theirs, strict=False):
            total += 1
            same += a.shape == b.shape and np.array_equal(_canonical(a), _canonical(b))
        same_rlts += int(np.sum(np.all(r_ours == r_theirs, axis=1)))
    holes = np.mean([len(d) for diagrams, _ in ours for d in diagrams])
    print(f"  gudhi : {gudhi_clouds * n:5d} RLTs in {theirs_s:7.2f} s  = {theirs_ms:6.2f} ms/RLT")
    print(f"  gandir: {clouds * n:5d} RLTs in {ours_s:7.2f} s  = {ours_ms:6.2f} ms/RLT")
    print(f"  speed-up (per RLT): {theirs_ms / ours_ms:.1f}x; identical H1 diagrams: "
          f"{same}/{total} (identical RLTs {same_rlts}/{total}); mean H1 intervals per "
          f"diagram: {holes:.0f}")


def bench_score(workers: int) -> None:
    from gan_directions.directions import DirectionSet
    from gan_directions.workflows import ScoreSettings, score_run

    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp)
        directions = np.random.default_rng(0).standard_normal((10, 6))
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        DirectionSet(directions, space="z").save(run / DIRECTIONS)
        settings = ScoreSettings(model="synthetic-shapes", supervised=False, workers=workers,
                                 device="cpu")
        start = time.perf_counter()
        result = score_run(run, settings)
        seconds = time.perf_counter() - start
        print(f"score_run synthetic-shapes, 10 z directions, paper settings (1000 points, "
              f"10 values, 100 landmarks, 100 redraws, features), {workers} workers: "
              f"{seconds:.1f} s wall\n  score {result['score']:.4g} (k={result['k']})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clouds", type=int, default=10, help="clouds for gandir (x draws)")
    parser.add_argument("--gudhi-clouds", type=int, default=None,
                        help="clouds for gudhi (default: as --clouds)")
    parser.add_argument("--draws", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--score", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    gudhi_clouds = args.clouds if args.gudhi_clouds is None else args.gudhi_clouds
    bench_rlts(args.clouds, min(gudhi_clouds, args.clouds), args.draws, args.workers)
    if args.score:
        bench_score(args.workers)


if __name__ == "__main__":
    main()
