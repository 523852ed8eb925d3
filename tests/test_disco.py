"""DisCo (``--method disco``): its losses, sampling, encoder, and searches end to end."""

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from search_resume import assert_resume_is_bit_identical

from gan_directions.discovery import find_directions
from gan_directions.discovery.disco import normal_shifts, other_indices
from gan_directions.errors import InvalidInputError
from gan_directions.losses.contrastive import (
    contrastive_loss,
    domination_entropy,
    flipped_targets,
    variations,
)
from gan_directions.losses.variation_encoder import VariationEncoder


def test_variations_are_unit_absolute_differences():
    features, shifted = torch.tensor([[1.0, 2.0, 0.0]]), torch.tensor([[4.0, -2.0, 0.0]])
    np.testing.assert_allclose(variations(features, shifted), [[0.6, 0.8, 0.0]], rtol=1e-6)
    assert torch.equal(variations(shifted, features), variations(features, shifted))


def test_hard_negatives_are_flipped_to_their_similarity():
    similarity = torch.tensor([[0.2, 0.99, 0.5, 0.97, 0.95]], requires_grad=True)
    targets = flipped_targets(similarity, positives=2)
    np.testing.assert_allclose(targets, [[1.0, 1.0, 0.0, 0.97, 0.0]])
    assert not targets.requires_grad


def test_contrastive_loss_is_bce_of_similarities_against_flipped_targets():
    generator = torch.Generator().manual_seed(0)
    query, keys, negatives = (F.normalize(torch.rand(n, 5, generator=generator), dim=1)
                              for n in (3, 4, 6))
    negatives[0] = query[0]  # a hard negative: similarity 1 to query 0
    query.requires_grad_(True)
    negatives.requires_grad_(True)
    loss, targets = contrastive_loss(query, keys, negatives)
    similarity = torch.cat([query @ keys.T, query @ negatives.T], dim=1)
    expected = -(targets * F.logsigmoid(similarity)
                 + (1 - targets) * F.logsigmoid(-similarity)).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert targets[0, 4].item() == pytest.approx(1.0) and targets[1, 4] < 1.0
    loss.backward()  # the gradient reaches the queries, never the negatives
    assert query.grad is not None and negatives.grad is None


def test_domination_entropy_is_lower_when_one_dimension_dominates():
    uniform = F.normalize(torch.ones(1, 8), dim=1)
    dominated = torch.tensor([[1.0, 0, 0, 0, 0, 0, 0, 0]])
    assert domination_entropy(uniform).item() == pytest.approx(math.log(8), abs=1e-4)
    assert domination_entropy(dominated) < domination_entropy(uniform)


def test_shifts_and_negative_directions():
    rng = torch.Generator().manual_seed(0)
    shift = normal_shifts(20_000, rng)
    assert shift.abs().min() >= 0.5
    assert shift.std().item() == pytest.approx(6.0, rel=0.03)
    assert (shift > 0).float().mean().item() == pytest.approx(0.5, abs=0.02)
    index = other_indices(3000, 4, 2, rng)
    assert set(index.tolist()) == {0, 1, 3}


def test_encoder_keeps_the_published_shape():
    """At width 64 on 64×64 images: 64, 128, 256, 256, 256 channels, 4096 → 256 → 256 → D."""
    published = VariationEncoder(64, channels=3, size=64, width=64)
    convs = [m for m in published.net if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 128, 256, 256, 256]
    assert convs[0].kernel_size == (7, 7)
    linears = [m for m in published.net if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [
        (4096, 256), (256, 256), (256, 64)]
    small = VariationEncoder(64, channels=3, size=32)
    assert small(torch.rand(2, 3, 64, 64) * 2 - 1).shape == (2, 64)


def test_disco_needs_two_directions(shapes):
    with pytest.raises(InvalidInputError, match="DisCo needs K >= 2"):
        find_directions(shapes, method="disco", k=1, space="z", steps=1, batch=4)


@pytest.mark.parametrize("space", ["w+", "z"])
def test_disco_on_a_stylegan2_pickle(tmp_path, tiny, space):
    layers = "0-3" if space == "w+" else None
    result = find_directions(tiny, method="disco", k=3, space=space, layers=layers, steps=2,
                             batch=4, out=tmp_path / "run", quiet=True, pca_samples=256)
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["settings"]["method"] == "disco" and record["timing"]["steps_per_second"]
    assert result.directions.k == 3
    row = result.history[-1]
    assert {"contrast", "entropy", "flipped", "direction"} <= set(row)
    assert np.isfinite(row["loss"])


def test_disco_resume_is_bit_identical(tmp_path, shapes):
    settings = dict(method="disco", k=3, space="z", steps=4, batch=4, checkpoint_every=2,
                    init="random", quiet=True)
    assert_resume_is_bit_identical(shapes, tmp_path, 3, **settings)


def test_disco_recovers_synthetic_shapes_above_random(shapes):
    """From its default start (GANSpace, whose matched |cos| here is below that of random
    directions), 200 DisCo steps end above random directions of the same seed."""
    common = dict(k=6, space="z", seed=0, quiet=True, pca_samples=10_000)
    random = find_directions(shapes, method="random", **common)
    start = find_directions(shapes, method="ganspace", **common)
    found = find_directions(shapes, method="disco", steps=200, batch=8, **common)

    def cosine(result):
        return result.record["recovery"]["matched_abs_cos"]

    assert cosine(start) < cosine(random)
    assert cosine(found) > cosine(random) + 0.03
