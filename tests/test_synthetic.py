"""The built-in synthetic-shapes model: factors, ground-truth directions, differentiability."""

import numpy as np
import pytest
import torch

from gan_directions.errors import InvalidInputError
from gan_directions.generators.capabilities import supports
from gan_directions.generators.registry import load_generator
from gan_directions.generators.synthetic import (
    FACTOR_NAMES,
    synthetic_shapes,
    synthetic_shapes_with_null_dims,
)


@pytest.fixture(scope="module")
def model():
    return load_generator("synthetic-shapes")


def test_protocol_and_image_range(model):
    assert (model.z_dim, model.w_dim, model.num_ws, model.c_dim) == (6, 6, 1, 0)
    assert supports(model, "known_factors") and model.name == "synthetic-shapes"
    z = torch.randn(5, 6, generator=torch.Generator().manual_seed(0))
    ws = model.mapping(z)
    assert ws.shape == (5, 1, 6) and torch.equal(ws[:, 0], z)
    images = model(z)
    assert images.shape == (5, 3, 64, 64)
    assert images.min() >= -1 and images.max() <= 1
    assert images.std() > 0.1  # not a blank canvas
    f = model.factors(z)
    assert f.shape == (5, len(FACTOR_NAMES)) and f.min() > 0 and f.max() < 1
    assert len(model.factor_names) == len(model.factor_is_circular) == 6


def test_true_directions_move_one_factor_each(model):
    truth = model.true_directions()
    assert truth.shape == (6, 6)
    np.testing.assert_allclose(truth @ truth.T, np.eye(6), atol=1e-6)
    z = torch.randn(8, 6, generator=torch.Generator().manual_seed(1))
    base = model.factors(z)
    for j, d in enumerate(torch.from_numpy(truth).float()):
        change = (model.factors(z + 0.7 * d) - base).abs().max(0).values
        assert change[j] > 0.05
        assert torch.all(torch.cat([change[:j], change[j + 1:]]) < 1e-5)
        # ... and the image changes too (no factor is invisible)
        assert (model(z + 0.7 * d) - model(z)).abs().mean() > 1e-3


def test_rotation_matrix_mixes_coordinates(model):
    truth = model.true_directions()
    assert np.abs(truth).max(axis=1).min() < 0.99  # no row is a coordinate axis


def test_circular_factors_wrap(model):
    f = torch.full((2, 6), 0.5)
    for index, circular in enumerate(model.factor_is_circular):
        lo, hi = f.clone(), f.clone()
        lo[:, index], hi[:, index] = 0.0, 1.0
        gap = (model.render_factors(lo) - model.render_factors(hi)).abs().max()
        assert (gap < 1e-4) == circular, FACTOR_NAMES[index]


def test_gradients_reach_z(model):
    z = torch.randn(4, 6, generator=torch.Generator().manual_seed(2), requires_grad=True)
    model(z).square().mean().backward()
    assert torch.isfinite(z.grad).all() and (z.grad.abs().sum(0) > 0).all()


def test_seeded_rotation_is_fixed_and_seed_dependent():
    a, b, c = synthetic_shapes(), synthetic_shapes(), synthetic_shapes(seed=1)
    assert np.array_equal(a.true_directions(), b.true_directions())
    assert not np.allclose(a.true_directions(), c.true_directions())
    with pytest.raises(InvalidInputError):
        synthetic_shapes(z_dim=4)


def test_null_dimensions_are_ignored():
    model = load_generator("synthetic-shapes-null")
    assert model.name == "synthetic-shapes-null" and model.z_dim == 10
    null = torch.from_numpy(model.null_directions()).float()
    assert null.shape == (4, 10)
    z = torch.randn(6, 10, generator=torch.Generator().manual_seed(3))
    moved = z + torch.randn(6, 4, generator=torch.Generator().manual_seed(4)) @ null
    assert torch.allclose(model(moved), model(z), atol=1e-5)
    assert model.true_directions().shape == (6, 10)
    assert synthetic_shapes_with_null_dims(2).z_dim == 8
