"""R-Cross-Barcode and RTD: exactness against brute-force GF(2) references, and RTD's properties."""

from itertools import combinations

import numpy as np
import pytest
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import cdist

from gan_directions.errors import InvalidInputError
from gan_directions.topology.rtd import cross_matrix, rtd, rtd_barcode, rtd_from_distances


def reduce_h1(simplices):
    """H1 bars of a filtered complex by the standard GF(2) column reduction.

    ``simplices``: list of (value, vertex tuple), faces before cofaces. Returns sorted
    (birth, death) pairs of positive length, dimension 1 only.
    """
    order = sorted(range(len(simplices)), key=lambda k: (simplices[k][0], len(simplices[k][1])))
    simplices = [simplices[k] for k in order]
    index = {s: k for k, (_, s) in enumerate(simplices)}
    pivots, bars = {}, []
    for value, s in simplices:
        column = 0
        if len(s) > 1:
            for face in combinations(s, len(s) - 1):
                column ^= 1 << index[face]
        while column and (low := column.bit_length() - 1) in pivots:
            column ^= pivots[low]
        if column:
            pivots[low] = column
            birth_value, birth = simplices[low]
            if len(birth) == 2 and value > birth_value:
                bars.append((birth_value, value))
    return np.array(sorted(bars)).reshape(-1, 2)


def brute_force_vr_h1(M):
    """H1 barcode of the Vietoris-Rips filtration of the full matrix ``M`` (all triangles)."""
    n = len(M)
    simplices = [(0.0, (v,)) for v in range(n)]
    simplices += [(M[a, b], (a, b)) for a, b in combinations(range(n), 2)]
    simplices += [
        (max(M[a, b], M[a, c], M[b, c]), (a, b, c)) for a, b, c in combinations(range(n), 3)
    ]
    return reduce_h1(simplices)


def brute_force_cone_h1(sub, full):
    """H1 barcode of the mapping cone of VR(sub) ⊂ VR(full) (spec §5.7), apex = vertex -1."""
    n = len(sub)
    vr = lambda D, s: max(D[a, b] for a, b in combinations(s, 2)) if len(s) > 1 else 0.0  # noqa: E731
    simplices = [(0.0, (-1,))]
    for k in (1, 2, 3):
        for s in combinations(range(n), k):
            simplices.append((vr(full, s), s))
            if k < 3:
                simplices.append((vr(sub, s), (-1, *s)))
    return reduce_h1(simplices)


def random_pair(rng, n, kind):
    P = rng.normal(size=(n, rng.integers(2, 4)))
    if kind == "unrelated":
        Q = rng.normal(size=(n, 3))
    else:
        Q = P + {"near": 0.1, "far": 0.7}[kind] * rng.normal(size=P.shape)
    return cdist(P, P), cdist(Q, Q)


def sorted_bars(barcode):
    return barcode.bars[np.lexsort((barcode.bars[:, 1], barcode.bars[:, 0]))]


CASES = [(seed, n, kind) for seed, (n, kind) in enumerate(
    [(4, "far"), (5, "near"), (5, "unrelated"), (6, "far"), (6, "unrelated"), (6, "near")] * 2
)]


@pytest.mark.parametrize("mode", ["min", "max"])
@pytest.mark.parametrize(("seed", "n", "kind"), CASES)
def test_barcode_matches_brute_force_reduction(mode, seed, n, kind):
    A, B = random_pair(np.random.default_rng(seed), n, kind)
    M = cross_matrix(A, B, mode)
    expected = brute_force_vr_h1(M)
    got = rtd_barcode(A, B, mode)
    np.testing.assert_allclose(sorted_bars(got), expected, rtol=1e-6, atol=1e-9)
    # every bar is realised by the reported edges of the doubled matrix
    np.testing.assert_array_equal(got.bars[:, 0], M[tuple(got.birth_edges.T)])
    np.testing.assert_array_equal(got.bars[:, 1], M[tuple(got.death_edges.T)])
    assert (np.diff(got.lengths) <= 0).all()


@pytest.mark.parametrize(("seed", "n", "kind"), CASES[:6])
def test_barcode_equals_relative_homology_of_the_mapping_cone(seed, n, kind):
    A, B = random_pair(np.random.default_rng(100 + seed), n, kind)
    np.testing.assert_allclose(
        sorted_bars(rtd_barcode(A, B, "min")), brute_force_cone_h1(A, np.minimum(A, B)), atol=1e-9
    )
    np.testing.assert_allclose(
        sorted_bars(rtd_barcode(A, B, "max")), brute_force_cone_h1(np.maximum(A, B), B), atol=1e-9
    )


def test_barcode_matches_plain_ripser_on_a_larger_cloud():
    ripser = pytest.importorskip("ripser")
    A, B = random_pair(np.random.default_rng(7), 40, "far")
    for mode in ("min", "max"):
        dgm = ripser.ripser(cross_matrix(A, B, mode), maxdim=1, distance_matrix=True)["dgms"][1]
        got = rtd_barcode(A, B, mode)
        assert len(got.bars) == len(dgm)
        np.testing.assert_allclose(got.lengths.sum(), (dgm[:, 1] - dgm[:, 0]).sum(), rtol=1e-5)


def clouds(seed, n=30, dim=5, noise=0.5):
    rng = np.random.default_rng(seed)
    P = rng.normal(size=(n, dim))
    return P, P + noise * rng.normal(size=(n, dim))


@pytest.mark.parametrize("mode", ["min", "max"])
def test_identical_clouds_have_empty_barcode(mode):
    P, _ = clouds(0)
    A = cdist(P, P)
    assert len(rtd_barcode(A, A, mode).bars) == 0
    assert rtd(P, P, mode=mode) == 0.0


@pytest.mark.parametrize("mode", ["min", "max"])
def test_dominated_distances_give_empty_barcode(mode):
    P, Q = clouds(1)
    A = cdist(P, P)
    bigger = A + cdist(Q, Q)  # a metric >= A everywhere
    assert len(rtd_barcode(A, 1.5 * A, mode).bars) == 0
    assert len(rtd_barcode(A, bigger, mode).bars) == 0
    assert len(rtd_barcode(bigger, A, mode).bars) > 0


@pytest.mark.parametrize("mode", ["min", "max"])
@pytest.mark.parametrize("seed", range(4))
def test_bar_lengths_bounded_by_largest_distance_decrease(mode, seed):
    P, Q = clouds(seed, noise=1.0)
    A, B = cdist(P, P), cdist(Q, Q)
    bound = np.maximum(A - B, 0).max()
    lengths = rtd_barcode(A, B, mode).lengths
    assert len(lengths) > 0
    assert lengths.max() <= bound + 1e-12


def mst_weight(D):
    return minimum_spanning_tree(D).sum()


@pytest.mark.parametrize("seed", range(4))
def test_rtd_at_least_mst_difference(seed):
    P, Q = clouds(seed, noise=1.0)
    A, B = cdist(P, P), cdist(Q, Q)
    total = rtd_barcode(A, B, "min").lengths.sum()
    assert total >= mst_weight(A) - mst_weight(np.minimum(A, B)) - 1e-9


def test_permutation_isometry_and_dimension_invariance():
    P, Q = clouds(3)
    base = rtd(P, Q)
    perm = np.random.default_rng(0).permutation(len(P))
    assert rtd(P[perm], Q[perm]) == pytest.approx(base, rel=1e-6)
    rotation, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(5, 5)))
    assert rtd(P @ rotation + 3.0, Q) == pytest.approx(base, rel=1e-6)
    padded = np.concatenate([Q, np.zeros((len(Q), 7))], axis=1)  # same distances, higher dim
    assert rtd(P, padded) == pytest.approx(base, rel=1e-6)


def test_homogeneity_and_per_cloud_scale_invariance():
    P, Q = clouds(4)
    raw = rtd(P, Q, normalize=None)
    assert rtd(2.5 * P, 2.5 * Q, normalize=None) == pytest.approx(2.5 * raw, rel=1e-6)
    assert rtd(3.0 * P, 0.2 * Q) == pytest.approx(rtd(P, Q), rel=1e-6)


def test_symmetric_rtd_is_symmetric_and_asymmetric_parts_differ():
    P, Q = clouds(5, noise=1.0)
    assert rtd(P, Q) == pytest.approx(rtd(Q, P), rel=1e-9)
    A, B = cdist(P, P), cdist(Q, Q)
    forward = rtd_from_distances(A, B, symmetric=False)
    backward = rtd_from_distances(B, A, symmetric=False)
    assert forward != pytest.approx(backward)
    assert rtd_from_distances(A, B) == pytest.approx(0.5 * (forward + backward))
    # the 'max' construction is not the 'min' one with the arguments swapped
    assert rtd_from_distances(A, B, False, "max") != pytest.approx(backward)


def test_subsampled_rtd_is_deterministic_and_full_when_subset_covers_all():
    P, Q = clouds(6, n=40)
    assert rtd(P, Q, trials=3, subset=20, seed=1) == rtd(P, Q, trials=3, subset=20, seed=1)
    assert rtd(P, Q, trials=3, subset=20, seed=1) != rtd(P, Q, trials=3, subset=20, seed=2)
    assert rtd(P, Q, subset=40) == rtd(P, Q, subset=None)


def test_rtd_grows_with_perturbation():
    P, _ = clouds(7)
    noise = np.random.default_rng(8).normal(size=P.shape)
    values = [rtd(P, P + s * noise) for s in (0.05, 0.3, 1.0)]
    assert values[0] < values[1] < values[2]


@pytest.mark.parametrize(
    ("A", "B", "message"),
    [
        (np.full((4, 4), np.nan), np.zeros((4, 4)), "NaN"),
        (np.zeros((4, 4)), np.full((4, 4), np.inf), "NaN or inf"),
        (np.zeros((2, 2)), np.zeros((2, 2)), "at least 3"),
        (np.zeros((4, 4)), np.zeros((5, 5)), "differ in shape"),
        (np.zeros((4, 5)), np.zeros((4, 5)), "square"),
        (-np.ones((4, 4)), np.zeros((4, 4)), "negative"),
        (np.triu(np.ones((4, 4)), 1), np.zeros((4, 4)), "symmetric"),
    ],
)
def test_bad_matrices_raise_clear_value_errors(A, B, message):
    with pytest.raises(InvalidInputError, match=message) as info:
        rtd_barcode(A, B)
    assert isinstance(info.value, ValueError)


def test_bad_clouds_and_options_raise_value_errors():
    P, Q = clouds(0)
    with pytest.raises(ValueError, match="same N"):
        rtd(P, Q[:-1])
    with pytest.raises(ValueError, match="at least 3"):
        rtd(P[:2], Q[:2])
    with pytest.raises(ValueError, match="NaN"):
        rtd(np.where(P > 1, np.nan, P), Q)
    with pytest.raises(ValueError, match="normalize"):
        rtd(P, Q, normalize="quantile7")
    with pytest.raises(ValueError, match="mode"):
        rtd_barcode(cdist(P, P), cdist(Q, Q), mode="mean")


def test_rtd_accepts_torch_tensors_that_require_grad():
    torch = pytest.importorskip("torch")
    P, Q = clouds(9)
    tensors = torch.tensor(P, requires_grad=True), torch.tensor(Q)
    assert rtd(*tensors) == pytest.approx(rtd(P, Q), rel=1e-12)
