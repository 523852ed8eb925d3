"""``--overwrite`` replaces only a folder of the same command holding only what gandir wrote
there, as its manifest lists it."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from gan_directions.cli.main import cli

from gan_directions.fileio import atomic_write_text
from gan_directions.runs.layout import MARKER
from gan_directions.runs.manifest import (
    note_written,
    read_manifest,
    unlisted_entries,
    write_manifest,
)
from gan_directions.runs.output import UnsafeOutputError, check_output_dir

FIND = ["find", "--model", "synthetic-shapes", "--method", "random", "--k", "2", "--quiet",
        "--device", "cpu"]
RENDER = ["--seeds", "0", "--steps", "2", "--formats", "png", "--device", "cpu"]


def files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def rendered_run(tmp_path) -> Path:
    """A find run with its traversals and report."""
    run = tmp_path / "run"
    result = CliRunner().invoke(cli, [*FIND, "--out", str(run)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["render", str(run), *RENDER])
    assert result.exit_code == 0, result.output
    return run


def test_the_manifest_lists_every_file_the_commands_wrote(rendered_run):
    manifest = read_manifest(rendered_run)
    assert manifest.kind == "find"
    top = {p.name for p in rendered_run.iterdir() if p.is_file()} - {MARKER}
    assert top == set(manifest.files) and {"run.json", "index.html"} <= top
    traversals = read_manifest(rendered_run / "traversals")
    assert traversals.kind == "render" and "overview.png" in traversals.files
    assert unlisted_entries(rendered_run) == []
    result = CliRunner().invoke(cli, [*FIND, "--seed", "1", "--out", str(rendered_run),
                                      "--overwrite"])
    assert result.exit_code == 0, result.output
    assert not (rendered_run / "traversals").exists()  # the old run's renders went with it


def test_overwrite_refuses_a_folder_holding_a_file_the_user_added(rendered_run):
    (rendered_run / "precious.txt").write_text("mine")
    (rendered_run / "traversals" / "notes").mkdir()
    (rendered_run / "traversals" / "notes" / "todo.md").write_text("mine too")
    before = files_under(rendered_run)
    result = CliRunner().invoke(cli, [*FIND, "--out", str(rendered_run), "--overwrite"])
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "gandir did not write (precious.txt, traversals/notes/todo.md)" in result.output
    assert files_under(rendered_run) == before


def test_overwrite_refuses_the_output_of_another_command(rendered_run):
    before = files_under(rendered_run)
    result = CliRunner().invoke(cli, ["generate", "--model", "synthetic-shapes", "--seeds", "0",
                                      "--out", str(rendered_run), "--overwrite", "--quiet"])
    assert result.exit_code == 1
    assert "holds the output of `gandir find`, not of `gandir generate`" in result.output
    assert files_under(rendered_run) == before


def test_a_folder_of_an_older_gandir_is_not_replaced(tmp_path):
    out = tmp_path / "old"
    out.mkdir()
    (out / MARKER).write_text("Written by gandir 0.1.0. `--overwrite` may replace this folder.\n")
    (out / "run.json").write_text("{}")
    with pytest.raises(UnsafeOutputError, match="older gandir wrote it without a list"):
        check_output_dir(out, overwrite=True, kind="find")


def test_what_an_interrupted_command_leaves_is_gandirs(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    write_manifest(out, "find")
    atomic_write_text(out / "run.json", "{}")
    (out / ".traversals.gandir.lock").write_text("123\n")  # a killed render's lock
    (out / ".run.json.a1b2c3d4.tmp").write_text("{")  # a killed write's temporary file
    (out / ".traversals.a1b2c3d4.partial").mkdir()  # a killed render's stage, before its manifest
    assert unlisted_entries(out) == []
    assert check_output_dir(out, overwrite=True, kind="find") == out
    (out / "run.json.bak").write_text("{}")
    assert unlisted_entries(out) == [out / "run.json.bak"]


def test_writes_are_listed_in_the_nearest_manifest_once(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    write_manifest(out, "vae-train")
    for _ in range(2):
        atomic_write_text(out / "images" / "step1.png", "x")
    note_written(tmp_path / "elsewhere.txt")  # outside any output folder: nothing to list
    lines = (out / MARKER).read_text().splitlines()
    assert json.loads(lines[0])["kind"] == "vae-train" and lines[1:] == ["images/step1.png"]
    assert unlisted_entries(out) == []
