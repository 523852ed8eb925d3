"""Output folders: where gandir may write, what ``--overwrite`` may delete, staged writes.

Every folder gandir creates holds a marker file (``layout.MARKER``). ``--overwrite`` replaces
an existing folder only when it holds that marker, or is empty, and never when it is the
current directory or one of its parents, the home directory or one of its parents, a
filesystem root or mount point, a symbolic link, or a folder holding an input of the same
command. Anything else is refused with one line that says why, before any work starts.

A new folder is staged beside its place (``.NAME.XXXXXXXX.partial``) and renamed into place
only when complete, under the folder's lock (``runs.lock``); stale staging folders of killed
commands are removed on the next write to the same place.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from gan_directions import __version__
from gan_directions.errors import GandirError
from gan_directions.fileio import umask
from gan_directions.runs.layout import MARKER, PARTIAL_SUFFIX
from gan_directions.runs.lock import folder_lock

MARKER_TEXT = "Written by gandir {version}. `--overwrite` may replace this folder.\n"


class UnsafeOutputError(GandirError):
    """An output location gandir refuses to write or to replace."""


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _location_problem(resolved: Path) -> str | None:
    """Why ``resolved`` can never be replaced as an output folder (None if it can)."""
    cwd = Path.cwd().resolve()
    home = Path.home().resolve()
    if resolved == cwd:
        return "it is the current directory"
    if resolved == home:
        return "it is the home directory"
    if resolved in cwd.parents:
        return "it contains the current directory"
    if resolved in home.parents:
        return "it contains the home directory"
    if resolved.parent == resolved or os.path.ismount(resolved):
        return "it is a filesystem root or mount point"
    return None


def mark_output(folder: str | os.PathLike) -> None:
    """Write the marker that makes ``folder`` a gandir output folder."""
    (Path(folder) / MARKER).write_text(MARKER_TEXT.format(version=__version__), encoding="utf-8")


def is_gandir_output(folder: str | os.PathLike) -> bool:
    return (Path(folder) / MARKER).is_file()


def check_output_dir(out: str | os.PathLike, overwrite: bool,
                     inputs: Iterable[str | os.PathLike | None] = ()) -> Path:
    """Refuse an output folder gandir must not write or replace; returns ``out`` as a Path.

    A non-empty ``out`` needs ``overwrite``, and then must be a gandir output folder that
    holds none of ``inputs`` (the files and folders the command reads).
    """
    out = Path(out).expanduser()
    if out.is_symlink():
        raise UnsafeOutputError(f"{out} is a symbolic link; give the folder it points to, or "
                                f"another --out")
    if not out.exists():
        return out
    if not out.is_dir():
        raise UnsafeOutputError(f"output path {out} exists and is not a folder")
    resolved = out.resolve()
    problem = _location_problem(resolved)
    if problem:
        raise UnsafeOutputError(f"will not write into {out}: {problem}; choose a new folder "
                                f"for --out")
    if not any(resolved.iterdir()):
        return out
    if not overwrite:
        raise UnsafeOutputError(f"output folder {out} is not empty; pass --overwrite to "
                                f"replace it")
    for item in inputs:
        if item is not None and _is_within(Path(item).expanduser().resolve(), resolved):
            raise UnsafeOutputError(f"--overwrite will not delete {out}: it holds {item}, an "
                                    f"input of this command")
    if not is_gandir_output(resolved):
        raise UnsafeOutputError(
            f"--overwrite will not delete {out}: it is not a folder gandir wrote (no {MARKER} "
            f"marker); move or delete it yourself, or choose another --out"
        )
    return out


def _stale_pattern(out: Path) -> re.Pattern:
    return re.compile(rf"\.{re.escape(out.name)}\.[A-Za-z0-9_]{{8}}{re.escape(PARTIAL_SUFFIX)}")


def remove_stale_partials(out: str | os.PathLike) -> list[Path]:
    """Remove staging folders of ``out`` left by killed commands (call under ``out``'s lock)."""
    out = Path(out)
    if not out.parent.is_dir():
        return []
    pattern = _stale_pattern(out)
    removed = []
    for entry in out.parent.iterdir():
        if pattern.fullmatch(entry.name) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _mkdtemp(out: Path) -> Path:
    try:
        return Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=PARTIAL_SUFFIX,
                                     dir=out.parent))
    except OSError as error:
        raise GandirError(f"cannot write to {out.parent}: {error.strerror}") from None


@contextlib.contextmanager
def staged_output_dir(out: str | os.PathLike, overwrite: bool = False,
                      inputs: Iterable[str | os.PathLike | None] = ()) -> Iterator[Path]:
    """Yield a staging folder (with the marker) that becomes ``out`` only when the block succeeds.

    The whole block runs under ``out``'s lock. On any error the staging folder is removed and
    ``out`` is left as it was; a replaced ``out`` is moved aside before the new one takes its
    place, so one of the two always exists.
    """
    out = check_output_dir(out, overwrite, inputs)  # a clear refusal before the lock...
    with folder_lock(out):
        check_output_dir(out, overwrite, inputs)  # ...and the state under it
        remove_stale_partials(out)
        stage = _mkdtemp(out)
        try:
            mark_output(stage)
            yield stage
            _move_into_place(stage, out, overwrite, inputs)
        finally:
            if stage.exists():
                shutil.rmtree(stage, ignore_errors=True)


def _move_into_place(stage: Path, out: Path, overwrite: bool, inputs) -> None:
    try:
        os.chmod(stage, 0o777 & ~umask())
        if out.exists():
            check_output_dir(out, overwrite, inputs)  # it may have changed meanwhile
            old = _mkdtemp(out)
            os.replace(out, old)
            os.replace(stage, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(stage, out)
    except OSError as error:
        raise GandirError(f"cannot write {out}: {error.strerror}") from None
