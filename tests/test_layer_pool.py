"""TopDis per layer range: SeFa's candidates per pair of style layers and the rule keeping K."""

from __future__ import annotations

import re

import numpy as np
import pytest
from search_resume import assert_resume_is_bit_identical

from gan_directions.discovery import find_directions
from gan_directions.discovery.init import sefa_directions
from gan_directions.discovery.latents import LatentSpace
from gan_directions.discovery.layer_pool import (
    ALL_LAYERS,
    FIRST_ADJACENT,
    PER_ADJACENT,
    PER_RANGE,
    PLANE_ANGLES,
    REPEAT,
    RangePool,
    RangeRule,
    adjacent_spans,
    choose_from_ranges,
    eligible,
    layer_ranges,
    on_layers,
    range_pool,
    tied_scales,
    whole_edits,
)
from gan_directions.errors import InvalidInputError
from gan_directions.generators.registry import load_generator


@pytest.fixture(scope="module")
def sprites():
    return load_generator("stylegan2-sprites", device="cpu")


def test_layer_ranges_pair_consecutive_entries():
    assert layer_ranges(0, 9) == [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)]
    assert layer_ranges(3, 7) == [(3, 4), (5, 6), (7, 7)]


def test_adjacent_spans_join_each_two_neighbouring_ranges():
    assert adjacent_spans(layer_ranges(0, 9)) == [(0, 3), (2, 5), (4, 7), (6, 9)]
    assert adjacent_spans(layer_ranges(3, 7)) == [(3, 6), (5, 7)]
    assert adjacent_spans(layer_ranges(0, 3)) == []  # two ranges together are all layers


def test_tied_scale_of_a_lifted_direction_is_its_std_in_w():
    """With every layer holding the same w, a w direction on c layers (unit W+ vector) has the
    std of w along it times sqrt(c): each edited layer moves by one std."""
    rng = np.random.RandomState(0)
    root = rng.randn(5, 5)
    covariance = root @ root.T
    direction = rng.randn(5)
    direction /= np.linalg.norm(direction)
    std = np.sqrt(direction @ covariance @ direction)
    everywhere = on_layers(direction, (0, 3), (0, 3))
    pair = on_layers(direction, (0, 3), (2, 3))
    assert np.linalg.norm(pair) == pytest.approx(1.0)
    assert pair.reshape(4, 5)[:2].tolist() == [[0.0] * 5] * 2
    scales = tied_scales(np.stack([everywhere, pair]), covariance, 4)
    np.testing.assert_allclose(scales, [std * 2, std * np.sqrt(2)], rtol=1e-12)


def make_pool(ranges: int, per_range: int, k: int) -> RangePool:
    groups = [ALL_LAYERS] * k + [r for r in range(ranges) for _ in range(per_range)]
    ranks = list(range(k)) + [i for _ in range(ranges) for i in range(per_range)]
    n = len(groups)
    return RangePool(np.eye(n), np.ones(n), np.array(groups), np.array(ranks),
                     [(2 * r, 2 * r + 1) for r in range(ranges)], np.eye(n))


def test_rule_keeps_each_ranges_lowest_score_and_no_all_layer_direction():
    pool = make_pool(ranges=3, per_range=3, k=3)  # candidates 3-5, 6-8, 9-11
    scores = np.full(12, np.inf)
    scores[[4, 6, 11]] = [0.2, 0.1, 0.3]
    kept = choose_from_ranges(pool, scores, np.ones(12, bool), 3)
    assert kept.tolist() == [4, 6, 11]


def test_rule_with_equal_scores_keeps_the_ranges_firsts_the_ablation():
    pool = make_pool(ranges=3, per_range=3, k=4)  # candidates 4-6, 7-9, 10-12
    kept = choose_from_ranges(pool, np.full(13, np.inf), np.ones(13, bool), 4)
    assert kept.tolist() == [4, 5, 7, 10]  # the slot left goes to the coarsest range's next


def test_rule_fewer_slots_than_ranges_goes_by_score_and_more_by_score_anywhere():
    pool = make_pool(ranges=3, per_range=3, k=6)  # candidates 6-8, 9-11, 12-14
    scores = np.arange(15, dtype=float)[::-1]  # later candidates score lower (better)
    allowed = np.ones(15, bool)
    assert choose_from_ranges(pool, scores, allowed, 2).tolist() == [11, 14]
    # one per range (8, 11, 14), then the lowest scores left: two of range 2, one of range 1
    assert choose_from_ranges(pool, scores, allowed, 6).tolist() == [8, 10, 11, 12, 13, 14]


def test_a_second_range_along_a_kept_w_direction_is_passed_over():
    pool = make_pool(ranges=3, per_range=2, k=4)  # candidates 4-5, 6-7, 8-9
    pool.w_directions[8] = (pool.w_directions[4] + 0.2 * pool.w_directions[9]) / np.hypot(1, 0.2)
    scores = np.array([np.inf] * 4 + [0.1, 0.9, 0.2, 0.8, 0.3, 0.7])
    allowed = np.ones(10, bool)
    # the first offers are 4, 6, 8; 8 is 4's w direction on another range and is passed
    # over; the slot left goes to the lowest score left, 9 (0.7 against 0.8 and 0.9)
    assert choose_from_ranges(pool, scores, allowed, 3).tolist() == [4, 6, 9]
    pool.w_directions[8] = pool.w_directions[5]  # the same direction as a candidate not kept
    assert choose_from_ranges(pool, scores, allowed, 3).tolist() == [4, 6, 8]


def test_an_offer_near_a_kept_w_direction_repeats_it_below_the_part_bar():
    pool = make_pool(ranges=2, per_range=2, k=3)  # candidates 3-4, 5-6
    near = pool.w_directions[3] + 0.9 * pool.w_directions[6]  # |cos| 0.74 with 3
    pool.w_directions[5] = near / np.linalg.norm(near)
    assert REPEAT < abs(pool.w_directions[3] @ pool.w_directions[5]) < 0.8
    scores = np.array([np.inf] * 3 + [0.1, 0.4, 0.2, 0.3])
    # range 1's first offer, 5, repeats 3 and is passed over; its next, 6, is kept
    assert choose_from_ranges(pool, scores, np.ones(7, bool), 2).tolist() == [3, 6]


def adjacent_pool() -> RangePool:
    """All-layer 0-2; ranges 0-2 (layers 0-1, 2-3, 4-5): 3-4, 5-6, 7-8; adjacent ranges 0 and
    1 (layers 0-3): 9-10, and 1 and 2 (layers 2-5): 11-12. Candidate 7 is a part of 12 (|cos|
    0.89)."""
    groups = [ALL_LAYERS] * 3 + [0, 0, 1, 1, 2, 2] + [FIRST_ADJACENT] * 2 + [FIRST_ADJACENT - 1] * 2
    n = len(groups)
    pool = RangePool(np.eye(n), np.ones(n), np.array(groups), np.array([0, 1, 2] + [0, 1] * 5),
                     [(0, 1), (2, 3), (4, 5)], np.eye(n), adjacent=[(0, 3), (2, 5)])
    mixed = pool.w_directions[12] + 0.5 * pool.w_directions[7]
    pool.w_directions[7] = mixed / np.linalg.norm(mixed)
    return pool


def test_a_part_is_offered_as_the_adjacent_ranges_whole_it_belongs_to():
    pool = adjacent_pool()
    allowed = np.ones(13, bool)
    assert pool.describe(12) == "SeFa #1 of layers 2-5"
    assert pool.describe(9) == "SeFa #0 of layers 0-3"
    assert pool.wholes(allowed).tolist() == [1, 2, 9, 10, 11, 12]
    assert whole_edits(pool, allowed).tolist() == [-1] * 7 + [12] + [-1] * 5
    scores = np.full(13, np.inf)
    scores[[3, 5, 7, 12]] = [0.1, 0.2, 0.5, 0.3]
    # range 2 offers 7 as 12, which scores lower
    assert choose_from_ranges(pool, scores, allowed, 3).tolist() == [3, 5, 12]
    scores[12] = 0.6
    assert choose_from_ranges(pool, scores, allowed, 3).tolist() == [3, 5, 7]


def split_edit_pool() -> RangePool:
    """All-layer 0-2, range 0: 3-4, range 1: 5-6; 3 and 5 are parts of all-layer SeFa #1 (|cos|
    0.67 with each other: no repeat by ``REPEAT``), 4 is along all-layer SeFa #0 (the mixed
    direction, never a whole)."""
    pool = make_pool(ranges=2, per_range=2, k=3)
    for part, whole in ((3, 1), (5, 1), (4, 0)):
        mixed = pool.w_directions[whole] + 0.7 * pool.w_directions[part]  # |cos| 0.82
        pool.w_directions[part] = mixed / np.linalg.norm(mixed)
    return pool


def test_a_candidate_is_a_part_of_the_all_layer_edit_its_w_direction_follows():
    pool = split_edit_pool()
    allowed = np.ones(7, bool)
    assert whole_edits(pool, allowed).tolist() == [-1, -1, -1, 1, -1, 1, -1]
    allowed[1] = False  # a guarded whole is no whole
    assert whole_edits(pool, allowed).tolist() == [-1] * 7
    assert RangeRule(pool, np.ones(7, bool), 2).measured == [1, 3, 4, 5, 6]


def test_a_split_edit_is_kept_whole_only_when_the_whole_scores_lower():
    pool = split_edit_pool()
    allowed = np.ones(7, bool)
    scores = np.array([0.01, 0.2, np.inf, 0.5, 0.6, 0.4, 0.7])
    # range 0 offers 3 as its whole, 1, which takes range 1's first offer too (5, a part of
    # 1); 5 is then the same edit as 1 and passed over; 4 (0.6) and 6 (0.7) fill the slots,
    # 4 though it follows all-layer #0, which is never offered
    assert choose_from_ranges(pool, scores, allowed, 3).tolist() == [1, 4, 6]
    scores[1] = 0.55  # above both parts' scores: the parts are kept
    assert choose_from_ranges(pool, scores, allowed, 2).tolist() == [3, 5]
    # without measurements (the ablation) no whole replaces a part
    assert choose_from_ranges(pool, np.full(7, np.inf), allowed, 2).tolist() == [3, 5]


def test_a_whole_kept_first_takes_the_first_offer_of_every_range_holding_a_part():
    pool = make_pool(ranges=3, per_range=2, k=3)  # candidates 3-4, 5-6, 7-8
    for part in (5, 7):  # parts of all-layer SeFa #1 on ranges 1 and 2
        mixed = pool.w_directions[1] + 0.6 * pool.w_directions[part]
        pool.w_directions[part] = mixed / np.linalg.norm(mixed)
    allowed = np.ones(9, bool)
    scores = np.array([np.inf, 0.3, np.inf, 0.1, 0.2, 0.6, 0.5, 0.4, 0.9])
    # first offers: 3 (0.1), 1 for part 7 (0.3), 6 (0.5); the whole takes range 1's offer,
    # so the last slot goes to the lowest score left, range 0's 4 (0.2)
    assert choose_from_ranges(pool, scores, allowed, 3).tolist() == [1, 3, 4]
    scores[1] = np.inf  # no whole: one per range
    assert choose_from_ranges(pool, scores, allowed, 3).tolist() == [3, 6, 7]


def test_a_kept_whole_takes_its_parts_on_every_range():
    pool = make_pool(ranges=2, per_range=3, k=3)  # candidates 3-5, 6-8
    for part in (3, 6):  # parts of all-layer SeFa #1
        mixed = pool.w_directions[1] + 0.6 * pool.w_directions[part]
        pool.w_directions[part] = mixed / np.linalg.norm(mixed)
    pool.vectors[8] = (pool.vectors[6] + pool.vectors[7]) / np.sqrt(2)  # half along part 6
    allowed = np.ones(9, bool)
    scores = np.array([np.inf, 0.2, np.inf, 0.5, 0.6, 0.7, 0.3, 0.9, 0.4])
    # range 0 offers 3 as 1, which takes part 6 on range 1 as well: 8, not orthogonal to 6,
    # is not kept though it scores lower than 4 and 5
    assert choose_from_ranges(pool, scores, allowed, 3).tolist() == [1, 4, 5]


def plane_pool() -> tuple[RangePool, np.ndarray, np.ndarray]:
    """All-layer candidates 0-2 and two ranges (layers 0-1: 3-5, 2-3: 6-8) of three SeFa
    directions each, all orthogonal in w (R⁹, 4 layers); the guard's verdicts leave range 0's
    #1 and #2 and range 1's #0 and #1 as the first two eligible; and the w covariance."""
    rng = np.random.RandomState(0)
    basis = np.linalg.qr(rng.randn(9, 9))[0]
    vectors = np.stack([on_layers(basis[i], (0, 3), edited) for i, edited in
                        enumerate([(0, 3)] * 3 + [(0, 1)] * 3 + [(2, 3)] * 3)])
    root = rng.randn(9, 9)
    covariance = root @ root.T
    summed = vectors.reshape(9, 4, 9).sum(axis=1)
    pool = RangePool(vectors, tied_scales(vectors, covariance, 4),
                     np.array([ALL_LAYERS] * 3 + [0] * 3 + [1] * 3), np.array([0, 1, 2] * 3),
                     [(0, 1), (2, 3)], summed / np.linalg.norm(summed, axis=1, keepdims=True))
    allowed = np.ones(9, bool)
    allowed[[3, 8]] = False
    return pool, allowed, covariance


def test_plane_candidates_turn_each_ranges_first_two_eligible_directions():
    sefa, allowed, covariance = plane_pool()
    pool = sefa.with_planes(allowed, covariance)
    turns = len(PLANE_ANGLES)
    assert len(pool.vectors) == 9 + 2 * turns
    added = np.arange(9, len(pool.vectors))
    assert pool.groups[added].tolist() == [0] * turns + [1] * turns
    assert pool.planes[added].tolist() == [[4, 5]] * turns + [[6, 7]] * turns
    assert pool.planes[:9].tolist() == [[-1, -1]] * 9
    assert pool.angles[added].tolist() == list(PLANE_ANGLES) * 2
    for index, angle in zip(added[:turns], PLANE_ANGLES, strict=True):
        turn = np.radians(angle)
        np.testing.assert_allclose(pool.vectors[index], np.cos(turn) * pool.vectors[4]
                                   + np.sin(turn) * pool.vectors[5])
    np.testing.assert_allclose(np.linalg.norm(pool.vectors, axis=1), 1)
    np.testing.assert_allclose(pool.scales, tied_scales(pool.vectors, covariance, 4))
    summed = pool.vectors.reshape(len(pool.vectors), 4, 9).sum(axis=1)
    np.testing.assert_allclose((pool.w_directions * summed).sum(axis=1),
                               np.linalg.norm(summed, axis=1))
    assert pool.describe(9) == f"SeFa #1/#2 of layers 0-1 at {PLANE_ANGLES[0]:g}°"
    assert pool.describe(4) == "SeFa #1 of layers 0-1"
    allowed[[4, 7]] = False  # one eligible candidate per range: no plane
    assert len(sefa.with_planes(allowed, covariance).vectors) == 9


def test_a_kept_plane_candidate_leaves_only_its_complement_of_the_plane():
    assert PLANE_ANGLES == (45.0, 135.0)  # the pairs' diagonals
    sefa, allowed, covariance = plane_pool()
    pool = sefa.with_planes(allowed, covariance)  # range 0's diagonals 9-10, range 1's 11-12
    allowed = np.concatenate([allowed, np.ones(4, bool)])
    scores = np.full(len(pool.vectors), np.inf)
    scores[[10, 4, 5, 9]] = [0.1, 0.2, 0.3, 0.5]  # 135°, #1, #2, 45°
    scores[[6, 7]] = [0.05, 0.06]
    # first offers: range 0's 135°, range 1's #0; the slot left: range 1's #1 (0.06)
    assert choose_from_ranges(pool, scores, allowed, 3).tolist() == [6, 7, 10]
    scores[7] = np.inf
    # #1 and #2 score lower than 45° but are not orthogonal to 135°; 45° is
    assert choose_from_ranges(pool, scores, allowed, 3).tolist() == [6, 9, 10]


def test_guarded_candidates_are_never_kept_and_all_layer_sefa_fills_in():
    pool = make_pool(ranges=2, per_range=2, k=5)  # candidates 5-6, 7-8
    # the reference is the median of all-layer SeFa's first 3 (ranges + 1): 1.0
    changes = np.array([1.0, 1.0, 1.0, 0.1, 0.1, 0.5, 0.1, 0.01, 0.02])
    allowed = eligible(pool, changes, 0.25)
    assert allowed.tolist() == [True] * 3 + [False] * 2 + [True] + [False] * 3
    scores = np.zeros(9)  # the weak candidates would win on score
    assert choose_from_ranges(pool, scores, allowed, 5).tolist() == [0, 1, 2, 3, 5]


def test_pool_holds_sefa_per_range(sprites):
    latents = LatentSpace(sprites, "w")
    stats = latents.statistics(2000, 0)
    pool = range_pool(sprites, (0, sprites.num_ws - 1), stats.covariance, 2)
    ranges = len(pool.ranges)
    assert ranges == sprites.num_ws // 2
    assert len(pool.vectors) == (ranges + 1) + PER_RANGE * ranges + PER_ADJACENT * (ranges - 1)
    blocks = pool.vectors.reshape(len(pool.vectors), sprites.num_ws, -1)
    np.testing.assert_allclose(blocks[0] * np.sqrt(sprites.num_ws),
                               np.tile(sefa_directions(sprites, 1), (sprites.num_ws, 1)),
                               atol=1e-12)
    first_of_range_1 = np.flatnonzero(pool.groups == 1)[0]
    np.testing.assert_allclose(blocks[first_of_range_1, 2] * np.sqrt(2),
                               sefa_directions(sprites, 1, (2, 3))[0], atol=1e-12)
    assert not blocks[first_of_range_1, [0, 1, 4]].any()
    assert pool.describe(first_of_range_1) == "SeFa #0 of layers 2-3"
    second_of_layers_2_5 = np.flatnonzero(pool.groups == FIRST_ADJACENT - 1)[1]
    np.testing.assert_allclose(blocks[second_of_layers_2_5, 2:6] * 2,
                               np.tile(sefa_directions(sprites, 2, (2, 5))[1], (4, 1)),
                               atol=1e-12)
    assert not blocks[second_of_layers_2_5, [0, 1, 6, 7, 8, 9]].any()
    assert pool.describe(second_of_layers_2_5) == "SeFa #1 of layers 2-5"


COMMON = dict(k=6, steps=10, batch=16, pca_samples=500, quiet=True, rtd_size=16)


def test_default_topdis_on_a_stylegan2_chooses_per_layer_range_in_w_plus(sprites):
    found = find_directions(sprites, **COMMON)
    assert found.directions.space == "w+"
    search = found.record["search"]
    assert search["mode"] == "ranges"
    assert all(re.fullmatch(r"SeFa #\d+ of layers \d-\d|SeFa #[1-9] of all layers"
                            r"|SeFa #\d/#\d of layers \d-\d at \d+°", source)
               for source in search["sources"])
    assert all("rtd" in row for row in found.history)
    ablation = find_directions(sprites, rtd_weight=0.0, **COMMON)
    assert all("rtd" not in row for row in ablation.history)  # nothing measured
    kept = ablation.record["search"]["sources"]
    # in SeFa's order: one per range (5 ranges), then the coarsest range's next
    assert kept[:2] == ["SeFa #0 of layers 0-1", "SeFa #1 of layers 0-1"]
    assert len({source.split(" of ")[1] for source in kept}) == 5


def test_mode_ranges_given_explicitly_chooses_per_layer_range(sprites):
    found = find_directions(sprites, mode="ranges", space="w+", **{**COMMON, "steps": 2})
    assert found.record["search"]["mode"] == "ranges"
    selected = find_directions(sprites, mode="select", space="w+", **{**COMMON, "steps": 2})
    assert selected.record["search"]["mode"] == "select"


def test_ranges_mode_refuses_what_it_cannot_use(sprites):
    with pytest.raises(InvalidInputError, match="--pool applies to --mode select"):
        find_directions(sprites, k=6, pool=8, steps=1)
    with pytest.raises(InvalidInputError, match="--mode ranges needs --space w\\+"):
        find_directions(sprites, k=6, space="w", mode="ranges", steps=1)


def test_ranges_search_resumes_bit_identically(tmp_path, sprites):
    assert_resume_is_bit_identical(sprites, tmp_path, 3, checkpoint_every=2,
                                   **{**COMMON, "steps": 6})
