"""Persistence backend: w₊ edge reduction, helper processes and their failure fallback."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from gan_directions.topology import ph
from gan_directions.topology.rtd import barcode_from_pairs, cross_matrix


def square_cycle():
    """Four points on a square: one H1 bar from the side (1) to the diagonal (1.5)."""
    return np.array([[0, 1, 1.5, 1], [1, 0, 1, 1.5], [1.5, 1, 0, 1], [1, 1.5, 1, 0]], float)


def test_h1_pairs_of_a_square_cycle():
    M = square_cycle()
    births, deaths = ph.h1_pairs(M)
    assert len(births) == 1
    assert M[tuple(births[0])] == 1.0 and M[tuple(deaths[0])] == 1.5


def doubled_matrices(seed, n=30):
    rng = np.random.default_rng(seed)
    P = rng.normal(size=(n, 4))
    Q = P + 0.6 * rng.normal(size=P.shape)
    A, B = cdist(P, P), cdist(Q, Q)
    return [cross_matrix(X, Y, m) for X, Y in ((A, B), (B, A)) for m in ("min", "max")]


def in_process(M):
    values, threshold = ph._edges(M, True)
    return ph._rips_h1(values, len(M), threshold)


@pytest.mark.parametrize("seed", range(3))
def test_w_plus_reduction_keeps_the_barcode(seed):
    for M in doubled_matrices(seed):
        full = barcode_from_pairs(M, *ph.h1_pairs(M, doubled=False))
        reduced = barcode_from_pairs(M, *ph.h1_pairs(M, doubled=True))
        assert len(full.bars) > 0
        np.testing.assert_allclose(np.sort(reduced.lengths), np.sort(full.lengths), atol=1e-12)


def test_helper_processes_return_the_in_process_result(monkeypatch):
    matrices = doubled_matrices(5) + doubled_matrices(6)
    expected = [in_process(M) for M in matrices]
    monkeypatch.setenv("GANDIR_PH_WORKERS", "2")
    pool = ph._Pool()
    try:
        for _ in range(2):  # helpers are reused between calls
            got = pool.map(matrices, doubled=True)
            assert len(pool.workers) == 2
            for a, b in zip(got, expected, strict=True):
                np.testing.assert_array_equal(a, b)
    finally:
        pool.close()


def test_a_dead_helper_falls_back_to_in_process(monkeypatch):
    matrices = doubled_matrices(7)
    expected = [in_process(M) for M in matrices]
    monkeypatch.setenv("GANDIR_PH_WORKERS", "1")
    pool = ph._Pool()
    try:
        pool.map(matrices[:2], doubled=True)
        pool.workers[0].proc.kill()
        pool.workers[0].proc.wait()
        with pytest.warns(RuntimeWarning, match="persistence worker failed"):
            got = pool.map(matrices, doubled=True)
        for a, b in zip(got, expected, strict=True):
            np.testing.assert_array_equal(a, b)
        assert pool.size == 0 and pool.workers == []
    finally:
        pool.close()
