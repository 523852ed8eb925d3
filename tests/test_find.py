"""``find_directions`` and ``gandir find``: run folders, resume, every method, bad input."""

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from gan_directions.cli.main import cli
from PIL import Image
from search_resume import assert_resume_is_bit_identical

from gan_directions.directions import DirectionSet
from gan_directions.discovery import find_directions
from gan_directions.errors import GandirError, InvalidInputError
from gan_directions.generators.registry import load_generator

DATA = Path(__file__).parent / "data"
RUN_KEYS = {"record_version", "kind", "gandir_version", "created", "model", "method", "space",
            "layers", "k", "seed", "truncation_psi", "settings", "versions", "loss_history",
            "recovery", "stages"}
FAST = {"batch": 12, "rtd_size": 16, "pca_samples": 256}





def check_run_folder(out: Path, k: int, method: str) -> dict:
    directions = DirectionSet.load(out)
    assert directions.k == k
    np.testing.assert_allclose(np.linalg.norm(directions.directions, axis=1), 1, atol=1e-5)
    record = json.loads((out / "run.json").read_text())
    assert set(record) >= RUN_KEYS and record["method"] == method
    lines = (out / "losses.csv").read_text().splitlines()
    assert lines[0].startswith("step") and len(lines) - 1 >= len(record["loss_history"])
    with Image.open(out / "preview.png") as preview:
        assert preview.size[1] == k * min(96, 64)
    return record


def test_cli_end_to_end_on_synthetic_shapes(tmp_path):
    """200 default TopDis steps on CPU (its wall time is a benchmark's business, not a test's:
    benchmarks/)."""
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["find", "--model", "synthetic-shapes", "--steps", "200",
                                      "--out", str(out), "--quiet", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    record = check_run_folder(out, 6, "topdis")
    assert record["model"] == {"spec": "synthetic-shapes", "path": None, "sha256": None}
    assert len(record["loss_history"]) == 200
    assert {"rtd", "recon", "loss"} <= set(record["loss_history"][-1])
    assert len((out / "losses.csv").read_text().splitlines()) == 201
    recovery = record["recovery"]
    assert 0 <= recovery["matched_abs_cos"] <= 1 and 0 <= recovery["disentanglement"] <= 1
    assert record["settings"]["steps"] == 200 and record["settings"]["batch"] == 32
    assert (out / "checkpoint.pt").is_file()


@pytest.mark.usefixtures("product_recovery_reports")
def test_find_reports_recovery_on_the_documented_latents(shapes):
    """The suite shrinks run.json's recovery report (conftest); find itself measures 128
    latents."""
    found = find_directions(shapes, method="sefa", k=2, pca_samples=256)
    assert found.record["recovery"]["effect_samples"] == 128


def test_cli_render_and_default_k(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["find", "--model", "synthetic-shapes", "--method", "sefa",
                                      "--out", str(out), "--render", "--quiet", "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert DirectionSet.load(out).k == 6  # K defaults to min(10, latent dimension)
    assert (out / "index.html").is_file()
    assert any((out / "traversals").iterdir())


@pytest.mark.parametrize("method", ["topdis", "vb"])
def test_resume_after_crash_is_bit_identical(tmp_path, shapes, method):
    settings = dict(method=method, k=4, steps=6, checkpoint_every=2, quiet=True, **FAST)
    assert_resume_is_bit_identical(shapes, tmp_path, 5, **settings)


def test_resume_refuses_changed_settings(tmp_path, shapes):
    settings = dict(method="vb", k=3, steps=2, quiet=True, **FAST)
    find_directions(shapes, out=tmp_path / "run", **settings)
    with pytest.raises(GandirError, match="settings differ"):
        find_directions(shapes, out=tmp_path / "run", resume=True, **{**settings, "lr": 0.5})
    with pytest.raises(GandirError, match="nothing to resume"):
        find_directions(shapes, out=tmp_path / "other", resume=True, **settings)
    longer = find_directions(shapes, out=tmp_path / "run", resume=True, **{**settings, "steps": 3})
    assert len(longer.history) == 3


def test_resume_refuses_another_model(tmp_path, tiny):
    """Same size but other weights, and another size: one line each, the run untouched."""
    import torch

    from gan_directions.generators.weights import save_generator

    other = load_generator(DATA / "tiny64.pkl")
    with torch.no_grad():
        next(other.parameters()).add_(1.0)
    save_generator(other, tmp_path / "other")
    out = tmp_path / "run"
    base = ["find", "--method", "vb", "--k", "2", "--steps", "2", "--batch", "12",
            "--pca-samples", "64", "--out", str(out), "--quiet", "--threads", "1"]
    result = CliRunner().invoke(cli, [*base, "--model", str(DATA / "tiny64.pkl")])
    assert result.exit_code == 0, result.output
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    for model, detail in [(tmp_path / "other.safetensors", "sha256"),
                          (DATA / "gray128.pkl", "img_resolution, img_channels differ"),
                          ("synthetic-shapes", "differ")]:
        result = CliRunner().invoke(cli, [*base, "--model", str(model), "--resume",
                                          "--steps", "3"])
        assert result.exit_code == 1, result.output
        assert result.output.count("\n") == 1 and "Traceback" not in result.output
        assert "cannot resume" in result.output and "tiny64.pkl" in result.output
        assert detail in result.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_same_seed_same_directions(shapes):
    a = find_directions(shapes, method="topdis", k=3, steps=3, seed=5, quiet=True, **FAST)
    b = find_directions(shapes, method="topdis", k=3, steps=3, seed=5, quiet=True, **FAST)
    c = find_directions(shapes, method="topdis", k=3, steps=3, seed=6, quiet=True, **FAST)
    np.testing.assert_array_equal(a.directions.directions, b.directions.directions)
    assert not np.array_equal(a.directions.directions, c.directions.directions)


@pytest.mark.parametrize("method", ["topdis", "vb", "ganspace", "sefa", "random"])
def test_every_method_on_tiny_stylegan2(tmp_path, tiny, method):
    out = tmp_path / method
    result = find_directions(tiny, method=method, k=3, space="w", layers="0-3", steps=2,
                             batch=8, out=out, quiet=True, pca_samples=256, rtd_size=16,
                             pca_dims=8)
    record = check_run_folder(out, 3, method)
    assert record["layers"] == [0, 3] and record["recovery"] is None
    assert record["model"]["sha256"] is not None and len(record["model"]["sha256"]) == 64
    assert result.directions.space == "w" and result.directions.dim == 64
    assert np.all(result.directions.scales > 0)
    if method == "ganspace":  # the top principal axes of sampled w
        assert record["scales"][0] >= record["scales"][1] >= record["scales"][2]


def test_topdis_in_z_and_with_gmg(tiny):
    result = find_directions(tiny, method="topdis", k=2, space="z", steps=1, batch=8,
                             quiet=True, gmg_weight=0.5, rtd_size=16, pca_samples=64,
                             rtd_embedding="features")
    assert "gmg" in result.history[0] and np.isfinite(result.history[0]["gmg"])
    np.testing.assert_allclose(result.directions.scales, 1.0)


def test_unit_and_cayley_parametrizations_cosine_schedule(shapes):
    for parametrization in ("unit", "cayley"):
        result = find_directions(shapes, method="vb", k=3, steps=2, quiet=True,
                                 parametrization=parametrization, lr_schedule="cosine", **FAST)
        assert result.directions.k == 3
        assert result.record["settings"]["lr_schedule"] == "cosine"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--method", "pca"], "Invalid value for '--method'"),
        (["--k", "7"], "K=7 directions do not fit"),
        (["--layers", "0-3"], "bad layer range"),
        (["--layers", "x"], "bad layer range"),
        (["--space", "z", "--layers", "0-0", "--k", "3"], "not z"),
        (["--pca-dims", "2", "--k", "3"], "--pca-dims"),
        (["--batch", "1", "--k", "3"], "'--batch'"),
    ],
)
def test_bad_input_clear_error_no_output(tmp_path, arguments, message):
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["find", "--model", "synthetic-shapes", "--steps", "2",
                                      "--out", str(out), "--quiet", *arguments])
    assert result.exit_code == 2  # usage errors, whether click or the model finds them
    assert message in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_non_empty_out_needs_overwrite(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    runner = CliRunner()
    base = ["find", "--model", "synthetic-shapes", "--method", "random", "--k", "2",
            "--out", str(out), "--quiet"]
    result = runner.invoke(cli, base)
    assert result.exit_code == 1 and "--overwrite" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    result = runner.invoke(cli, [*base, "--overwrite"])  # not a folder gandir wrote
    assert result.exit_code == 1 and "no .gandir-run manifest" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    (out / "keep.txt").unlink()
    assert runner.invoke(cli, base).exit_code == 0  # an empty folder is fine
    first = DirectionSet.load(out).directions
    result = runner.invoke(cli, [*base, "--seed", "1", "--overwrite"])  # gandir's: replaced
    assert result.exit_code == 0, result.output
    assert not np.allclose(DirectionSet.load(out).directions, first)
    result = runner.invoke(cli, ["find", "--model", "synthetic-shapes", "--resume", "--quiet"])
    assert result.exit_code == 1 and "--resume needs --out" in result.output


def test_python_api_errors(shapes):
    with pytest.raises(InvalidInputError, match="unknown method"):
        find_directions(shapes, method="nope")
    with pytest.raises(InvalidInputError, match="unknown option"):
        find_directions(shapes, method="random", k=2, gamma=3)
    with pytest.raises(InvalidInputError, match="SeFa"):
        find_directions(load_generator(DATA / "tiny64.pkl"), method="sefa", k=2, space="z")
