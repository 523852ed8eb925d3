"""A full disk or a read-only folder: one line naming the file, no lock, no temporary file, and
a command that cannot write fails before its work.

Storage errors are simulated by patching the call that meets them (tests may run as root,
which writes into a folder whatever its mode bits say).
"""

import errno
import os
import tempfile
from functools import partial
from pathlib import Path

import pytest
from click.testing import CliRunner
from gan_directions.cli.main import cli

from gan_directions.fileio import WriteError, atomic_write_text, check_writable
from gan_directions.runs.lock import folder_lock, lock_path

FIND = ["find", "--model", "synthetic-shapes", "--method", "vb", "--steps", "2", "--batch", "8",
        "--pca-samples", "64", "--checkpoint-every", "1", "--device", "cpu", "--quiet"]
RANDOM_RUN = ["find", "--model", "synthetic-shapes", "--method", "random", "--k", "2", "--quiet",
              "--device", "cpu"]
NO_SPACE = os.strerror(errno.ENOSPC)
READ_ONLY = os.strerror(errno.EROFS)


def every_path(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


def fail_replacing(monkeypatch, name: str, code: int = errno.ENOSPC) -> None:
    """``os.replace`` into a file called ``name`` fails with ``code``, as on a full disk."""
    replace = os.replace

    def failing(src, dst, *args, **kwargs):
        if Path(dst).name == name:
            raise OSError(code, os.strerror(code))
        return replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", failing)


def test_a_failed_write_names_the_file_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    fail_replacing(monkeypatch, "notes.txt")
    with pytest.raises(WriteError) as error:
        atomic_write_text(tmp_path / "notes.txt", "x")
    assert str(error.value) == f"cannot write {tmp_path / 'notes.txt'}: {NO_SPACE}"
    assert every_path(tmp_path) == []


def test_a_full_disk_while_saving_a_checkpoint_is_one_line(tmp_path, monkeypatch):
    fail_replacing(monkeypatch, "checkpoint.pt")
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, [*FIND, "--out", str(out)])
    assert result.exit_code == 1
    assert result.output == f"Error: cannot write {out / 'checkpoint.pt'}: {NO_SPACE}\n"
    assert every_path(tmp_path) == []  # no run folder, stage, lock or temporary file


def test_a_full_disk_while_rendering_names_the_file_in_its_place(tmp_path, monkeypatch):
    run = tmp_path / "run"
    assert CliRunner().invoke(cli, [*RANDOM_RUN, "--out", str(run)]).exit_code == 0
    before = every_path(tmp_path)
    fail_replacing(monkeypatch, "d01_grid.png")
    result = CliRunner().invoke(cli, ["render", str(run), "--seeds", "0", "--steps", "2",
                                      "--formats", "png", "--no-report", "--device", "cpu"])
    assert result.exit_code == 1
    expected = run / "traversals" / "d01_grid.png"
    assert result.output.strip().splitlines()[-1] == f"Error: cannot write {expected}: {NO_SPACE}"
    assert every_path(tmp_path) == before  # no lock, no stage, no temporary file


def test_a_full_disk_while_taking_a_lock_leaves_no_lock_file(tmp_path, monkeypatch):
    def no_space(*args):
        raise OSError(errno.ENOSPC, NO_SPACE)

    monkeypatch.setattr(os, "pwrite", no_space)
    with pytest.raises(WriteError, match=f"cannot write .*gandir.lock: {NO_SPACE}"), \
            folder_lock(tmp_path / "a" / "out"):
        pass
    assert not lock_path(tmp_path / "a" / "out").exists()
    assert every_path(tmp_path) == []  # the parent it made is gone too


def read_only(monkeypatch, folder: Path) -> None:
    """Creating a file or folder in ``folder`` fails as on a read-only filesystem."""
    for name in ("TemporaryFile", "mkstemp", "mkdtemp"):
        monkeypatch.setattr(tempfile, name, partial(_refuse_in, folder, getattr(tempfile, name)))


def _refuse_in(folder, create, *args, dir=None, **kwargs):
    if dir is not None and Path(dir).resolve() == folder.resolve():
        raise OSError(errno.EROFS, READ_ONLY)
    return create(*args, dir=dir, **kwargs)


def test_check_writable_names_the_nearest_existing_folder(tmp_path, monkeypatch):
    read_only(monkeypatch, tmp_path)
    with pytest.raises(WriteError, match=f"cannot write {tmp_path}: {READ_ONLY}"):
        check_writable(tmp_path / "new" / "deeper")
    check_writable(Path(tempfile.gettempdir()))


def test_score_of_a_read_only_run_folder_fails_before_the_work(tmp_path, monkeypatch):
    run = tmp_path / "run"
    assert CliRunner().invoke(cli, [*RANDOM_RUN, "--out", str(run)]).exit_code == 0
    before = every_path(tmp_path)
    read_only(monkeypatch, run)

    def no_work(*args, **kwargs):
        raise AssertionError("scored a run it cannot write")

    monkeypatch.setattr("gan_directions.scoring.score_directions", no_work)
    result = CliRunner().invoke(cli, ["score", str(run), "--device", "cpu"])
    assert result.exit_code == 1
    assert result.output == f"Error: cannot write {run}: {READ_ONLY}\n"
    assert every_path(tmp_path) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a folder whatever its mode")
def test_score_of_a_folder_without_write_permission_fails_before_the_work(tmp_path):
    run = tmp_path / "run"
    assert CliRunner().invoke(cli, [*RANDOM_RUN, "--out", str(run)]).exit_code == 0
    run.chmod(0o555)
    try:
        result = CliRunner().invoke(cli, ["score", str(run), "--device", "cpu"])
    finally:
        run.chmod(0o755)
    assert result.exit_code == 1
    assert result.output == f"Error: cannot write {run}: {os.strerror(errno.EACCES)}\n"


def test_generate_into_a_read_only_place_fails_before_loading_the_model(tmp_path, monkeypatch):
    read_only(monkeypatch, tmp_path)

    def no_load(*args, **kwargs):
        raise AssertionError("loaded a model it cannot write the images of")

    monkeypatch.setattr("gan_directions.generators.registry.load_generator", no_load)
    result = CliRunner().invoke(cli, ["generate", "--model", "synthetic-shapes", "--seeds", "0",
                                      "--out", str(tmp_path / "images"), "--quiet"])
    assert result.exit_code == 1
    assert result.output == f"Error: cannot write {tmp_path}: {READ_ONLY}\n"
    assert every_path(tmp_path) == []
