"""``--overwrite`` deletes only what gandir wrote; staged folders; stale ``.partial`` cleanup."""

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from gan_directions.cli.main import cli

from gan_directions.errors import GandirError
from gan_directions.runs.layout import MARKER
from gan_directions.runs.output import (
    UnsafeOutputError,
    check_output_dir,
    remove_stale_partials,
    staged_output_dir,
)

DATA = Path(__file__).parent / "data"


def tree_digest(root: Path) -> dict[str, str]:
    """Every file under ``root`` (hidden ones too) with the sha256 of its bytes."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """tmp/up/work holding a user's files, and tmp/home; cwd = work, HOME = home."""
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "up" / "work"
    work.mkdir(parents=True)
    (tmp_path / "up" / "sibling.txt").write_text("next to work")
    (home / "notes.txt").write_text("home file")
    (work / "precious.txt").write_text("mine")
    shutil.copy(DATA / "tiny64.pkl", work / "mine.pkl")
    (work / "held").mkdir()
    shutil.copy(DATA / "tiny64.pkl", work / "held" / "model.pkl")
    (work / "held" / MARKER).write_text("")  # even a gandir folder is kept when it holds input
    (work / "theirs").mkdir()
    (work / "theirs" / "data.csv").write_text("1,2\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    return tmp_path


@pytest.mark.parametrize("command", ["generate", "find", "render"])
@pytest.mark.parametrize(
    "out, reason",
    [(".", "current directory"), ("$PWD", "current directory"),
     ("..", "contains the current directory"), ("~", "home directory"),
     ("held", "an input of this command"), ("theirs", "not a folder gandir wrote")],
)
def test_overwrite_refuses_and_every_file_survives(scratch, command, out, reason):
    out = {"$PWD": os.getcwd(), "~": str(Path.home())}.get(out, out)
    model = "held/model.pkl" if out == "held" else "mine.pkl"
    if command == "render":
        run = scratch / "run"
        result = CliRunner().invoke(cli, ["find", "--model", "mine.pkl", "--method", "random",
                                          "--k", "2", "--out", str(run), "--quiet"])
        assert result.exit_code == 0, result.output
        args = ["render", str(run), "--model", model, "--seeds", "0", "--steps", "2",
                "--formats", "png", "--no-report"]
    elif command == "find":
        args = ["find", "--model", model, "--method", "random", "--k", "2", "--quiet"]
    else:
        args = ["generate", "--model", model, "--seeds", "0-1", "--quiet"]
    before = tree_digest(scratch)
    result = CliRunner().invoke(cli, [*args, "--out", out, "--overwrite"])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ")
    assert reason in result.output and "Traceback" not in result.output
    assert tree_digest(scratch) == before


def test_overwrite_replaces_a_gandir_folder(tmp_path):
    out = tmp_path / "out"
    base = ["generate", "--model", "synthetic-shapes", "--out", str(out), "--quiet"]
    assert CliRunner().invoke(cli, [*base, "--seeds", "0-2"]).exit_code == 0
    assert (out / MARKER).is_file()
    result = CliRunner().invoke(cli, [*base, "--seeds", "5", "--overwrite"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "grid.png", "run.json",
                                                     "seed0005.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no lock, no stage left


def test_check_output_dir_rules(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(UnsafeOutputError, match="not a folder"):
        check_output_dir(tmp_path / "file", overwrite=True, kind="find")
    (tmp_path / "link").symlink_to(tmp_path)
    with pytest.raises(UnsafeOutputError, match="symbolic link"):
        check_output_dir(tmp_path / "link", overwrite=True, kind="find")
    with pytest.raises(UnsafeOutputError, match="filesystem root|contains the current"):
        check_output_dir("/", overwrite=True, kind="find")
    (tmp_path / "empty").mkdir()
    assert check_output_dir(tmp_path / "empty", False, kind="find") == tmp_path / "empty"
    assert check_output_dir(tmp_path / "new", False, kind="find") == tmp_path / "new"


def test_staged_folder_is_all_or_nothing_and_stale_stages_go(tmp_path):
    out = tmp_path / "out"
    stale = tmp_path / ".out.ab12cd34.partial"  # what a killed command leaves
    stale.mkdir()
    (stale / "half.png").write_text("x")
    other = tmp_path / ".out2.ab12cd34.partial"  # another folder's stage: not ours to remove
    other.mkdir()
    with pytest.raises(RuntimeError), staged_output_dir(out, kind="test") as stage:
        (stage / "a.txt").write_text("a")
        raise RuntimeError("failed half-way")
    assert not out.exists() and not stale.exists() and other.exists()
    with staged_output_dir(out, kind="test") as stage:
        (stage / "a.txt").write_text("a")
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "a.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out2.ab12cd34.partial", "out"]
    assert remove_stale_partials(tmp_path / "out2") == [other]


def test_read_only_location_names_the_folder_not_the_stage(tmp_path, monkeypatch):
    def refuse(prefix, suffix, dir):  # what mkdtemp raises in a read-only folder
        raise PermissionError(13, "Permission denied", f"{dir}/{prefix}x1y2z3w4{suffix}")

    monkeypatch.setattr("gan_directions.runs.output.tempfile.mkdtemp", refuse)
    with pytest.raises(GandirError) as error, staged_output_dir(tmp_path / "out", kind="test"):
        pass
    assert str(error.value) == f"cannot write {tmp_path}: Permission denied"
