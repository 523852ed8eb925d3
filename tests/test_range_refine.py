"""TopDis's ranges mode, refined: the kept directions move inside their ranges, within the
trust cone, only through the RTD term, and a cut-off refinement resumes exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from search_resume import assert_resume_is_bit_identical

from gan_directions.discovery import find_directions
from gan_directions.discovery.range_refine import TRUST_COS, pull_into_cone, refinement_steps
from gan_directions.errors import InvalidInputError
from gan_directions.generators.registry import load_generator


@pytest.fixture(scope="module")
def sprites():
    return load_generator("stylegan2-sprites", device="cpu")


COMMON = dict(k=6, steps=12, batch=16, pca_samples=500, quiet=True, rtd_size=16)


def kept_candidates(generator, found) -> np.ndarray:
    """The candidates the same search keeps without refining (its selection alone)."""
    selection = find_directions(generator, **{**COMMON, "refine_fraction": 0.0,
                                              "steps": COMMON["steps"]
                                              - found.record["search"]["refine_steps"]})
    assert selection.record["search"]["sources"] == found.record["search"]["sources"]
    return selection.directions.directions


def test_pull_into_cone_keeps_the_cosine_and_the_direction_off_home():
    inside = torch.tensor([0.95, 0.3122, 0.0])
    before = inside.clone()
    pull_into_cone(inside, 0, 0.9)
    assert torch.equal(inside, before)
    outside = torch.tensor([0.5, 0.6, 0.8])
    pull_into_cone(outside, 0, 0.9)
    assert outside[0] / outside.norm() == pytest.approx(0.9)
    assert outside.norm() == pytest.approx(1.0)
    np.testing.assert_allclose((outside[1:] / outside[1:].norm()).numpy(), [0.6, 0.8], rtol=1e-6)


def test_refinement_moves_each_kept_direction_inside_its_range_and_cone(sprites):
    found = find_directions(sprites, **COMMON)
    search = found.record["search"]
    assert search["mode"] == "ranges"
    assert search["refine_steps"] == refinement_steps(12, 0.5) == 6
    assert all("rtd" in row for row in found.history)
    refined = found.directions.directions
    start = kept_candidates(sprites, found)
    cosines = np.abs(np.sum(refined * start, axis=1))
    np.testing.assert_allclose(search["abs_cos_to_sources"], cosines, atol=1e-4)
    assert np.all(cosines >= TRUST_COS - 1e-6)
    assert np.any(cosines < 1 - 1e-4)  # the refinement moved something
    layers = sprites.num_ws
    for vector, origin in zip(refined.reshape(6, layers, -1), start.reshape(6, layers, -1),
                              strict=True):
        edited = np.abs(origin).sum(axis=1) > 0
        assert not vector[~edited].any()  # still on its range's layers only


def test_without_rtd_the_refinement_computes_nothing_and_moves_nothing(sprites, monkeypatch):
    from gan_directions.discovery import objectives

    def no_rtd(*args, **kwargs):
        raise AssertionError("RTD computed with --rtd-weight 0")

    monkeypatch.setattr(objectives.TopDisTerm, "values", no_rtd)
    found = find_directions(sprites, rtd_weight=0.0, **COMMON)
    selection = find_directions(sprites, rtd_weight=0.0, refine_fraction=0.0, **COMMON)
    np.testing.assert_array_equal(found.directions.directions, selection.directions.directions)
    assert len(found.history) == 12


def test_refinement_resumes_bit_identically_inside_and_across_the_switch(tmp_path, sprites):
    settings = {**COMMON, "steps": 8, "checkpoint_every": 3}
    for crash in (5, 7):  # checkpoints at 3 (selecting) and 6 (refining)
        assert_resume_is_bit_identical(sprites, tmp_path / f"at{crash}", crash, **settings)


def test_resuming_with_more_steps_keeps_the_selection_it_made(tmp_path, sprites):
    settings = {**COMMON, "steps": 6, "checkpoint_every": 1}
    first = find_directions(sprites, out=tmp_path / "run", **settings)
    longer = find_directions(sprites, out=tmp_path / "run", resume=True,
                             **{**settings, "steps": 10})
    assert longer.record["search"]["sources"] == first.record["search"]["sources"]
    assert [row["step"] for row in longer.history] == list(range(1, 11))
    assert sum("rtd" in row for row in longer.history[:3]) == 3
    assert longer.history[:6] == first.history


def test_refine_fraction_must_leave_steps_to_select(sprites):
    with pytest.raises(InvalidInputError, match="refine_fraction must be in"):
        find_directions(sprites, refine_fraction=1.0, **COMMON)


def test_basis_is_the_ranges_sefa_span_and_a_whole_alone(sprites):
    from gan_directions.discovery.latents import LatentSpace
    from gan_directions.discovery.layer_pool import ALL_LAYERS, FIRST_ADJACENT, range_pool
    from gan_directions.discovery.range_refine import refinement_basis

    stats = LatentSpace(sprites, "w").statistics(500, 0)
    pool = range_pool(sprites, (0, sprites.num_ws - 1), stats.covariance, 6)
    second_of_range_1 = int(np.flatnonzero(pool.groups == 1)[1])
    rows, home = refinement_basis(pool, second_of_range_1)
    assert home == 1
    np.testing.assert_array_equal(rows, pool.vectors[pool.groups == 1])
    np.testing.assert_allclose(rows @ rows.T, np.eye(len(rows)), atol=1e-6)
    blocks = rows.reshape(len(rows), sprites.num_ws, -1)
    np.testing.assert_array_equal(blocks[:, 2], blocks[:, 3])  # layers 2-3 move together
    assert not np.delete(blocks, [2, 3], axis=1).any()
    for whole in (np.flatnonzero(pool.groups == ALL_LAYERS)[0],
                  np.flatnonzero(pool.groups == FIRST_ADJACENT)[2]):
        alone, home = refinement_basis(pool, int(whole))
        assert home == 0
        np.testing.assert_array_equal(alone, pool.vectors[[whole]])


def test_a_plane_candidates_basis_is_itself_its_complement_and_the_ranges_other_rows(sprites):
    from gan_directions.discovery.latents import LatentSpace
    from gan_directions.discovery.layer_pool import range_pool
    from gan_directions.discovery.range_refine import refinement_basis

    stats = LatentSpace(sprites, "w").statistics(500, 0)
    sefa = range_pool(sprites, (0, sprites.num_ws - 1), stats.covariance, 6)
    pool = sefa.with_planes(np.ones(len(sefa.vectors), bool), stats.covariance)
    plane = int(np.flatnonzero((pool.groups == 1) & (pool.planes[:, 0] >= 0))[-1])
    rows, home = refinement_basis(pool, plane)
    own = sefa.vectors[sefa.groups == 1]
    assert home == 0 and len(rows) == len(own)
    np.testing.assert_allclose(rows[0], pool.vectors[plane])
    np.testing.assert_allclose(rows @ rows.T, np.eye(len(rows)), atol=1e-6)
    # the same span as the range's SeFa directions: each is fully expressed in the rows
    np.testing.assert_allclose(np.linalg.norm(own @ rows.T, axis=1), 1, atol=1e-6)


def test_edit_size_starts_at_the_kept_candidates(sprites):
    found = find_directions(sprites, **COMMON)
    selection = find_directions(sprites, **{**COMMON, "refine_fraction": 0.0, "steps": 6})
    assert selection.record["search"]["sources"] == found.record["search"]["sources"]
    assert found.record["edit_size"]["start"] == selection.record["edit_size"]["end"]
    assert selection.record["edit_size"]["start"] == selection.record["edit_size"]["end"]
    assert found.record["edit_size"]["end"] != found.record["edit_size"]["start"]
