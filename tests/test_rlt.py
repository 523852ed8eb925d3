"""Relative living times (spec T1-T6, T11-T12 shapes, T14 invariances)."""

import numpy as np
import pytest

from gan_directions.errors import InvalidInputError
from gan_directions.topology.rlt import relative_living_times, rlt, rlts, rlts_many


def test_no_interval_gives_e0():  # T1
    expected = np.zeros(5)
    expected[0] = 1
    assert np.array_equal(relative_living_times(np.zeros((0, 2)), 1.0, 5), expected)


def test_one_interval():  # T2
    out = relative_living_times(np.array([[0.25, 0.75]]), 2.0, 4)
    assert out[1] == pytest.approx(0.25)
    assert out[0] == pytest.approx(0.75)
    assert out.sum() == pytest.approx(1.0)


def test_infinite_death_is_clipped():  # T3
    out = relative_living_times(np.array([[0.4, np.inf]]), 1.0, 3)
    assert out.tolist() == pytest.approx([0.4, 0.6, 0.0])


def test_overlapping_intervals():  # T4
    out = relative_living_times(np.array([[0.1, 0.5], [0.3, 0.7]]), 1.0, 4)
    assert out.tolist() == pytest.approx([0.4, 0.4, 0.2, 0.0])


def test_zero_length_intervals_contribute_nothing():  # T5
    out = relative_living_times(np.array([[0.3, 0.3], [0.1, 0.5], [0.5, 0.5]]), 1.0, 3)
    assert out.tolist() == pytest.approx([0.6, 0.4, 0.0])


def test_time_beyond_i_max_is_dropped():  # T6: the official behaviour, documented
    out = relative_living_times(np.array([[0.0, 0.5], [0.0, 0.5], [0.0, 1.0]]), 1.0, 3)
    assert out.tolist() == pytest.approx([0.0, 0.5, 0.0])
    assert out.sum() == pytest.approx(0.5)


def _noisy(points, rng, sigma=0.05):
    return points + rng.normal(0, sigma, points.shape)


def _circle(n, rng, center=(0.0, 0.0)):
    t = rng.uniform(0, 2 * np.pi, n)
    return np.stack([np.cos(t) + center[0], np.sin(t) + center[1]], axis=1)


def _disk(n, rng):
    r = np.sqrt(rng.uniform(0, 1, n))
    t = rng.uniform(0, 2 * np.pi, n)
    return np.stack([r * np.cos(t), r * np.sin(t)], axis=1)


@pytest.mark.parametrize("shape, holes", [("circle", 1), ("disk", 0), ("eight", 2)])
def test_shapes_have_their_number_of_holes(shape, holes):  # T11-T12, reduced sizes
    rng = np.random.default_rng(0)
    points = {
        "circle": lambda: _circle(1000, rng),
        "disk": lambda: _disk(1000, rng),
        "eight": lambda: np.vstack([_circle(500, rng, (-1, 0)), _circle(500, rng, (1, 0))]),
    }[shape]()
    mrlt = rlts(_noisy(points, rng), n=20, n_landmarks=32, gamma=1 / 8, i_max=10, seed=0)
    assert mrlt.mean(axis=0).argmax() == holes
    assert mrlt.mean(axis=0).max() > 0.6


def test_invariances():  # T14
    rng = np.random.default_rng(1)
    X = _noisy(_circle(300, rng), rng, 0.1)
    X = np.hstack([X, rng.normal(0, 0.1, (300, 2))])
    landmarks = rng.integers(0, 300, 40)
    reference = rlt(X, landmarks, gamma=1 / 8, i_max=10)
    # Exact in floating point: sign flips, zero padding, scaling by 2.
    exact = [X * np.array([1, -1, -1, 1]), np.hstack([X, np.zeros((300, 3))]), X * 2.0]
    for Y in exact:
        assert np.array_equal(rlt(Y, landmarks, gamma=1 / 8, i_max=10), reference)
    # Permuting witnesses while keeping the landmarks.
    perm = rng.permutation(300)
    inverse = np.argsort(perm)
    assert np.array_equal(rlt(X[perm], inverse[landmarks], gamma=1 / 8, i_max=10), reference)
    # Coordinate permutation, a rigid motion in a higher dimension: equal up to the rounding
    # of the distances (the summation order changes).
    q, _ = np.linalg.qr(rng.standard_normal((7, 7)))
    for Y in [X[:, [2, 0, 3, 1]], np.hstack([X, np.zeros((300, 3))]) @ q.T + 3.0]:
        assert np.allclose(rlt(Y, landmarks, gamma=1 / 8, i_max=10), reference, atol=1e-9)


def test_seeded_and_worker_independent():
    rng = np.random.default_rng(2)
    clouds = [_noisy(_circle(200, rng), rng) for _ in range(3)]
    one = rlts_many(clouds, n=4, n_landmarks=20, gamma=1 / 8, i_max=10, seed=5, workers=1)
    two = rlts_many(clouds, n=4, n_landmarks=20, gamma=1 / 8, i_max=10, seed=5, workers=2)
    for a, b in zip(one, two, strict=False):
        assert np.array_equal(a, b)
    assert np.array_equal(rlts(clouds[0], n=3, n_landmarks=20, seed=9),
                          rlts(clouds[0], n=3, n_landmarks=20, seed=9))


def test_bad_input_is_a_clear_error():
    with pytest.raises(InvalidInputError, match="at least as many points as landmarks"):
        rlts(np.zeros((10, 2)), n=2, n_landmarks=64)
    with pytest.raises(InvalidInputError, match="NaN"):
        rlt(np.full((100, 2), np.nan), 10)
    with pytest.raises(InvalidInputError):
        rlts_many([np.zeros((5, 2))], n=1, n_landmarks=10)
