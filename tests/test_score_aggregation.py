"""W. RLT aggregation, distances and co-clustering (spec T16, T17; score formulas)."""

import numpy as np
import ot
import pytest
from scipy.stats import wasserstein_distance

from gan_directions.topology.barycenter import (
    aggregate_rlts,
    cdf_to_histogram,
    entropic_barycenter,
    grid_mean,
    histogram_w1_matrix,
    paper_cost,
    quantile_barycenter_cdf,
    values_w1_matrix,
)
from gan_directions.topology.coclustering import (
    bicluster_statistics,
    direction_distance_matrix,
    score_at_k,
    search_k,
    similarity_from_distance,
)


def _one_hots(index: int, count: int = 100, bins: int = 100) -> np.ndarray:
    out = np.zeros((count, bins))
    out[:, index] = 1.0
    return out


def _rlt_like(rng, count=100, bins=100):
    out = np.zeros((count, bins))
    out[:, :4] = rng.dirichlet([4.0, 2.0, 1.0, 0.5], size=count)
    return out


def test_entropic_barycenter_matches_pot():  # T16
    rng = np.random.default_rng(0)
    for _ in range(3):
        samples = _rlt_like(rng)
        ours = entropic_barycenter(samples)
        pot = ot.bregman.barycenter(samples.T, paper_cost(100), reg=0.01)
        assert np.abs(ours - pot).max() < 1e-4
        assert ours.sum() == pytest.approx(1.0, abs=1e-4)


def test_entropic_barycenter_is_batched():
    rng = np.random.default_rng(1)
    a, b = _rlt_like(rng, 20), _rlt_like(rng, 20)
    both = entropic_barycenter(np.stack([a, b]))
    assert np.allclose(both[0], entropic_barycenter(a), atol=1e-12)
    assert np.allclose(both[1], entropic_barycenter(b), atol=1e-12)


def test_paper_golden_values():  # T17
    one = entropic_barycenter(_one_hots(1))
    assert one[:6] == pytest.approx([0.096, 0.097, 0.096, 0.094, 0.089, 0.083], abs=1e-3)
    assert (one * np.arange(100)).sum() == pytest.approx(5.7, abs=0.05)
    zero = entropic_barycenter(_one_hots(0))
    assert values_w1_matrix(zero[None], one[None])[0, 0] == pytest.approx(7.22e-4, rel=1e-2)
    raw = values_w1_matrix(_one_hots(0, 1), _one_hots(1, 1))
    assert raw[0, 0] == 0.0  # values mode ignores which bin holds the mass


def test_values_w1_is_scipy_values_mode():
    rng = np.random.default_rng(2)
    a, b = rng.dirichlet(np.ones(100), size=3), rng.dirichlet(np.ones(100), size=2)
    matrix = values_w1_matrix(a, b)
    for i in range(3):
        for j in range(2):
            assert matrix[i, j] == pytest.approx(wasserstein_distance(a[i], b[j]), abs=1e-15)


def test_exact_barycenter_and_histogram_w1():  # T17, corrected mode
    cdf = quantile_barycenter_cdf(np.stack([_one_hots(0, 3), _one_hots(1, 3)]))
    assert histogram_w1_matrix(cdf, None, 1 / 3)[0, 1] == pytest.approx(1.0)
    # The barycenter of delta_0 and delta_2 is delta_1 (averaged quantiles, no blur).
    pair = np.zeros((2, 5))
    pair[0, 0] = pair[1, 2] = 1
    cdf = quantile_barycenter_cdf(pair)
    assert cdf_to_histogram(cdf, 2, 5).tolist() == [0, 1, 0, 0, 0]
    assert grid_mean(cdf, 2) == pytest.approx(1.0)
    # Identical inputs give themselves back.
    rng = np.random.default_rng(3)
    hist = _rlt_like(rng, 1, 10)[0]
    same = quantile_barycenter_cdf(np.stack([hist] * 4))
    assert np.allclose(cdf_to_histogram(same, 4, 10), hist)


def test_exact_barycenter_w1_against_scipy_weights():
    rng = np.random.default_rng(4)
    a, b = _rlt_like(rng, 5, 8), _rlt_like(rng, 5, 8)
    cdf = quantile_barycenter_cdf(np.stack([a, b]))
    positions = np.arange(cdf.shape[1]) / 5
    masses = np.diff(cdf, axis=1, prepend=0.0)
    expected = wasserstein_distance(positions, positions, masses[0], masses[1])
    assert histogram_w1_matrix(cdf, None, 1 / 5)[0, 1] == pytest.approx(expected, abs=1e-12)
    # The exact barycenter's mean is the mean of the input means.
    means = (np.stack([a, b]) * np.arange(8)).sum(-1).mean(-1)
    assert grid_mean(cdf, 5) == pytest.approx(means)


def test_direction_distance_matrix():
    rng = np.random.default_rng(5)
    k, v = 3, 4
    pair = rng.uniform(size=(k * v, k * v))
    pair = (pair + pair.T) / 2
    np.fill_diagonal(pair, 0)
    kept = direction_distance_matrix(pair, k, v, k, v, exclude_same_value=False)
    dropped = direction_distance_matrix(pair, k, v, k, v, exclude_same_value=True)
    blocks = pair.reshape(k, v, k, v)
    for i in range(k):
        for j in range(k):
            assert kept[i, j] == pytest.approx(blocks[i, :, j, :].mean())
            if i != j:
                assert dropped[i, j] == pytest.approx(kept[i, j])
        off = blocks[i, :, i, :][~np.eye(v, dtype=bool)]
        assert dropped[i, i] == pytest.approx(off.mean())


def test_block_matrix_coclusters_and_scores():
    distance = np.full((4, 4), 0.01)
    distance[:2, :2] = distance[2:, 2:] = 0.001
    np.fill_diagonal(distance, 0.0)
    similarity = similarity_from_distance(distance, "paper")
    result = score_at_k(distance, similarity, 2, "paper")
    rows = result["row_labels"]
    assert rows[0] == rows[1] != rows[2] == rows[3]
    assert result["score"] > 0
    score, _ = bicluster_statistics(distance, np.array(rows), np.array(result["column_labels"]), 2)
    assert result["score"] == pytest.approx(1e4 * score)
    searched = search_k(distance, similarity, "paper")
    assert [t["k"] for t in searched["trials"]] == [2, 3, 4]
    assert searched["best"]["variance"] == min(t["variance"] for t in searched["trials"])
    corrected = similarity_from_distance(distance * 100, "corrected")
    assert corrected.min() == 0.0 and corrected.max() == 1.0


@pytest.mark.parametrize("mode", ["paper", "corrected"])
def test_overflowing_rlts_aggregate_to_the_last_bin(mode):
    samples = np.zeros((2, 4, 10))  # the second set spent all its time beyond 10 holes
    samples[0, :, 1] = 1.0
    samples[1, :2, 9] = 0.5
    aggregated = aggregate_rlts(samples, mode)
    assert np.all(np.isfinite(aggregated))
    if mode == "corrected":
        assert cdf_to_histogram(aggregated, 4, 10)[1].tolist() == [0] * 9 + [1]
    else:
        assert aggregated[1].argmax() == 9 and aggregated[0].argmax() <= 2
