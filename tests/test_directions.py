import numpy as np
import pytest
import torch

from gan_directions.directions import (
    DirectionSet,
    edit_ws,
    parse_layer_range,
    parse_seeds,
    seeded_z,
)
from gan_directions.errors import GandirError, InvalidInputError


def test_save_load_round_trip(tmp_path):
    dirs = DirectionSet(np.eye(3, 5), space="w+", layers=(1, 2), scales=[1, 2, 3], names=["a"])
    dirs.save(tmp_path / "d.npz")
    back = DirectionSet.load(tmp_path / "d.npz")
    np.testing.assert_array_equal(back.directions, dirs.directions)
    assert back.space == "w+" and back.layers == (1, 2) and back.names == ["a"]
    np.testing.assert_array_equal(back.scales, [1, 2, 3])
    assert back.label(1) == "d1"


def test_load_errors(tmp_path):
    with pytest.raises(GandirError, match="not found"):
        DirectionSet.load(tmp_path / "missing.npz")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(GandirError, match="cannot read"):
        DirectionSet.load(tmp_path / "bad.npz")


def test_invalid_directions():
    with pytest.raises(InvalidInputError):
        DirectionSet(np.full((2, 3), np.nan))
    with pytest.raises(InvalidInputError):
        DirectionSet(np.eye(2), space="q")
    with pytest.raises(InvalidInputError):
        DirectionSet(np.eye(2), space="z", layers=(0, 1))


def test_edit_ws_layers():
    ws = torch.zeros(2, 4, 3)
    out = edit_ws(ws, torch.tensor([1.0, 0, 0]), torch.tensor([1.0, 2.0]), layers=(1, 2))
    assert out[:, [0, 3]].abs().sum() == 0
    np.testing.assert_allclose(out[:, 1, 0].numpy(), [1, 2])


def test_parsers():
    assert parse_layer_range("0-5") == (0, 5)
    assert parse_layer_range("all") is None
    with pytest.raises(InvalidInputError):
        parse_layer_range("5-2")
    with pytest.raises(InvalidInputError):
        parse_layer_range("0-20", num_ws=14)
    assert parse_seeds("0-2,7") == [0, 1, 2, 7]
    with pytest.raises(InvalidInputError):
        parse_seeds("x")


def test_seeded_z_matches_official_convention():
    z = seeded_z([3], 8)
    np.testing.assert_allclose(z[0].numpy(), np.random.RandomState(3).randn(8), rtol=1e-6)
