"""Traversal generation: shapes, the edit rule, zero shifts, uint8 conversion, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_directions.directions import DirectionSet, seeded_z
from gan_directions.errors import GandirError, InvalidInputError
from gan_directions.generators.base import Generator
from gan_directions.render import render_traversals
from gan_directions.render.animation import pingpong
from gan_directions.render.images import to_uint8
from gan_directions.render.traversal import traversal_alphas, traversal_images


class LayerProbe(Generator):
    """A stand-in: W = A z on 3 layers; pixel channel c shows the mean of ws[:, c]."""

    def __init__(self) -> None:
        super().__init__()
        self.z_dim, self.w_dim, self.num_ws = 5, 4, 3
        self.img_resolution, self.img_channels = 8, 3
        self.register_buffer("A", torch.linspace(-1, 1, 20).reshape(4, 5))

    def mapping(self, z, c=None, truncation_psi=1.0, truncation_cutoff=None):
        return (z @ self.A.T).unsqueeze(1).repeat(1, self.num_ws, 1) * truncation_psi

    def synthesis(self, ws, noise_mode="const"):
        level = torch.tanh(ws.mean(dim=2) / 4)  # [N, 3]: one value per layer
        return level[:, :, None, None].expand(-1, -1, 8, 8)



def test_to_uint8_follows_nvidia_rule():
    x = torch.tensor([-1.5, -1.0, 0.0, 0.5, 1.0, 2.0]).reshape(1, 1, 1, 6)
    assert to_uint8(x).reshape(-1).tolist() == [0, 0, 128, 191, 255, 255]
    assert to_uint8(torch.zeros(2, 3, 4, 5)).shape == (2, 4, 5, 3)


def test_pingpong_and_alphas():
    assert pingpong(5) == [0, 1, 2, 3, 4, 3, 2, 1]
    assert pingpong(2) == [0, 1]
    alphas = traversal_alphas(9, 3.0)
    assert alphas[0] == -3 and alphas[-1] == 3 and alphas[4] == 0
    np.testing.assert_allclose(alphas, -alphas[::-1])
    with pytest.raises(InvalidInputError):
        traversal_alphas(0, 1.0)
    with pytest.raises(InvalidInputError):
        traversal_alphas(3, float("nan"))


def test_shape_and_zero_shift_equals_original(shapes):
    dirs = DirectionSet(shapes.true_directions()[:3], space="z")
    z = seeded_z([0, 1], shapes.z_dim)
    frames, originals = traversal_images(shapes, dirs, z, traversal_alphas(5, 2.0), batch_size=7)
    assert frames.shape == (3, 2, 5, 64, 64, 3) and frames.dtype == np.uint8
    # the middle shift is 0: every direction's middle frame is the unedited image
    for k in range(3):
        np.testing.assert_array_equal(frames[k, :, 2], originals)
    still = render_traversals(shapes, dirs, seeds=[0, 1], steps=3, max_shift=0.0, progress=False)
    assert still.shape == (3, 2, 3, 64, 64, 3)
    for k in range(3):  # all frames of a zero-length traversal are the unedited image
        np.testing.assert_array_equal(still[k], still[0, :, :1].repeat(3, axis=1))
    assert np.abs(still[0, :, 0].astype(int) - originals).max() <= 1  # another batching
    direct = to_uint8(shapes(z.to(torch.float32)))  # one batch: equal up to float rounding
    assert np.abs(originals.astype(int) - direct).max() <= 1


def test_moves_the_known_factor(shapes):
    """Along true direction j only factor j changes: the images move, the others stay."""
    dirs = DirectionSet(shapes.true_directions(), space="z")
    frames = render_traversals(shapes, dirs, seeds=[3], steps=3, max_shift=1.0, progress=False)
    assert frames.shape == (6, 1, 3, 64, 64, 3)
    for k in range(6):
        assert np.abs(frames[k, 0, 0].astype(int) - frames[k, 0, 2]).max() > 20


def test_scales_are_standard_deviations(shapes):
    d = shapes.true_directions()[:1]
    unit = DirectionSet(d, space="z", scales=[1.0])
    double = DirectionSet(d, space="z", scales=[2.0])
    a = render_traversals(shapes, unit, seeds=[5], steps=3, max_shift=2.0, progress=False)
    b = render_traversals(shapes, double, seeds=[5], steps=3, max_shift=1.0, progress=False)
    np.testing.assert_array_equal(a, b)


def test_edit_stays_in_its_layer_range():
    probe = LayerProbe()
    d = np.ones((1, 4), dtype=np.float32) / 2
    only_layer_1 = DirectionSet(d, space="w+", layers=(1, 1))
    frames = render_traversals(probe, only_layer_1, seeds=[0], steps=3, progress=False)
    first, last = frames[0, 0, 0, 0, 0].astype(int), frames[0, 0, -1, 0, 0].astype(int)
    assert first[0] == last[0] and first[2] == last[2]  # layers 0 and 2 untouched
    assert last[1] - first[1] > 50
    all_layers = DirectionSet(d, space="w")
    frames = render_traversals(probe, all_layers, seeds=[0], steps=3, progress=False)
    assert np.all(frames[0, 0, -1, 0, 0].astype(int) - frames[0, 0, 0, 0, 0] > 50)


def test_truncation_is_passed_to_mapping():
    probe = LayerProbe()
    dirs = DirectionSet(np.eye(4, dtype=np.float32)[:1], space="w")
    full = render_traversals(probe, dirs, seeds=[1], steps=1, max_shift=0.0, progress=False)
    none = render_traversals(
        probe, dirs, seeds=[1], steps=1, max_shift=0.0, truncation_psi=0.0, progress=False
    )
    assert np.all(none == 128) and not np.all(full == 128)


def test_bad_input_gets_clear_errors(shapes, tmp_path):
    with pytest.raises(GandirError, match="not found"):
        render_traversals(shapes, tmp_path / "missing.npz", progress=False)
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04 this is not a zip archive")
    with pytest.raises(GandirError, match="cannot read directions file"):
        render_traversals(shapes, corrupt, progress=False)
    wrong = DirectionSet(np.eye(7, dtype=np.float32)[:2], space="z")
    with pytest.raises(InvalidInputError, match="dimension 7 does not match"):
        render_traversals(shapes, wrong, progress=False)
    dirs = DirectionSet(shapes.true_directions()[:2], space="z")
    with pytest.raises(InvalidInputError, match="indices"):
        render_traversals(shapes, dirs, indices=[2], progress=False)
    with pytest.raises(InvalidInputError, match="unconditional"):
        render_traversals(shapes, dirs, class_index=1, progress=False)
    with pytest.raises(InvalidInputError, match="format"):
        render_traversals(shapes, dirs, out_dir=tmp_path / "o", formats=["webm"], progress=False)
    with pytest.raises(InvalidInputError, match="fps"):
        render_traversals(shapes, dirs, out_dir=tmp_path / "o", fps=100, progress=False)
    assert not (tmp_path / "o").exists()
