"""Bring your own generator: wrap_generator, py:/module: factories, plug-ins, run folders."""

import json
import shutil
from pathlib import Path

import byo_models
import numpy as np
import pytest
import torch
from click.testing import CliRunner
from gan_directions.cli.main import cli
from torch import nn

from gan_directions.directions import DirectionSet
from gan_directions.discovery import find_directions
from gan_directions.errors import InvalidInputError, ModelLoadError
from gan_directions.generators.capabilities import declared, sefa_weight, supports
from gan_directions.generators.registry import load_generator
from gan_directions.generators.weights import file_sha256
from gan_directions.generators.wrap import wrap_generator
from gan_directions.render import render_traversals
from gan_directions.scoring import score_directions, write_scores

TESTS = Path(__file__).parent

FAST_SCORE = dict(mode="corrected", embedding="pixels", n_points=40, n_values=2, n_landmarks=12,
                  n_redraws=2, gamma=0.125, workers=1)
FAST_SCORE_CLI = ["--mode", "corrected", "--points", "40", "--values", "2", "--landmarks", "12",
                  "--redraws", "2", "--gamma", "0.125", "--embedding", "pixels", "--workers",
                  "1", "--device", "cpu", "--quiet"]
FAST_TOPDIS = ["--steps", "3", "--batch", "8", "--pca-samples", "200", "--k", "3",
               "--recon-size", "16", "--rtd-size", "16", "--threads", "1", "--quiet"]


def test_wrapped_dcgan_find_render_score(tmp_path):
    module = byo_models.tiny_dcgan()
    generator = wrap_generator(module, z_dim=byo_models.Z_DIM, output_range=(0, 1))
    assert (generator.z_layout, generator.img_resolution, generator.img_channels) == \
        ("nchw", 16, 3)
    z = torch.randn(4, byo_models.Z_DIM)
    with torch.no_grad():
        images = generator(z)
        raw = module(z[:, :, None, None])
    assert torch.allclose(images, raw * 2 - 1)  # [0, 1] -> [-1, 1]
    result = find_directions(generator, method="topdis", k=3, steps=3, batch=8,
                             pca_samples=200, recon_size=16, rtd_size=16, seed=0,
                             out=tmp_path / "run", quiet=True)
    assert result.directions.k == 3 and result.record["model"]["spec"] == "wrapped"
    frames = render_traversals(generator, result.directions, seeds=[0, 1], steps=3,
                               out_dir=tmp_path / "run" / "traversals", formats=("png",),
                               overwrite=True, progress=False)
    assert frames.shape == (3, 2, 3, 16, 16, 3)
    scores = score_directions(generator, DirectionSet.load(tmp_path / "run"), seed=0,
                              **FAST_SCORE)
    write_scores(tmp_path / "run", scores)
    assert "supervised" not in scores and np.isfinite(scores["score"])
    assert (tmp_path / "run" / "scores.json").is_file()


def test_adapters_and_sefa_default():
    module = byo_models.tiny_dcgan()
    generator = wrap_generator(module, z_dim=8, z_range=(-1, 1), output_range=(0, 1))
    z = torch.randn(3, 8)
    with torch.no_grad():
        expected = module((2 * torch.special.ndtr(z) - 1)[:, :, None, None]) * 2 - 1
        assert torch.allclose(generator(z), expected)
    # SeFa's default: the first layer reading z, ConvTranspose2d(8, 32, 4) -> A [32*16, 8]
    weight = sefa_weight(generator)
    first = module.main[0].weight.detach().double()
    assert weight.shape == (32 * 16, 8)
    assert np.allclose(weight, first.reshape(8, -1).T.numpy())
    assert declared(generator) == ["sefa_weight"]
    with pytest.raises(InvalidInputError, match="img_resolution=32"):
        wrap_generator(module, z_dim=8, img_resolution=32)
    with pytest.raises(InvalidInputError, match="fails on z"):
        wrap_generator(module, z_dim=5)


def test_channels_last_and_declared_capabilities():
    class NHWC(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 8 * 8 * 1)

        def forward(self, z):
            return self.fc(z).reshape(-1, 8, 8, 1)

    truth = np.eye(4)[:2]
    generator = wrap_generator(NHWC(), z_dim=4, channels_last=True, true_directions=truth,
                               factors=lambda z: torch.special.ndtr(z[:, :2]),
                               factor_names=["a", "b"])
    assert generator.z_layout == "flat" and generator.img_channels == 1
    assert declared(generator) == ["known_factors", "true_directions", "sefa_weight"]
    result = find_directions(generator, method="ganspace", k=2, pca_samples=200, quiet=True)
    assert result.record["recovery"]["factor_names"] == ["a", "b"]


def test_conditional_module_gets_its_labels():
    class Conditional(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(3, 4)
            self.fc = nn.Linear(8, 3 * 4 * 4)

        def forward(self, z, labels):
            self.seen = labels
            return self.fc(torch.cat([z, self.embed(labels)], 1)).reshape(-1, 3, 4, 4)

    module = Conditional()
    generator = wrap_generator(module, z_dim=4, c_dim=3, class_input="index")
    assert supports(generator, "class_conditioning") and generator.w_dim == 7
    assert not supports(generator, "sefa_weight")  # its first layer reads [z, label]
    c = torch.eye(3)[[2, 0]]
    with torch.no_grad():
        generator(torch.randn(2, 4), c)
    assert module.seen.tolist() == [2, 0]
    with pytest.raises(InvalidInputError, match="conditional"):
        generator(torch.randn(2, 4))
    directions = DirectionSet(np.eye(4)[:2], space="z")
    frames = {index: render_traversals(generator, directions, seeds=[0], steps=3,
                                       class_index=index, progress=False)
              for index in (0, 2)}
    assert set(module.seen.tolist()) == {2}  # the last call: class 2 for every image
    assert not np.array_equal(frames[0], frames[2])


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_cli_py_factory_find_then_render_and_score_from_the_run_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(TESTS.parent)
    out = tmp_path / "run"
    found = run("find", "--model", "py:tests/byo_models.py:factory", "--out", out,
                *FAST_TOPDIS)
    assert found.exit_code == 0, found.output
    record = json.loads((out / "run.json").read_text())
    factory_file = (TESTS / "byo_models.py").resolve()
    assert record["model"] == {"spec": f"py:{factory_file}:factory", "path": str(factory_file),
                               "sha256": file_sha256(factory_file)}
    assert record["model_capabilities"] == ["sefa_weight"]
    monkeypatch.chdir(tmp_path)  # no --model: the run folder alone names the model
    rendered = run("render", out, "--seeds", "0-1", "--steps", "3", "--formats", "png",
                   "--device", "cpu", "--quiet")
    assert rendered.exit_code == 0, rendered.output
    assert sorted(p.name for p in (out / "traversals").glob("*.png")) == [
        "d00_grid.png", "d01_grid.png", "d02_grid.png", "overview.png"]
    scored = run("score", out, *FAST_SCORE_CLI)
    assert scored.exit_code == 0, scored.output
    assert json.loads((out / "scores.json").read_text())["model"] == record["model"]["spec"]


def test_a_changed_factory_file_is_refused_before_it_runs(tmp_path):
    factory_file = tmp_path / "user" / "my_gan.py"
    factory_file.parent.mkdir()
    shutil.copy(TESTS / "byo_models.py", factory_file)
    out = tmp_path / "sefa"
    found = run("find", "--model", f"py:{factory_file}:factory", "--method", "sefa", "--k", "3",
                "--out", out, "--quiet")
    assert found.exit_code == 0, found.output
    assert DirectionSet.load(out).k == 3
    marker = tmp_path / "ran"
    factory_file.write_text(factory_file.read_text() + f"\nopen({str(marker)!r}, 'w')\n")
    changed = run("score", out, *FAST_SCORE_CLI)
    assert changed.exit_code == 1 and "changed since the run" in changed.output
    assert not marker.exists()


def test_plain_module_with_z_dim_and_module_factory(monkeypatch):
    plain = load_generator(f"py:{TESTS / 'byo_models.py'}:plain_module")
    assert plain.img_resolution == 8 and plain.z_layout == "flat"
    monkeypatch.syspath_prepend(str(TESTS))
    generator = load_generator("byo_models:factory")
    assert generator.source.spec == "byo_models:factory"
    assert generator.source.path == str((TESTS / "byo_models.py").resolve())


@pytest.mark.parametrize("spec, message", [
    ("py:tests/no_such_file.py:factory", "file not found"),
    ("py:tests/byo_models.py:raises", "raised RuntimeError: weights file missing"),
    ("py:tests/byo_models.py:wrong_type", "returned dict, expected a gandir Generator"),
    ("py:tests/byo_models.py:missing", "has no 'missing'"),
    ("py:tests/byo_models.py", "expected py:path/to/file.py:factory"),
    ("no_such_module_xyz:factory", "cannot import 'no_such_module_xyz'"),
])
def test_user_code_errors_are_one_line_and_write_nothing(tmp_path, monkeypatch, spec, message):
    monkeypatch.chdir(TESTS.parent)
    out = tmp_path / "run"
    result = run("find", "--model", spec, "--out", out, "--method", "random", "--quiet")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], lines
    assert not out.exists()


def test_a_pickle_name_never_runs_a_factory(tmp_path, monkeypatch):
    package = tmp_path / "model"  # `model.pkl:factory` would import model/pkl.py
    package.mkdir()
    (package / "__init__.py").write_text("")
    marker = tmp_path / "ran"
    (package / "pkl.py").write_text(f"def factory():\n    open({str(marker)!r}, 'w')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelLoadError, match="file not found"):
        load_generator("model.pkl:factory")
    assert not marker.exists()


def test_entry_point_plugin_is_picked_up(tmp_path, monkeypatch):
    site = tmp_path / "site"
    dist = site / "gandir_test_plugin-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: gandir-test-plugin\n"
                                   "Version: 0.1\n")
    (dist / "entry_points.txt").write_text("[gandir.generators]\n"
                                           "testgan = gandir_test_plugin:load\n")
    (site / "gandir_test_plugin.py").write_text(
        "import torch\n"
        "from gan_directions.generators.wrap import wrap_generator\n"
        "def load(target):\n"
        "    width = int(target)\n"
        "    return wrap_generator(torch.nn.Sequential(torch.nn.Linear(width, 3 * 4 * 4),\n"
        "                          torch.nn.Unflatten(1, (3, 4, 4))), z_dim=width)\n"
    )
    monkeypatch.syspath_prepend(str(site))
    generator = load_generator("testgan:5")
    assert generator.z_dim == 5 and generator.img_resolution == 4
    assert generator.source.spec == "testgan:5"


class Payload:
    """Not a tensor: torch.load(weights_only=True) must refuse to unpickle it."""


def test_weights_load_only_as_plain_tensors(tmp_path):
    saved = byo_models.tiny_dcgan(seed=1)
    path = tmp_path / "g.pt"
    torch.save(saved.state_dict(), path)
    generator = wrap_generator(byo_models.tiny_dcgan(seed=2), z_dim=8, weights=path)
    z = torch.randn(2, 8, 1, 1)
    with torch.no_grad():
        assert torch.equal(generator.net(z), saved.eval()(z))
    torch.save({"state": Payload()}, tmp_path / "code.pt")
    with pytest.raises(ModelLoadError, match="weights_only=True"):
        wrap_generator(byo_models.tiny_dcgan(), z_dim=8, weights=tmp_path / "code.pt")
    torch.save({"main.0.weight": torch.zeros(1)}, tmp_path / "wrong.pt")
    with pytest.raises(ModelLoadError, match="do not fit the module"):
        wrap_generator(byo_models.tiny_dcgan(), z_dim=8, weights=tmp_path / "wrong.pt")


def test_models_list_shows_the_loader_families():
    listed = run("models", "list", "--json")
    loaders = {row["family"]: row["spec"] for row in json.loads(listed.output)["loaders"]}
    assert loaders["py"] == "py:..." and loaders["stylegan2-pickle"] == "*.pkl"
    assert loaders["module"] == "module.sub:factory"


def test_cli_conditional_module_find_render_score_with_one_class(tmp_path, monkeypatch):
    monkeypatch.chdir(TESTS.parent)
    out = tmp_path / "run"
    found = run("find", "--model", "py:tests/byo_models.py:conditional", "--class", "2",
                "--space", "z", "--out", out, *FAST_TOPDIS)
    assert found.exit_code == 0, found.output
    assert json.loads((out / "run.json").read_text())["settings"]["class_index"] == 2
    rendered = run("render", out, "--seeds", "0", "--steps", "3", "--formats", "png",
                   "--device", "cpu", "--quiet")
    assert rendered.exit_code == 0, rendered.output
    render = json.loads((out / "traversals" / "render.json").read_text())
    assert render["settings"]["class_index"] == 2  # the run's class, not a default
    scored = run("score", out, *FAST_SCORE_CLI)
    assert scored.exit_code == 0, scored.output
    bad = run("find", "--model", "py:tests/byo_models.py:conditional", "--class", "3",
              "--out", tmp_path / "bad", "--quiet")
    assert bad.exit_code == 2 and "out of range" in bad.output
    assert not (tmp_path / "bad").exists()
