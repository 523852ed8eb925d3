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
    with pytest.raises(GandirError, match="not a .npz archive"):
        DirectionSet.load(tmp_path / "bad.npz")
    DirectionSet(np.eye(3, 8)).save(tmp_path / "d.npz")
    data = (tmp_path / "d.npz").read_bytes()
    cut = len(data) // 2
    broken = {"truncated.npz": data[:cut],
              "flipped.npz": data[:cut] + bytes(b ^ 0xFF for b in data[cut:cut + 64])
              + data[cut + 64:]}
    for name, content in broken.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(GandirError, match="truncated or corrupt") as error:
            DirectionSet.load(tmp_path / name)
        assert "allow_pickle" not in str(error.value)
    np.savez(tmp_path / "objects.npz", directions=np.array([{"a": 1}], dtype=object))
    with pytest.raises(GandirError, match="pickled Python objects, which gandir never loads"):
        DirectionSet.load(tmp_path / "objects.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(GandirError, match="no 'directions' array"):
        DirectionSet.load(tmp_path / "other.npz")


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
    with pytest.raises(InvalidInputError, match="no seeds given"):
        parse_seeds("")
    with pytest.raises(InvalidInputError, match="names 100000000 seeds; at most 10000"):
        parse_seeds("0-99999999")  # refused before anything is allocated
    assert len(parse_seeds("0-9999")) == 10000


def test_seeded_z_matches_official_convention():
    z = seeded_z([3], 8)
    np.testing.assert_allclose(z[0].numpy(), np.random.RandomState(3).randn(8), rtol=1e-6)
