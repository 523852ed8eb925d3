"""The HTML report and ``gandir render``: links resolve, scores show, errors are one line."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest
from click.testing import CliRunner
from gan_directions.cli.main import cli
from PIL import Image

from gan_directions.directions import DirectionSet
from gan_directions.errors import GandirError
from gan_directions.generators.registry import load_generator
from gan_directions.render import write_report
from gan_directions.render.report import _score_columns
from gan_directions.runs.folder import history_table
from gan_directions.runs.record import new_record, write_record

K = 3


def make_run(folder: Path, model: str = "synthetic-shapes") -> Path:
    """A run folder as ``gandir find`` leaves it, plus a score command's files."""
    folder.mkdir(parents=True)
    generator = load_generator("synthetic-shapes")
    DirectionSet(generator.true_directions()[:K], space="z", names=["x", "y", "scale"]).save(
        folder / "directions.npz"
    )
    run = new_record(
        "find", {"spec": model, "path": None, "sha256": None}, {"steps": 40, "lr": 0.01},
        method="topdis", space="z", layers=None, k=K, seed=0, truncation_psi=1.0,
        scales=[1.0] * K, recovery={"mean_abs_cos": 0.97},
        loss_history=[{"step": step, "loss": loss} for step, loss in ((1, 3.0), (2, 2.0),
                                                                      (3, 1.0))],
    )
    write_record(folder, run)
    with open(folder / "losses.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["step", "loss", "rtd"])
        writer.writerows([i, 1 / (i + 1), 0.5 + 0.01 * i] for i in range(40))
    scores = {
        "mode": "corrected",
        "embedding": "pixels",
        "seed": 0,
        "per_direction": [{"index": i, "rlt": 0.1 * (i + 1)} for i in range(K)],
        "similarity": np.eye(K).tolist(),
        "mean_rlt": 0.2,
    }
    (folder / "scores.json").write_text(json.dumps(scores))
    Image.new("RGB", (60, 60), (40, 90, 200)).save(folder / "similarity.png")
    Image.new("RGB", (60, 30), (200, 90, 40)).save(folder / "preview.png")
    return folder


def linked_files(report: Path) -> list[str]:
    page = report.read_text()
    return [unquote(m) for m in re.findall(r'(?:href|src)="([^"#][^"]*)"', page)]


def assert_links_resolve(report: Path) -> list[str]:
    links = linked_files(report)
    assert links, "the report links nothing"
    for link in links:
        assert not link.startswith(("/", "http:", "https:", "file:")), link
        assert (report.parent / link).is_file(), f"broken link {link}"
    return links


@pytest.fixture(scope="module")
def rendered_run(tmp_path_factory):
    run = make_run(tmp_path_factory.mktemp("runs") / "shapes-topdis")
    result = CliRunner().invoke(
        cli, ["render", str(run), "--steps", "3", "--seeds", "0-1"]
    )
    assert result.exit_code == 0, result.output
    return run, result


def test_cli_renders_run_and_report(rendered_run):
    run, result = rendered_run
    assert "Rendered 3 directions × 2 seeds × 3 steps" in result.output
    report = run / "index.html"
    links = assert_links_resolve(report)
    for name in (
        "traversals/d00.gif",
        "traversals/d02_grid.png",
        "traversals/all.gif",
        "traversals/overview.png",
        "traversals/d01.mp4",
        "losses.png",
        "similarity.png",
        "preview.png",
        "run.json",
    ):
        assert name in links, name
    page = report.read_text()
    assert "<script" not in page and "http" not in page.replace("http-equiv", "")
    assert "Recovery of the known factors" in page and "mean_abs_cos" in page
    assert "per_direction.rlt" in page and "0.3" in page  # a per-direction score column
    assert "corrected" in page and "2: scale" in page


def test_cli_errors_are_one_line(rendered_run, tmp_path):
    run, _ = rendered_run
    runner = CliRunner()

    def fails(*args, code=1):  # 2: a usage error
        result = runner.invoke(cli, ["render", *map(str, args), "--quiet"])
        assert result.exit_code == code, result.output
        assert result.output.strip().splitlines()[-1].startswith("Error: ")
        assert "Traceback" not in result.output
        return result.output

    assert "--overwrite" in fails(run)
    assert "no run folder or directions file" in fails(tmp_path / "nothing")
    assert "directions file not found" in fails(tmp_path / "missing.npz")
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"garbage")
    assert "cannot read directions file" in fails(corrupt, "--model", "synthetic-shapes")
    out = tmp_path / "mismatch"
    assert "does not match" in fails(run, "--model", "synthetic-shapes-null", "--out", out,
                                     code=2)
    assert not out.exists()
    assert "--formats" in fails(run, "--formats", "png,avi", "--out", out, code=2)
    assert "--directions" in fails(run, "--directions", "a-b", "--out", out, code=2)
    bare = tmp_path / "bare.npz"
    shutil.copy(run / "directions.npz", bare)
    assert "pass --model" in fails(bare)


def test_cli_bare_npz_with_names(tmp_path):
    bare = tmp_path / "sefa.npz"
    DirectionSet(load_generator("synthetic-shapes").true_directions()[:2], space="z").save(bare)
    (tmp_path / "names.toml").write_text('names = ["left-right", "up-down"]\n')
    result = CliRunner().invoke(
        cli,
        [
            "render",
            str(bare),
            "--model",
            "synthetic-shapes",
            "--names",
            str(tmp_path / "names.toml"),
            "--formats",
            "png",
            "--steps",
            "2",
            "--seeds",
            "0",
            "--directions",
            "1",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "sefa_render"
    manifest = json.loads((out / "render.json").read_text())
    assert [d["label"] for d in manifest["directions"]] == ["1: up-down"]
    assert_links_resolve(out / "index.html")


def test_report_survives_bad_parts(tmp_path):
    run = make_run(tmp_path / "run")
    (run / "scores.json").write_text("{not json")
    (run / "losses.csv").write_text("step,loss\n0,abc\n")  # nothing numeric: use loss_history
    report = write_report(run)
    page = report.read_text()
    assert "scores.json could not be read" in page
    assert (run / "losses.png").is_file() and "from <a" in page
    assert_links_resolve(report)
    (run / "images").mkdir()
    for step in range(20):
        Image.new("L", (8, 8), step * 10).save(run / "images" / f"recon_{step:03d}.png")
    page = write_report(run).read_text()
    assert "images/recon_019.png" in page and "images/recon_007.png" not in page
    assert "images/ holds 20 images; the last 12 are shown" in page
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "holds no run files" in write_report(empty).read_text()
    with pytest.raises(GandirError, match="not found"):
        write_report(tmp_path / "absent")


def test_score_columns_are_read_defensively():
    summary, columns = _score_columns(
        {
            "mode": "paper",
            "rlt": [0.1, 0.2],
            "by_index": {"0": 1.0, "1": 2.0},
            "nested": {"mean": 0.5, "matrix": [[1, 0], [0, 1]]},
            "long": list(range(30)),
        },
        k=2,
    )
    assert ("mode", "paper") in summary and ("nested.mean", "0.5") in summary
    assert columns == {"rlt": [0.1, 0.2], "by_index": [1.0, 2.0]}
    assert _score_columns({"rlt": [1, 2, 3]}, k=2) == ([("rlt", "1, 2, 3")], {})
    assert history_table([{"step": 1, "loss": 1}, {"step": 2, "loss": 0.5}])["loss"].tolist() == [
        1, 0.5]


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.mark.browser
@pytest.mark.skipif(_chromium() is None, reason="headless Chromium is not installed")
def test_report_in_headless_chromium(rendered_run, tmp_path):
    run, _ = rendered_run
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--hide-scrollbars",
            "--window-size=1200,1600",
            f"--screenshot={shot}",
            (run / "index.html").as_uri(),
        ],
        check=True,
        timeout=90,
        capture_output=True,
    )
    with Image.open(shot) as image:
        assert image.size == (1200, 1600)
        pixels = np.asarray(image.convert("RGB")).astype(int)
    header = pixels[:40].reshape(-1, 3).mean(axis=0)
    assert header[2] > header[0] + 20  # the dark blue header was styled
    saturated = np.abs(pixels - pixels.mean(axis=2, keepdims=True)).max(axis=2) > 60
    assert saturated[200:].mean() > 0.003  # coloured traversal images were loaded and drawn
