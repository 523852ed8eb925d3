"""``gandir vae train`` / ``gandir vae eval``: outputs, and one-line errors for bad input."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from gan_directions.cli.main import cli


def _invoke(*args):
    return CliRunner().invoke(cli, ["vae", *map(str, args)])


def _assert_one_line_error(result, fragment, exit_code=1):
    assert result.exit_code == exit_code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and fragment in lines[0]
    assert "Traceback" not in result.output


def _assert_usage_error(result, fragment):
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines()[-1].startswith("Error: ")
    assert fragment in result.stderr and "Traceback" not in result.output


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    result = _invoke("train", "--steps", 6, "--batch", 8, "--log-every", 3, "--out", out)
    assert result.exit_code == 0, result.output
    assert "trained 6 steps" in result.stdout
    return out


def test_train_writes_a_complete_run(trained):
    assert (trained / "checkpoint.safetensors").is_file()
    run = json.loads((trained / "run.json").read_text())
    assert run["kind"] == "vae-train" and run["step"] == 6 and run["settings"]["beta"] == 4.0
    assert (trained / "losses.csv").read_text().splitlines()[0].startswith("step,loss,recon")
    assert sorted(p.name for p in (trained / "images").iterdir()) == [
        "recon_0000006.png", "traversal_0000006.png"]


def test_resume_extends_the_run(trained, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(trained, copy)
    result = _invoke("train", "--resume", "--steps", 9, "--out", copy, "-q")
    assert result.exit_code == 0 and result.output == "", result.output
    assert json.loads((copy / "run.json").read_text())["step"] == 9


def test_eval_fast_writes_json(trained, tmp_path, monkeypatch):
    import gan_directions.vae.evaluate as evaluate

    tiny_rlt = {"n_points": 40, "n_values": 2, "n_landmarks": 10, "n_redraws": 2}
    monkeypatch.setattr(evaluate, "RLT_FAST", tiny_rlt)
    out = tmp_path / "scores.json"
    result = _invoke("eval", trained, "--fast", "--metrics", "mig", "--out", out)
    assert result.exit_code == 0, result.output
    saved = json.loads(out.read_text())
    assert saved["metrics"]["mode"] == "fast" and saved["step"] == 6
    assert 0 <= saved["metrics"]["mig"]["discrete_mig"] <= 1
    assert "sap" not in saved["metrics"]
    assert saved["rlt"]["space"] == "z" and len(saved["rlt"]["labels"]) == 10
    assert saved["rlt"]["settings"]["n_points"] == 40
    assert "mig" in result.stdout and "rlt_score" in result.stdout


def test_find_runs_on_the_vae_decoder(trained, tmp_path):
    out = tmp_path / "find"
    result = CliRunner().invoke(cli, ["find", "--model", f"vae:{trained}", "--method",
                                      "ganspace", "--k", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    run = json.loads((out / "run.json").read_text())
    assert run["model"]["spec"] == f"vae:{trained}" and run["k"] == 3
    assert run["model"]["path"] == str(trained.resolve())


@pytest.mark.slow
def test_eval_full_suite_fast_mode(trained, tmp_path):
    result = _invoke("eval", trained, "--fast", "--no-rlt", "--quiet", "--out",
                     tmp_path / "e.json")
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "e.json").read_text())
    for metric in ("beta_vae", "factor_vae", "mig", "sap", "dci", "modularity"):
        assert metric in saved["metrics"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--dataset", "dsprites-file", "--data-dir", "{tmp}"],
         "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"),
        (["--resume"], "VAE checkpoint not found"),
    ],
    ids=["missing-file", "no-checkpoint"],
)
def test_train_bad_input(tmp_path, args, fragment):
    out = tmp_path / "out"
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = _invoke("train", *args, "--steps", 2, "--out", out, "--quiet")
    _assert_one_line_error(result, fragment)
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "check"),
    [
        (["--dataset", "mnist"], lambda r: _assert_one_line_error(r, "unknown dataset 'mnist'", 2)),
        (["--beta", "-1"], lambda r: _assert_usage_error(r, "'--beta'")),
        (["--topdis", "-0.5"], lambda r: _assert_usage_error(r, "'--topdis'")),
    ],
    ids=["unknown-dataset", "negative-beta", "negative-topdis"],
)
def test_train_bad_values_are_usage_errors(tmp_path, args, check):
    out = tmp_path / "out"
    check(_invoke("train", *args, "--steps", 2, "--out", out, "--quiet"))
    assert not out.exists()


def test_eval_corrupt_and_missing_checkpoint(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 64)
    _assert_one_line_error(_invoke("eval", bad), "cannot read VAE checkpoint")
    _assert_one_line_error(_invoke("eval", tmp_path / "none"), "VAE checkpoint not found")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.safetensors"]


def test_help_explains_options():
    result = _invoke("train", "--help")
    assert result.exit_code == 0
    for option in ("--topdis-delay", "--orthogonalize", "--gmg", "--resume", "--overwrite"):
        assert option in result.output
