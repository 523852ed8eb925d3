"""Sweep files are validated before any work: TOML errors, unknown keys and bad values."""

import textwrap

import pytest
from click.testing import CliRunner
from gan_directions.cli.main import cli

from gan_directions.batch import SweepError, load_sweep

BASE = """
[defaults]
model = "synthetic-shapes"
steps = 4
grid = {seed = [0, 1]}

[[runs]]
method = "ganspace"
grid = {k = [2, 3]}

[[runs]]
name = "vb-short"
method = "vb"
score = {n_points = 40}
"""


def write(tmp_path, text):
    path = tmp_path / "sweep.toml"
    path.write_text(textwrap.dedent(text))
    return path


def test_grids_expand_and_names_are_stable(tmp_path):
    runs, text = load_sweep(write(tmp_path, BASE))
    assert text is not None and len(runs) == 6
    assert [run.grid for run in runs[:4]] == [{"seed": 0, "k": 2}, {"seed": 0, "k": 3},
                                              {"seed": 1, "k": 2}, {"seed": 1, "k": 3}]
    assert runs[0].settings == {"model": "synthetic-shapes", "steps": 4, "method": "ganspace",
                                "seed": 0, "k": 2}
    assert runs[4].label == "vb-short" and runs[4].settings["score"] == {"n_points": 40}
    assert runs[0].name.startswith("ganspace-seed0-k2-")
    assert [run.name for run in load_sweep(write(tmp_path, BASE))[0]] == [r.name for r in runs]
    vae, _ = load_sweep({"runs": [{"kind": "vae", "steps": 5, "eval": {"fast": True}}]})
    assert vae[0].kind == "vae" and vae[0].label == "vae"


@pytest.mark.parametrize("change, line, message", [
    (("[[runs]]\nmethod", "[[runs]\nmethod"), 7, "invalid TOML"),
    (('method = "vb"', 'methd = "vb"'), 13, "runs[1].methd: unknown key for a find run "
                                            "(did you mean 'method'?)"),
    (('method = "vb"', 'method = "pca"'), 13, "runs[1].method: bad value 'pca'"),
    (("steps = 4", 'steps = "4"'), 4, "defaults.steps: expected an integer, got '4'"),
    (("steps = 4", "steps = -1"), 4, "defaults.steps: bad value -1: steps must be >= 0"),
    (("grid = {k = [2, 3]}", "grid = {k = []}"), 9, "runs[0].grid.k: must be a non-empty"),
    (("grid = {k = [2, 3]}", "grid = {kk = [2]}"), 9, "runs[0].grid.kk: unknown key"),
    (("score = {n_points = 40}", "score = {points = 40}"), 14, "runs[1].score.points: "
                                                              "unknown setting"),
    (('model = "synthetic-shapes"', 'model = "synthetic-shape"'), 3,
     "defaults.model: bad value 'synthetic-shape': unknown model name (did you mean "
     "'synthetic-shapes'?)"),
])
def test_problems_name_file_line_and_key(tmp_path, change, line, message):
    path = write(tmp_path, BASE.replace(*change))
    with pytest.raises(SweepError) as caught:
        load_sweep(path)
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert message in str(caught.value)


def test_cli_fails_before_any_work(tmp_path):
    path = write(tmp_path, BASE.replace('method = "vb"', 'methd = "vb"'))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["batch", str(path), "--out", str(out)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.startswith(f"Error: {path}:13: runs[1].methd: unknown key")
    assert not out.exists()
