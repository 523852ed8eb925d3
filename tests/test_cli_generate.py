"""``gandir generate`` and ``gandir models inspect|convert``: outputs and one-line errors."""

from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from gan_directions.cli.main import cli
from PIL import Image

from gan_directions.generators.registry import load_generator
from gan_directions.render.samples import generate_images


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_generate_writes_pngs_grid_and_record(tmp_path, data_dir):
    out = tmp_path / "out"
    result = run("generate", "--model", data_dir / "tiny64.pkl", "--seeds", "0-2,7",
                 "--trunc", "0.7", "--out", out, "-q")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [".gandir-run", "grid.png", "run.json", "seed0000.png", "seed0001.png",
                     "seed0002.png", "seed0007.png"]
    assert Image.open(out / "seed0007.png").size == (64, 64)
    assert Image.open(out / "grid.png").size == (128, 128)
    record = json.loads((out / "run.json").read_text())
    assert record["kind"] == "generate" and record["truncation_psi"] == 0.7
    assert record["seeds"] == [0, 1, 2, 7] and len(record["model"]["sha256"]) == 64


def test_seed_convention_and_reference_match(data_dir):
    """Seed N uses RandomState(N).randn(z_dim); images follow NVIDIA's uint8 conversion."""
    generator = load_generator(data_dir / "tiny64.pkl")
    images = generate_images(generator, [3], truncation_psi=0.7, progress=False)
    z = torch.from_numpy(np.random.RandomState(3).randn(1, generator.z_dim))
    with torch.no_grad():
        expected = generator(z, truncation_psi=0.7)
    expected = (expected.permute(0, 2, 3, 1) * 127.5 + 128).clamp(0, 255).to(torch.uint8)
    assert np.array_equal(images, expected.numpy())


def test_batches_and_random_noise_are_deterministic(data_dir):
    generator = load_generator(data_dir / "tiny32_cond.pkl")
    one = generate_images(generator, [0, 1, 2], class_index=4, batch=1, progress=False)
    three = generate_images(generator, [0, 1, 2], class_index=4, batch=3, progress=False)
    assert np.abs(one.astype(int) - three.astype(int)).max() <= 1
    first = generate_images(generator, [5], class_index=4, noise_mode="random", progress=False)
    again = generate_images(generator, [5], class_index=4, noise_mode="random", progress=False)
    assert np.array_equal(first, again)


def test_conditional_model_with_class_and_grayscale(tmp_path, data_dir):
    result = run("generate", "-m", data_dir / "tiny32_cond.pkl", "--class", 3, "--seeds", "0-1",
                 "--noise-mode", "none", "--out", tmp_path / "c", "-q")
    assert result.exit_code == 0, result.output
    result = run("generate", "-m", data_dir / "gray128.pkl", "--seeds", "4", "--out",
                 tmp_path / "g", "-q")
    assert result.exit_code == 0, result.output
    assert Image.open(tmp_path / "g" / "seed0004.png").mode == "L"


def test_convert_then_generate_from_safetensors(tmp_path, data_dir):
    result = run("models", "convert", data_dir / "tiny32_cond.pkl", "-o", tmp_path / "t32")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "t32.safetensors").is_file() and (tmp_path / "t32.json").is_file()
    again = run("models", "convert", data_dir / "tiny32_cond.pkl", "-o", tmp_path / "t32")
    assert again.exit_code == 1 and "--overwrite" in again.stderr
    for model, out in ((data_dir / "tiny32_cond.pkl", "a"), (tmp_path / "t32.safetensors", "b")):
        result = run("generate", "-m", model, "--class", 1, "--seeds", "0-3", "--out",
                     tmp_path / out, "-q")
        assert result.exit_code == 0, result.output
    assert (tmp_path / "a" / "grid.png").read_bytes() == (tmp_path / "b" / "grid.png").read_bytes()
    inspect = run("models", "inspect", tmp_path / "t32.safetensors", "--json")
    assert json.loads(inspect.stdout)["c_dim"] == 10


def _hostile_files(tmp_path, data_dir):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    (tmp_path / "evil.pkl").write_bytes(pickle.dumps({"G_ema": Evil()}))
    (tmp_path / "foreign.pkl").write_bytes(pickle.dumps({"G_ema": torch.nn.Identity()}))
    data = (data_dir / "tiny64.pkl").read_bytes()
    (tmp_path / "cut.pkl").write_bytes(data[: len(data) // 2])
    (tmp_path / "junk.pkl").write_bytes(b"not a pickle at all")
    return marker


@pytest.mark.parametrize("model, message", [
    ("missing.pkl", "file not found"),
    ("evil.pkl", "refused global"),
    ("foreign.pkl", "refused global torch.nn.modules.linear.Identity"),
    ("cut.pkl", "truncated or corrupt"),
    ("junk.pkl", "not a valid network pickle"),
    ("no-such-model", "unknown model name"),
])
def test_bad_models_fail_with_one_line_and_write_nothing(tmp_path, data_dir, model, message):
    marker = _hostile_files(tmp_path, data_dir)
    target = tmp_path / model if model.endswith(".pkl") else model
    out = tmp_path / "out"
    result = run("generate", "--model", target, "--out", out, "-q")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists() and not marker.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


@pytest.mark.parametrize("args, message", [
    (["--class", "2"], "only for conditional"),
    (["--seeds", "5-1"], "bad seed list"),
    (["--truncation-cutoff", "99"], "at most num_ws"),
])
def test_bad_options(tmp_path, data_dir, args, message):
    result = run("generate", "-m", data_dir / "tiny64.pkl", "--out", tmp_path / "o", *args)
    assert result.exit_code == 2 and message in result.stderr
    assert not (tmp_path / "o").exists()


def test_missing_class_for_conditional_model(tmp_path, data_dir):
    result = run("generate", "-m", data_dir / "tiny32_cond.pkl", "--out", tmp_path / "o")
    assert result.exit_code == 2 and "--class 0..9" in result.stderr
