"""Output folders: where gandir may write, what ``--overwrite`` may delete, staged writes.

Every folder gandir creates holds a manifest (``runs.manifest``) naming the command that made
it and listing the files gandir wrote there. ``--overwrite`` replaces an existing folder only
when it is empty, or holds a manifest of the same command and nothing that the manifests do
not list (a file the user added, the output of another command), and never when it is the
current directory or one of its parents, the home directory or one of its parents, a
filesystem root or mount point, a symbolic link, or a folder holding an input of the same
command. Anything else is refused with one line that says why, before any work starts; so is a
folder whose place cannot be written.

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

from gan_directions.errors import GandirError
from gan_directions.fileio import WriteError, check_writable, storage_errors_name, umask
from gan_directions.runs.layout import MARKER, PARTIAL_SUFFIX
from gan_directions.runs.lock import folder_lock
from gan_directions.runs.manifest import read_manifest, unlisted_entries, write_manifest

SHOWN_ENTRIES = 5  # a refusal names this many unlisted files, then counts the rest


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


def mark_output(folder: str | os.PathLike, *, kind: str) -> None:
    """Make ``folder`` an output folder of the command ``kind`` (``find``, ``generate``...)."""
    write_manifest(folder, kind)


def is_gandir_output(folder: str | os.PathLike) -> bool:
    return (Path(folder) / MARKER).is_file()


def command_name(kind: str) -> str:
    """``gandir vae train`` for the kind ``vae-train``."""
    return "gandir " + kind.replace("-", " ")


def check_output_dir(out: str | os.PathLike, overwrite: bool,
                     inputs: Iterable[str | os.PathLike | None] = (), *, kind: str) -> Path:
    """Refuse an output folder the command ``kind`` must not write or replace; returns ``out``
    as a Path.

    The place of ``out`` must be writable. A non-empty ``out`` needs ``overwrite``, and then
    must be an output folder of the same command that holds nothing gandir did not write and
    none of ``inputs`` (the files and folders the command reads).
    """
    out = Path(out).expanduser()
    if out.is_symlink():
        raise UnsafeOutputError(f"{out} is a symbolic link; give the folder it points to, or "
                                f"another --out")
    check_writable(out.absolute().parent)
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
    _check_replaceable(out, resolved, kind)
    return out


def _check_replaceable(out: Path, resolved: Path, kind: str) -> None:
    """Refuse to replace ``out`` unless it is a folder of ``kind`` holding only gandir's files."""
    manifest = read_manifest(resolved)
    if manifest is None:
        raise UnsafeOutputError(
            f"--overwrite will not delete {out}: it is not a folder gandir wrote (no {MARKER} "
            f"manifest); move or delete it yourself, or choose another --out"
        )
    if manifest.kind is None:
        raise UnsafeOutputError(
            f"--overwrite will not delete {out}: an older gandir wrote it without a list of "
            f"its files; move or delete it yourself, or choose another --out"
        )
    if manifest.kind != kind:
        raise UnsafeOutputError(
            f"--overwrite will not replace {out}: it holds the output of "
            f"`{command_name(manifest.kind)}`, not of `{command_name(kind)}`; choose another "
            f"--out"
        )
    unlisted = unlisted_entries(resolved)
    if unlisted:
        names = [path.relative_to(resolved).as_posix() for path in unlisted[:SHOWN_ENTRIES]]
        more = len(unlisted) - len(names)
        listing = ", ".join(names) + (f" and {more} more" if more else "")
        raise UnsafeOutputError(
            f"--overwrite will not delete {out}: it holds files gandir did not write "
            f"({listing}); move them out, or choose another --out"
        )


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
    with storage_errors_name(out.parent):
        return Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=PARTIAL_SUFFIX,
                                     dir=out.parent))


@contextlib.contextmanager
def staged_output_dir(out: str | os.PathLike, overwrite: bool = False,
                      inputs: Iterable[str | os.PathLike | None] = (), *,
                      kind: str) -> Iterator[Path]:
    """Yield a staging folder (with the manifest of ``kind``) that becomes ``out`` only when
    the block succeeds.

    The whole block runs under ``out``'s lock. On any error the staging folder is removed and
    ``out`` is left as it was; a replaced ``out`` is moved aside before the new one takes its
    place, so one of the two always exists.
    """
    out = check_output_dir(out, overwrite, inputs, kind=kind)  # a refusal before the lock...
    with folder_lock(out):
        check_output_dir(out, overwrite, inputs, kind=kind)  # ...and the state under it
        remove_stale_partials(out)
        stage = _mkdtemp(out)
        try:
            mark_output(stage, kind=kind)
            yield stage
            _move_into_place(stage, out, lambda: check_output_dir(out, overwrite, inputs,
                                                                  kind=kind))
        except WriteError as error:  # name the file in its place, not in the stage
            raise WriteError(_in_place(error.path, stage, out), error.reason) from None
        finally:
            if stage.exists():
                shutil.rmtree(stage, ignore_errors=True)


def _in_place(path: Path, stage: Path, out: Path) -> Path:
    """Where ``path``, written into ``stage``, goes once ``stage`` becomes ``out``."""
    return out / path.relative_to(stage) if path.is_relative_to(stage) else path


def _move_into_place(stage: Path, out: Path, recheck) -> None:
    """Rename ``stage`` to ``out``; an existing ``out`` is first ``recheck``-ed (it may have
    changed meanwhile), then moved aside and deleted."""
    with storage_errors_name(out):
        os.chmod(stage, 0o777 & ~umask())
        if out.exists():
            recheck()
            old = _mkdtemp(out)
            os.replace(out, old)
            os.replace(stage, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(stage, out)
