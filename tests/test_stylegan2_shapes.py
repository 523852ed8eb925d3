"""The shipped ``stylegan2-shapes`` model: loads by name offline, samples are not degenerate,
its regressor reads real images at the accuracy its JSON reports, and ``find`` runs on it.

The regressor is shipped; the generator's weights are shipped once its training is final, and
the tests that need them run from then on."""

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from gan_directions.cli.main import cli

import gan_directions.generators.catalogue as catalogue
from gan_directions.directions import DirectionSet
from gan_directions.generators.factor_regressor import load_regressor, read_regressor_document
from gan_directions.generators.registry import load_generator
from gan_directions.generators.shapes_gan import StyleGAN2Shapes, shipped_weights_dir
from gan_directions.scoring import score_directions
from gan_directions.training.quality import coverage, generated_batches, read_batches
from gan_directions.training.world_data import real_batch
from gan_directions.worlds.shapes3d import FACTOR_NAMES, ProceduralShapes3D

MIN_PIXEL_STD = 0.3  # mean per-pixel std over samples: real data 0.70, a collapsed run 0.19
CONFIDENT = 0.5  # top-class probability of every factor
MIN_CONFIDENT_FRACTION = 0.6
REGRESSOR = shipped_weights_dir() / "stylegan2-shapes-regressor"


@pytest.fixture(scope="module")
def model(monkeypatch_module):
    def no_download(*_args, **_kwargs):
        raise AssertionError("stylegan2-shapes must load without the network")

    monkeypatch_module.setattr(catalogue, "fetch_model", no_download)
    return load_generator("stylegan2-shapes")


@pytest.fixture(scope="module")
def monkeypatch_module():
    patcher = pytest.MonkeyPatch()
    yield patcher
    patcher.undo()


def test_loads_by_name_offline(model):
    assert isinstance(model, StyleGAN2Shapes) and model.name == "stylegan2-shapes"
    assert model.img_resolution == 64 and model.factor_names == list(FACTOR_NAMES)
    assert not model.training and model.source_sha256
    files = sorted(p.name for p in shipped_weights_dir().glob("stylegan2-shapes*"))
    assert files == ["stylegan2-shapes-regressor.json", "stylegan2-shapes-regressor.safetensors",
                     "stylegan2-shapes.json", "stylegan2-shapes.safetensors"]
    assert sum((shipped_weights_dir() / f).stat().st_size for f in files) < 25e6


def test_samples_are_not_degenerate(model):
    z = torch.randn(48, model.z_dim, generator=torch.Generator().manual_seed(0))
    images = model(z)
    assert images.std(dim=0).mean() > MIN_PIXEL_STD
    top = torch.stack([p.max(dim=1).values for p in model.regressor.probabilities(images)], 1)
    assert (top >= CONFIDENT).all(dim=1).float().mean() >= MIN_CONFIDENT_FRACTION
    factors = model.factors(z)
    assert factors.shape == (48, 6) and factors.min() >= 0 and factors.max() <= 1


def test_every_factor_value_is_generated(model):
    z = torch.randn(300, model.z_dim, generator=torch.Generator().manual_seed(1))
    images = torch.cat([model(part) for part in z.split(100)])
    for name, probs in zip(model.factor_names, model.regressor.probabilities(images),
                           strict=True):
        seen = torch.bincount(probs.argmax(dim=1), minlength=probs.shape[1])
        assert (seen > 0).all(), f"{name}: values never generated: {(seen == 0).nonzero()}"


def test_every_factor_value_reaches_half_its_expected_frequency(model):
    _, probs = read_batches(model.regressor, generated_batches(model, 1000, seed=2))
    figures = coverage(probs, model.factor_names)
    assert figures["passes"], figures["ratio_to_expected"]


def test_regressor_reads_real_images_at_the_reported_accuracy():
    reported = read_regressor_document(REGRESSOR)["source"]["heldout_accuracy"]["per_factor"]
    regressor = load_regressor(REGRESSOR)
    classes, images = real_batch(ProceduralShapes3D(), 400, np.random.default_rng(123))
    with torch.no_grad():
        read = torch.stack([p.argmax(dim=1) for p in regressor.probabilities(images)], dim=1)
    agree = (read == classes).float().mean(dim=0)
    assert regressor.config["factor_names"] == list(FACTOR_NAMES)
    for j, name in enumerate(FACTOR_NAMES):
        assert agree[j] >= reported[name] - 0.03, name


def test_find_runs_on_stylegan2_shapes(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["find", "--model", "stylegan2-shapes", "--steps", "5",
                                      "--k", "3", "--batch", "8", "--pca-samples", "256",
                                      "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    recovery = json.loads((out / "run.json").read_text())["recovery"]
    assert np.asarray(recovery["effects"]).shape == (3, 6)
    assert recovery["factor_names"] == list(FACTOR_NAMES)
    assert 0 <= recovery["disentanglement"] <= 1 and 0 <= recovery["mig_gap"] <= 1
    assert all(" ≈ " in name for name in recovery["direction_names"])


def test_factor_images_fix_one_factor(model):
    images = model.factor_images(4, 3.0, 8, seed=0)  # shape at Phi(3) -> the last class
    assert images.shape == (8, 3, 64, 64) and images.min() >= -1 and images.max() <= 1
    shapes = model.regressor.probabilities(images)[4].argmax(dim=1)
    assert shapes.tolist() == [3] * 8
    hues = model.regressor.probabilities(images)[0].argmax(dim=1)
    assert len(set(hues.tolist())) > 1  # the other factors vary


def test_supervised_rlt_score_against_real_factor_images(model):
    directions = DirectionSet(np.eye(model.w_dim)[:2], space="w")
    result = score_directions(model, directions, mode="corrected", embedding="pixels",
                              n_points=24, n_values=2, n_landmarks=8, n_redraws=2)
    supervised = result["supervised"]
    assert supervised["factors"] == list(FACTOR_NAMES) and "real images" in supervised["truth"]
    assert np.asarray(supervised["distance"]).shape == (2, 6)
    assert all(r["nearest_factor"] in FACTOR_NAMES for r in result["directions"])
