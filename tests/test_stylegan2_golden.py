"""Golden outputs of the original implementation (fp32, CPU) reproduced from the .pkl fixtures."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from gan_directions.generators.registry import load_generator
from gan_directions.generators.weights import save_generator

FIXTURES = ["tiny32_cond", "tiny64", "gray128",
            pytest.param("paper256_narrow_cond", marks=pytest.mark.slow)]
WS_TOL = 1e-4
IMG_TOL = 2e-3


@pytest.fixture(scope="module", params=FIXTURES)
def case(request):
    from pathlib import Path

    data = Path(__file__).parent / "data"
    name = request.param
    reference = dict(np.load(data / f"{name}.ref.npz"))
    meta = json.loads((data / f"{name}.json").read_text())
    generator = load_generator(data / f"{name}.pkl")
    z = torch.from_numpy(reference["z"])
    c = torch.from_numpy(reference["c"]) if reference["c"].shape[1] else None
    return name, generator, reference, meta, z, c


def max_error(actual: torch.Tensor, expected: np.ndarray) -> float:
    assert tuple(actual.shape) == expected.shape
    return (actual - torch.from_numpy(expected)).abs().max().item()


def test_config_matches_fixture(case):
    _, generator, _, meta, _, _ = case
    kwargs = meta["init_kwargs"]
    assert generator.num_ws == meta["num_ws"]
    for key in ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels"):
        assert getattr(generator, key) == kwargs[key]
    assert generator.config["mapping"]["num_layers"] == kwargs["mapping_kwargs"]["num_layers"]
    assert generator.config["synthesis"]["conv_clamp"] == kwargs["synthesis_kwargs"]["conv_clamp"]


@pytest.mark.parametrize("key, kwargs", [
    ("ws_psi1", {}),
    ("ws_psi07", {"truncation_psi": 0.7}),
    ("ws_psi05_cutoff4", {"truncation_psi": 0.5, "truncation_cutoff": 4}),
])
def test_mapping(case, key, kwargs):
    _, generator, reference, _, z, c = case
    assert max_error(generator.mapping(z, c, **kwargs), reference[key]) <= WS_TOL


@pytest.mark.parametrize("key, kwargs", [
    ("img_psi1_const", {}),
    ("img_psi07_const", {"truncation_psi": 0.7}),
    ("img_psi1_none", {"noise_mode": "none"}),
])
def test_full_generator(case, key, kwargs):
    _, generator, reference, _, z, c = case
    with torch.no_grad():
        assert max_error(generator(z, c, **kwargs), reference[key]) <= IMG_TOL
        # a batch of one takes the folded-weight path; it must agree as well
        single = generator(z[:1], None if c is None else c[:1], **kwargs)
    assert max_error(single, reference[key][:1]) <= IMG_TOL


def test_synthesis_from_wplus(case):
    _, generator, reference, _, _, _ = case
    with torch.no_grad():
        images = generator.synthesis(torch.from_numpy(reference["wplus"]), noise_mode="const")
    assert max_error(images, reference["img_wplus_const"]) <= IMG_TOL


def test_safetensors_round_trip_is_identical(case, tmp_path):
    name, generator, reference, _, z, c = case
    tensors_path, json_path = save_generator(generator, tmp_path / name)
    assert tensors_path.is_file() and json_path.is_file()
    for path in (tensors_path, json_path):
        loaded = load_generator(path)
        with torch.no_grad():
            for kwargs in ({}, {"truncation_psi": 0.7, "noise_mode": "none"}):
                assert torch.equal(loaded(z, c, **kwargs), generator(z, c, **kwargs))
        assert loaded.source_sha256 != generator.source_sha256  # sha of the file read


def test_random_noise_follows_the_torch_rng(case):
    _, generator, _, _, z, c = case
    with torch.no_grad():
        torch.manual_seed(0)
        first = generator(z, c, noise_mode="random")
        torch.manual_seed(0)
        again = generator(z, c, noise_mode="random")
        torch.manual_seed(1)
        other = generator(z, c, noise_mode="random")
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_fp16_blocks_stay_close(case, monkeypatch):
    """The GPU fp16 path (top resolutions in half precision), exercised on CPU."""
    from gan_directions.generators import stylegan2

    name, generator, reference, meta, z, c = case
    if meta["init_kwargs"]["synthesis_kwargs"]["num_fp16_res"] == 0:
        pytest.skip("no fp16 blocks in this model")
    monkeypatch.setattr(stylegan2, "FP16_DEVICE_TYPES", ("cuda", "cpu"))
    with torch.no_grad():
        half = generator(z, c)
        forced = generator(z, c, force_fp32=True)
    assert half.dtype == torch.float32
    assert 1e-4 < max_error(half, reference["img_psi1_const"]) < 3e-2
    assert max_error(forced, reference["img_psi1_const"]) <= IMG_TOL
