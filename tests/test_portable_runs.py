"""A run folder records its model by absolute path and sha256: render and score work from any
working directory, and ``--model`` overrides the recorded model."""

import shutil
from pathlib import Path

from click.testing import CliRunner
from gan_directions.cli.main import cli

from gan_directions.runs.record import read_record

DATA = Path(__file__).parent / "data"
RENDER = ["--seeds", "0", "--steps", "2", "--formats", "png", "--device", "cpu"]
SCORE = ["--points", "60", "--landmarks", "10", "--values", "2", "--redraws", "2",
         "--i-max", "5", "--workers", "1", "--embedding", "pixels", "--device", "cpu",
         "--quiet"]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_relative_model_path_then_render_and_score_elsewhere(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shutil.copy(DATA / "tiny64.pkl", tmp_path / "a" / "mine.pkl")
    monkeypatch.chdir(tmp_path / "a")
    result = invoke("find", "--model", "mine.pkl", "--method", "random", "--k", "2",
                    "--out", "../run", "--quiet", "--threads", "1")
    assert result.exit_code == 0, result.output
    model = read_record(tmp_path / "run")["model"]
    assert model["path"] == str(tmp_path / "a" / "mine.pkl") and len(model["sha256"]) == 64

    monkeypatch.chdir(tmp_path / "b")
    result = invoke("render", "../run", *RENDER)
    assert result.exit_code == 0, result.output
    result = invoke("score", "../run", *SCORE)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "scores.json").is_file()

    moved = tmp_path / "b" / "moved.pkl"
    (tmp_path / "a" / "mine.pkl").rename(moved)
    result = invoke("render", "../run", *RENDER, "--overwrite")
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "pass --model" in result.output
    result = invoke("render", "../run", *RENDER, "--overwrite", "--model", "moved.pkl")
    assert result.exit_code == 0, result.output
