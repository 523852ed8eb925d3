"""`gandir score RUN_DIR` on the built-in synthetic-shapes model."""

import json

import numpy as np
from click.testing import CliRunner
from gan_directions.cli.main import cli

from gan_directions.directions import DirectionSet
from gan_directions.generators.registry import load_generator
from gan_directions.runs.record import new_record, read_record, write_record

FAST = ["--points", "60", "--values", "2", "--landmarks", "16", "--redraws", "3",
        "--gamma", "0.125", "--embedding", "pixels", "--workers", "1"]


def _run_dir(tmp_path, model="synthetic-shapes"):
    truth = load_generator("synthetic-shapes").true_directions()
    DirectionSet(truth[[4, 3, 0]], space="z", names=["hue", "rotation", "x"]).save(
        tmp_path / "directions.npz"
    )
    if model:
        write_record(tmp_path, new_record(
            "find", {"spec": model, "path": None, "sha256": None}, {}, method="random",
            space="z", layers=None, k=3, seed=0, truncation_psi=1.0, scales=[1.0, 1.0, 1.0]))
    return tmp_path


def test_score_writes_scores_and_plots(tmp_path):
    run = _run_dir(tmp_path)
    result = CliRunner().invoke(cli, ["score", str(run), "--mode", "corrected", *FAST])
    assert result.exit_code == 0, result.output
    assert "score" in result.output and "supervised" in result.output
    scores = json.loads((run / "scores.json").read_text())
    assert scores["mode"] == "corrected" and scores["model"] == "synthetic-shapes"
    assert scores["labels"] == ["hue", "rotation", "x"]
    assert np.asarray(scores["distance"]).shape == (3, 3)
    assert scores["supervised"]["factors"][4] == "hue"
    assert (run / "similarity.png").is_file()
    stage = read_record(run)["stages"]["score"]
    assert stage["score"] == scores["score"] and stage["mode"] == "corrected"
    assert stage["supervised_score"] == scores["supervised"]["score"]
    assert sorted(p.name for p in run.glob("wrlt_*.png")) == [
        "wrlt_00_hue.png", "wrlt_01_rotation.png", "wrlt_02_x.png"
    ]


def test_model_option_and_errors(tmp_path):
    runner = CliRunner()
    run = _run_dir(tmp_path, model=None)
    missing_model = runner.invoke(cli, ["score", str(run), *FAST])
    assert missing_model.exit_code == 1
    assert "pass --model" in missing_model.output and "Traceback" not in missing_model.output
    assert not (run / "scores.json").exists()
    ok = runner.invoke(cli, ["score", str(run), "--model", "synthetic-shapes",
                             "--no-supervised", *FAST])
    assert ok.exit_code == 0, ok.output
    assert "supervised" not in json.loads((run / "scores.json").read_text())
    missing = runner.invoke(cli, ["score", str(tmp_path / "nope"), *FAST])
    assert missing.exit_code == 1 and "not found" in missing.output
    too_few = runner.invoke(cli, ["score", str(run), "--model", "synthetic-shapes",
                                  *FAST, "--points", "8"])
    assert too_few.exit_code == 2 and "n_landmarks" in too_few.output
    bad_mode = runner.invoke(cli, ["score", str(run), "--mode", "fast"])
    assert bad_mode.exit_code == 2
    (run / "run.json").write_text(json.dumps({"model": "synthetic-shapes"}))
    foreign = runner.invoke(cli, ["score", str(run), *FAST])
    assert foreign.exit_code == 1 and "Traceback" not in foreign.output
    assert "not a run record" in foreign.output and "--overwrite" in foreign.output


def test_out_writes_the_scores_elsewhere_and_leaves_the_run_as_it_is(tmp_path):
    run = _run_dir(tmp_path / "run")
    before = sorted(p.name for p in run.iterdir())
    out = tmp_path / "scores"
    result = CliRunner().invoke(cli, ["score", str(run), "-o", str(out), "-q", *FAST])
    assert result.exit_code == 0 and result.output == "", result.output
    assert json.loads((out / "scores.json").read_text())["labels"] == ["hue", "rotation", "x"]
    assert (out / "similarity.png").is_file()
    assert sorted(p.name for p in run.iterdir()) == before
    assert "score" not in read_record(run)["stages"]
    again = CliRunner().invoke(cli, ["score", str(run), "-o", str(out), *FAST])
    assert again.exit_code == 1 and "--overwrite" in again.output
    replaced = CliRunner().invoke(cli, ["score", str(run), "-o", str(out), "--overwrite", *FAST])
    assert replaced.exit_code == 0, replaced.output
