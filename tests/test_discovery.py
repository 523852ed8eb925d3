"""Direction discovery: parametrizations, closed-form directions, recovery metrics, objectives."""

from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_directions.directions import DirectionSet
from gan_directions.discovery.init import (
    random_directions,
    sefa_directions,
    style_weights,
    ws_index,
)
from gan_directions.discovery.latents import LatentSpace, LatentStats
from gan_directions.discovery.objectives import TopDisTerm, embed_pixels
from gan_directions.discovery.parametrization import DirectionModel
from gan_directions.errors import InvalidInputError
from gan_directions.evaluation import (
    dci_scores,
    effect_matrix,
    matched_abs_cosine,
    recovery_report,
)
from gan_directions.generators.registry import load_generator
from gan_directions.losses.reconstructor import (
    Reconstructor,
    reconstructor_loss,
    sample_shifts,
)

DATA = Path(__file__).parent / "data"





@pytest.mark.parametrize("parametrization", ["expm", "cayley"])
def test_orthonormal_parametrizations(parametrization):
    init = random_directions(8, 3, seed=1)
    model = DirectionModel(init, parametrization=parametrization)
    np.testing.assert_allclose(model().detach().numpy(), init, atol=1e-6)  # starts at init
    with torch.no_grad():
        model.weight.normal_()
    d = model().detach().double().numpy()
    np.testing.assert_allclose(d @ d.T, np.eye(3), atol=1e-5)
    assert not np.allclose(d, init, atol=1e-2)


def test_unit_parametrization_and_subspace():
    basis = np.eye(6)[:4]  # the first four axes
    init = np.array([[1.0, 1, 0, 0, 5, 0], [0, 0, 1, 0, 0, 0]])
    model = DirectionModel(init, basis=basis, parametrization="unit")
    with torch.no_grad():
        model.weight.add_(torch.randn_like(model.weight))
    d = model().detach().numpy()
    np.testing.assert_allclose(np.linalg.norm(d, axis=1), 1, atol=1e-6)
    assert np.abs(d[:, 4:]).max() == 0  # never leaves the subspace
    with pytest.raises(InvalidInputError, match="cannot fit"):
        DirectionModel(np.eye(6)[:5], basis=basis)
    with pytest.raises(InvalidInputError, match="parametrization"):
        DirectionModel(init, parametrization="svd")


def test_random_directions_are_orthonormal_and_seeded():
    a = random_directions(10, 4, seed=3)
    np.testing.assert_allclose(a @ a.T, np.eye(4), atol=1e-10)
    np.testing.assert_array_equal(a, random_directions(10, 4, seed=3))


def test_latent_stats_pca():
    rng = np.random.RandomState(0)
    samples = rng.randn(4000, 3) * np.array([3.0, 1.0, 0.2])
    stats = LatentStats.from_samples(samples)
    np.testing.assert_allclose(np.abs(stats.axes), np.eye(3), atol=0.05)
    np.testing.assert_allclose(stats.scales(np.eye(3)), [3, 1, 0.2], rtol=0.05)


def test_ws_index_matches_stylegan2_layout():
    # res 64: b4 conv1/torgb, then (conv0, conv1, torgb) per block; 10 ws entries in all.
    order = [(4, "conv1"), (8, "conv0"), (8, "conv1"), (16, "conv0"), (16, "conv1"),
             (32, "conv0"), (32, "conv1"), (64, "conv0"), (64, "conv1")]
    assert [ws_index(r, layer) for r, layer in order] == list(range(9))
    assert ws_index(4, "torgb") == 1 and ws_index(64, "torgb") == 9


def test_sefa_on_stylegan2_fixture(tiny):
    all_layers = sefa_directions(tiny, 5)
    np.testing.assert_allclose(all_layers @ all_layers.T, np.eye(5), atol=1e-8)
    early = sefa_directions(tiny, 5, layers=(0, 1))
    assert len(style_weights(tiny, (0, 1))) == 2  # b4.conv1 and b8.conv0
    assert len(style_weights(tiny, (9, 9))) == 1  # only the last toRGB reads ws 9
    assert not np.allclose(np.abs(early), np.abs(all_layers), atol=1e-3)
    # SeFa's top direction is the one the stacked, row-normalized style weights amplify most
    weight = np.concatenate(style_weights(tiny, None))
    weight /= np.linalg.norm(weight, axis=1, keepdims=True)
    gains = np.linalg.norm(weight @ np.concatenate([all_layers, random_directions(64, 20, 0)]).T,
                           axis=0)
    assert gains.argmax() == 0


def test_sefa_needs_style_weights():
    class Plain(torch.nn.Module):
        pass

    with pytest.raises(InvalidInputError, match="SeFa needs"):
        sefa_directions(Plain(), 2)


def test_matched_cosine_perfect_for_truth_low_for_random(shapes):
    truth = shapes.true_directions()
    shuffled = -truth[[3, 0, 5, 1, 2, 4]]
    score, match = matched_abs_cosine(shuffled, truth)
    assert score == pytest.approx(1.0) and match == [3, 0, 5, 1, 2, 4]
    randoms = [matched_abs_cosine(random_directions(6, 6, s), truth)[0] for s in range(10)]
    assert np.mean(randoms) < 0.8


def test_dci_of_true_and_random_directions(shapes):
    truth = DirectionSet(shapes.true_directions(), space="z")
    report = recovery_report(shapes, truth, samples=128)
    assert report["matched_abs_cos"] == pytest.approx(1.0)
    assert report["disentanglement"] == pytest.approx(1.0, abs=1e-3)
    assert report["completeness"] == pytest.approx(1.0, abs=1e-3)
    random = DirectionSet(random_directions(6, 6, 0), space="w")
    assert recovery_report(shapes, random, samples=128)["disentanglement"] < 0.4
    effects = effect_matrix(shapes, truth, samples=64)
    assert effects.shape == (6, 6) and np.all(np.diag(effects) > 0.05)


def test_dci_scores_formula():
    assert dci_scores(np.eye(3))["disentanglement"] == pytest.approx(1.0)
    assert dci_scores(np.ones((3, 3)))["disentanglement"] == pytest.approx(0.0, abs=1e-6)
    # a direction with no effect has no weight
    assert dci_scores(np.array([[1.0, 0], [0, 0]]))["disentanglement"] == pytest.approx(1.0)


def test_recovery_report_none_without_factors(tiny):
    assert recovery_report(tiny, DirectionSet(np.eye(64)[:2], space="w")) is None


def test_w_layer_edits_touch_only_those_layers(tiny):
    space = LatentSpace(tiny, "w", layers=(2, 4))
    z = torch.randn(2, 64, generator=torch.Generator().manual_seed(0))
    latent, ws, c = space.encode(z)
    d = torch.zeros(64)
    d[0] = 1.0
    captured = {}
    hook = tiny.synthesis.register_forward_pre_hook(
        lambda module, args: captured.setdefault("ws", args[0])
    )
    try:
        space.decode(latent + 2 * d, (latent, ws, c))
    finally:
        hook.remove()
    diff = (captured["ws"] - ws).abs().sum(dim=2)[0]
    assert torch.all(diff[[0, 1, 5, 6, 7, 8, 9]] == 0) and torch.all(diff[2:5] > 0)
    with pytest.raises(InvalidInputError, match="bad layer range"):
        LatentSpace(tiny, "w", layers=(3, 10))


def test_reconstructor_objective():
    rng = torch.Generator().manual_seed(0)
    index, shift = sample_shifts(500, 4, rng)
    assert index.min() == 0 and index.max() == 3
    assert shift.abs().min() >= 0.5 and shift.abs().max() <= 6
    model = Reconstructor(4, size=32)
    images = torch.rand(3, 3, 64, 64)
    logits, predicted = model(images, images)
    assert logits.shape == (3, 4) and predicted.shape == (3,)
    loss, parts = reconstructor_loss(logits, predicted, torch.tensor([0, 1, 2]),
                                     torch.tensor([1.0, -1.0, 2.0]))
    assert loss.item() == pytest.approx(parts["ce"] + 0.25 * parts["l1"], rel=1e-5)


def test_topdis_ignores_null_directions_which_is_why_a_reconstructor_is_needed():
    """A direction the image ignores has RTD exactly 0: the best TopDis score, yet useless."""
    from gan_directions.losses.topdis import RTDLoss, topdis_shift

    model = load_generator("synthetic-shapes-null")
    space = LatentSpace(model, "z")
    term = TopDisTerm(space, RTDLoss(), topdis_shift, embed=partial(embed_pixels, size=16))
    null = torch.from_numpy(model.null_directions()[0]).float()
    true = torch.from_numpy(model.true_directions()[2]).float()
    mixed = (null + true) / np.sqrt(2)
    zero, one = torch.zeros(10), torch.tensor(1.0)
    values = {}
    for name, d in [("null", null), ("true", true), ("mixed", mixed)]:
        values[name] = float(term(d, zero, one, 32, torch.Generator().manual_seed(0)).loss)
    assert values["null"] < 1e-4  # zero up to float32 rounding of z @ Rᵀ
    assert values["mixed"] > 100 * max(values["null"], 1e-6)


def test_topdis_prefers_true_directions(shapes):
    """The premise of TopDis on this model: shifting along a true direction (a constant move
    of one factor in CDF units) keeps the paired batches' topology closer than a mixed one."""
    from gan_directions.losses.topdis import RTDLoss, topdis_shift

    term = TopDisTerm(LatentSpace(shapes, "z"), RTDLoss(), topdis_shift)
    zero, one = torch.zeros(6), torch.tensor(1.0)

    def mean_rtd(directions):
        values = [float(term(torch.from_numpy(d).float(), zero, one, 32,
                             torch.Generator().manual_seed(i)).loss)
                  for i, d in enumerate(directions)]
        return np.mean(values)

    truth = mean_rtd(shapes.true_directions())
    random = np.mean([mean_rtd(random_directions(6, 6, seed)) for seed in range(2)])
    assert truth < 0.7 * random
