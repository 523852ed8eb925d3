"""Witness-complex filtration and H1 persistence: GUDHI's exact semantics (spec T7-T10)."""

import gudhi
import numpy as np
import pytest
from scipy.spatial.distance import cdist

from gan_directions.errors import InvalidInputError
from gan_directions.topology.witness import (
    witness_diagram,
    witness_diagram_from_distances,
    witness_filtration,
)


def gudhi_complex(distances: np.ndarray, alpha_max: float):
    """The oracle: gudhi.WitnessComplex on the sorted plain-distance table.

    GUDHI's witness loop reads one entry past a row when every landmark passes its relaxation
    test (undefined behaviour; it can crash), so each row gets a sentinel landmark far beyond
    alpha_max. The sentinel never enters the complex and is never a witness's nearest omitted
    landmark before a vertex, so the complex is unchanged.
    """
    sentinel = distances.max() + 2 * alpha_max + 1.0
    distances = np.hstack([distances, np.full((distances.shape[0], 1), sentinel)])
    order = np.argsort(distances, axis=1, kind="stable")
    ordered = np.take_along_axis(distances, order, axis=1)
    rows = zip(order, ordered, strict=True)
    table = [list(zip(o.tolist(), d.tolist(), strict=True)) for o, d in rows]
    complex_ = gudhi.WitnessComplex(nearest_landmark_table=table)
    return complex_.create_simplex_tree(max_alpha_square=alpha_max, limit_dimension=2)


def gudhi_simplices(distances: np.ndarray, alpha_max: float) -> dict:
    tree = gudhi_complex(distances, alpha_max)
    simplices = tree.get_simplices()  # keep the tree alive while iterating
    return {tuple(s): f for s, f in simplices}


def gudhi_h1(distances: np.ndarray, alpha_max: float) -> np.ndarray:
    tree = gudhi_complex(distances, alpha_max)
    tree.persistence(homology_coeff_field=2)
    return np.asarray(tree.persistence_intervals_in_dimension(1)).reshape(-1, 2)


def canonical(intervals: np.ndarray) -> np.ndarray:
    intervals = np.asarray(intervals, dtype=np.float64).reshape(-1, 2)
    return intervals[np.lexsort((intervals[:, 1], intervals[:, 0]))]


def test_vertices_and_nearest_pair_edges_at_zero():  # T7
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 3))
    landmarks = rng.choice(80, 15, replace=False)
    d = cdist(X, X[landmarks])
    filtration = witness_filtration(d, 0.1)
    assert set(filtration.vertices.tolist()) == set(range(15))
    assert np.all(filtration.vertex_values == 0)
    simplices = filtration.simplices()
    nearest_two = np.sort(np.argsort(d, axis=1)[:, :2], axis=1)
    for a, b in {tuple(row) for row in nearest_two.tolist()}:
        assert simplices[(a, b)] == 0.0


def test_hand_example_relaxation():  # T8
    d = np.array([[1.0, 2.0, 3.0, 3.1]])  # one witness; landmarks a, b, c, d
    simplices = witness_filtration(d, 10.0).simplices()
    assert simplices[(1, 2)] == pytest.approx(2.0)  # a_w({b, c}) = 3 - 1
    assert simplices[(0, 1, 2)] >= simplices[(1, 2)]  # a_w({a,b,c}) = 0, lifted by its faces
    assert simplices[(0, 1, 2)] == pytest.approx(2.0)
    oracle = gudhi_simplices(d, 10.0)
    assert simplices == oracle


def test_equal_to_gudhi_on_random_clouds():  # T9
    rng = np.random.default_rng(2024)
    for trial in range(60):
        dim = int(rng.integers(2, 11))
        X = rng.standard_normal((60, dim))
        # Odd trials: landmarks drawn from the points with replacement, as the paper does.
        landmarks = X[rng.integers(0, 60, 12)] if trial % 2 else rng.standard_normal((12, dim))
        d = cdist(X, landmarks)
        alpha = d.max() * [1 / 128, 1 / 16, 1 / 4, 1.0][trial % 4]
        ours = witness_filtration(d, alpha).simplices()
        oracle = gudhi_simplices(d, alpha)
        assert ours == oracle, f"filtration differs on trial {trial}"
        assert np.array_equal(
            canonical(witness_diagram_from_distances(d, alpha)), canonical(gudhi_h1(d, alpha))
        ), f"H1 diagram differs on trial {trial}"


def test_equal_to_gudhi_at_paper_scale():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((1000, 64))
    for _ in range(3):
        d = cdist(X, X[rng.integers(0, 1000, 100)])
        alpha = d.max() / 128
        ours = witness_diagram_from_distances(d, alpha)
        assert len(ours) > 0
        assert np.array_equal(canonical(ours), canonical(gudhi_h1(d, alpha)))


def test_circle_has_h1():  # T10
    t = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    X = np.stack([np.cos(t), np.sin(t)], axis=1)
    intervals = witness_diagram(X, np.arange(0, 200, 10), alpha_max=0.5)
    assert len(intervals) >= 1
    assert np.isinf(intervals[:, 1]).sum() == 1 or (intervals[:, 1] - intervals[:, 0]).max() > 0.1


def test_landmark_points_equal_landmark_indices():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((50, 4))
    idx = rng.integers(0, 50, 10)
    assert np.array_equal(witness_diagram(X, idx, 0.3), witness_diagram(X, X[idx], 0.3))


@pytest.mark.parametrize(
    "X, landmarks, alpha",
    [
        (np.full((10, 2), np.nan), np.arange(3), 0.1),
        (np.zeros((10, 2)), np.arange(3), -1.0),
        (np.zeros((10, 2)), np.array([0, 11]), 0.1),
        (np.zeros((10, 2)), np.array([0.5, 1.5]), 0.1),
        (np.zeros((10,)), np.arange(3), 0.1),
        (np.zeros((10, 2)), np.zeros((3, 5)), 0.1),
    ],
)
def test_bad_input_is_a_clear_error(X, landmarks, alpha):
    with pytest.raises(InvalidInputError):
        witness_diagram(X, landmarks, alpha)


def test_triangle_free_complex_matches_gudhi_quirk():
    # Witnesses at the edge midpoints of a unit square: the complex is the 4-cycle, no triangle.
    corners = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    mids = (corners + np.roll(corners, -1, axis=0)) / 2
    X = np.vstack([mids, corners])
    landmarks = np.arange(4, 8)
    d = cdist(X, X[landmarks])
    assert len(witness_filtration(d, 0.1).triangles) == 0
    assert witness_diagram(X, landmarks, 0.1).shape == (0, 2)  # GUDHI skips the top dimension
    assert gudhi_h1(d, 0.1).shape == (0, 2)
    cycle = witness_diagram(X, landmarks, 0.1, gudhi_compatible=False)
    assert cycle.tolist() == [[0.0, np.inf]]


def test_equal_to_gudhi_with_ties_and_few_landmarks():
    rng = np.random.default_rng(5)
    for trial in range(80):
        n_landmarks, n_points = int(rng.integers(1, 6)), int(rng.integers(1, 20))
        dim = int(rng.integers(1, 4))
        X = np.round(rng.standard_normal((n_points, dim)), 1)  # rounding makes distance ties
        d = cdist(X, np.round(rng.standard_normal((n_landmarks, dim)), 1))
        alpha = d.max() * [0.0, 1 / 8, 1 / 2][trial % 3]
        assert witness_filtration(d, alpha).simplices() == gudhi_simplices(d, alpha), trial
        assert np.array_equal(
            canonical(witness_diagram_from_distances(d, alpha)), canonical(gudhi_h1(d, alpha))
        ), trial
