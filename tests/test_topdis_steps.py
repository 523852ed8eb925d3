"""TopDis steps: selection among candidates, several directions per step, the RTD ablation
switch, equal-change shifts and the search subspace."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from search_resume import assert_resume_is_bit_identical

from gan_directions.discovery import find_directions
from gan_directions.discovery.latents import LatentSpace
from gan_directions.discovery.methods import get_method
from gan_directions.discovery.objectives import TopDisTerm
from gan_directions.discovery.search import SearchSettings, Trainer, search_basis
from gan_directions.discovery.selection import TopologicalSelection
from gan_directions.errors import InvalidInputError
from gan_directions.generators.registry import load_generator
from gan_directions.losses.topdis import RTDLoss, topdis_shift


@pytest.fixture(scope="module")
def shapes():
    return load_generator("synthetic-shapes", device="cpu")


def test_rtd_many_equals_one_pair_at_a_time():
    generator = torch.Generator().manual_seed(0)
    pairs = [(torch.randn(20, 8, generator=generator), torch.randn(20, 8, generator=generator))
             for _ in range(3)]
    loss = RTDLoss()
    together = loss.many(pairs)
    for (x, y), value in zip(pairs, together, strict=True):
        assert float(value) == float(loss(x, y))


def test_several_directions_give_the_losses_of_one_at_a_time(shapes):
    term = TopDisTerm(LatentSpace(shapes, "z"), RTDLoss(), topdis_shift)
    directions = torch.from_numpy(np.linalg.qr(np.random.RandomState(1).randn(6, 3))[0].T
                                  ).float().requires_grad_(True)
    center, scales = torch.zeros(6), torch.ones(3)
    together = term.values(directions, center, scales, 32, torch.Generator().manual_seed(5))
    for index, value in enumerate(together):
        alone = term(directions[index], center, scales[index], 32,
                     torch.Generator().manual_seed(5))
        assert value.loss.item() == alone.loss.item()
        assert value.change == alone.change
    # and the gradients add up as one-at-a-time gradients do
    sum(value.loss for value in together).backward()
    grad_together = directions.grad.clone()
    directions.grad = None
    for index in range(3):
        term(directions[index], center, scales[index], 32,
             torch.Generator().manual_seed(5)).loss.backward()
    assert torch.allclose(grad_together, directions.grad, atol=1e-6)


def _trainer(shapes, **options) -> Trainer:
    settings = SearchSettings(method="topdis", k=4, space="z", steps=3, batch=16, **options)
    latents = LatentSpace(shapes, "z")
    stats = latents.statistics(200, 0)
    init = np.eye(6)[:4]
    return Trainer(settings, latents, stats, init, unit=1.0)


def test_rtd_weight_zero_computes_no_rtd(shapes, monkeypatch):
    calls = []
    original = RTDLoss.many

    def counting(self, batches):
        calls.append(len(batches))
        return original(self, batches)

    monkeypatch.setattr(RTDLoss, "many", counting)
    trainer = _trainer(shapes, rtd_weight=0.0)
    for _ in range(3):
        row = trainer.train_step()
    assert calls == [] and "rtd" not in row and "recon" in row
    trainer = _trainer(shapes, rtd_weight=1.0)  # the control: the same counter sees RTD
    trainer.train_step()
    assert calls


def test_a_step_with_several_directions_logs_their_mean(shapes):
    trainer = _trainer(shapes, directions_per_step=3, edit_floor=0.0, recon_weight=0.0)
    row = trainer.train_step()
    assert len(row["direction"].split()) == 3 and row["rtd"] > 0


def test_directions_per_step_may_not_exceed_k(shapes):
    with pytest.raises(InvalidInputError, match="exceeds K=2"):
        find_directions(shapes, k=2, steps=1, directions_per_step=3)


def test_init_subspace_is_the_init_methods_top_directions():
    tiny = load_generator("stylegan2-shapes", device="cpu")
    settings = SearchSettings(method="topdis", k=3, init="sefa", pca_dims=5, subspace="init")
    latents = LatentSpace(tiny, "w")
    stats = latents.statistics(500, 0)
    basis = search_basis(get_method("sefa"), tiny, latents, stats, settings)
    from gan_directions.discovery.init import sefa_directions

    top = sefa_directions(tiny, 5)
    assert basis.shape == (5, tiny.w_dim)
    assert np.allclose(basis @ basis.T, np.eye(5), atol=1e-8)
    assert np.allclose(np.abs(np.sum(basis * top, axis=1)), 1.0, atol=1e-8)
    found = find_directions(tiny, k=3, steps=2, batch=16, init="sefa", pca_dims=5, space="w",
                            mode="gradient", subspace="init", pca_samples=500, quiet=True)
    vectors = found.directions.directions
    assert np.allclose(vectors @ basis.T @ basis, vectors, atol=1e-5)


def test_equal_change_stretches_each_shift_to_its_target_change(shapes):
    term = TopDisTerm(LatentSpace(shapes, "z"), RTDLoss(), topdis_shift)
    directions = torch.eye(6)[:2]
    center, scales = torch.zeros(6), torch.full((2,), 0.5)

    def changes(targets):
        found = term.values(directions, center, scales, 32, torch.Generator().manual_seed(3),
                            targets)
        return [value.change for value in found]

    nominal = changes(None)
    stretched = changes([1.5 * nominal[0], 0.8 * nominal[1]])
    # one linear correction: close to the target (the image change is not quite linear)
    assert stretched[0] == pytest.approx(1.5 * nominal[0], rel=0.15)
    assert stretched[1] == pytest.approx(0.8 * nominal[1], rel=0.15)
    capped = changes([100 * nominal[0], nominal[1] / 100])  # the factor stays in [1/4, 4]
    assert capped[0] < 4.5 * nominal[0] and capped[1] > 0.2 * nominal[1]


@pytest.fixture(scope="module")
def stylegan2_shapes():
    return load_generator("stylegan2-shapes", device="cpu")


def test_topdis_in_w_selects_on_stylegan2_and_its_ablation_is_sefa(stylegan2_shapes):
    """TopDis in w on a StyleGAN2 keeps K of SeFa's top 2K; with --rtd-weight 0 nothing is
    measured (no barcode) and SeFa's own top K are kept."""
    from gan_directions.discovery.init import sefa_directions

    model = stylegan2_shapes
    common = dict(k=3, steps=6, batch=16, pca_samples=500, quiet=True, rtd_size=16, space="w")
    ablation = find_directions(model, rtd_weight=0.0, **common)
    np.testing.assert_allclose(ablation.directions.directions, sefa_directions(model, 3),
                               atol=1e-6)
    assert all("rtd" not in row for row in ablation.history)
    found = find_directions(model, **common)
    pool = sefa_directions(model, 6)
    cosines = np.abs(found.directions.directions @ pool.T)
    assert np.allclose(cosines.max(axis=1), 1.0, atol=1e-5)  # each one is a candidate
    assert all("rtd" in row for row in found.history)
    assert found.record["settings"]["mode"] == "auto"
    assert found.record["search"] == {"mode": "select", "init": "sefa", "pool": 6}


def test_selection_keeps_the_candidates_with_the_lowest_rtd_per_change(shapes):
    """On synthetic-shapes, true directions have lower RTD per change than mixed ones: a
    pool of 3 true and 3 mixed directions keeps the true ones. (Not every factor: the third
    one's edit is far from a group action, and scores worse than mixed directions.)"""
    latents = LatentSpace(shapes, "z")
    stats = latents.statistics(500, 0)
    truth = shapes.true_directions()[[0, 1, 3]]
    mixed = np.linalg.qr(np.random.RandomState(0).randn(6, 3))[0].T
    pool = np.concatenate([mixed[:2], truth, mixed[2:]])
    settings = SearchSettings(method="topdis", k=3, batch=32, directions_per_step=3)
    term = TopDisTerm(latents, RTDLoss(), topdis_shift, normalize=True)
    selection = TopologicalSelection(settings, latents, stats, pool, term)
    for _ in range(8):
        selection.train_step()
    assert selection.counts.tolist() == [4] * 6
    assert selection.chosen().tolist() == [2, 3, 4]


def test_selection_resumes_bit_identically(tmp_path, stylegan2_shapes):
    common = dict(k=2, steps=6, batch=16, pca_samples=300, quiet=True, rtd_size=16,
                  checkpoint_every=2)
    assert_resume_is_bit_identical(stylegan2_shapes, tmp_path, 3, **common)


def test_pool_must_hold_k_directions(stylegan2_shapes):
    with pytest.raises(InvalidInputError, match="--pool must be between K=3"):
        find_directions(stylegan2_shapes, k=3, pool=2, steps=1)
