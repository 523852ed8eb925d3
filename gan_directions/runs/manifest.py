"""The manifest of an output folder: which command made it and which files gandir wrote there.

Every folder gandir creates holds a manifest (``layout.MARKER``, ``.gandir-run``): a JSON
header naming the command (``{"gandir": "0.1.0", "kind": "find"}``), then one line per file
written into the folder or a plain subfolder of it, as a path relative to the folder. Each
write lists its file before writing it (``fileio.atomic_path`` calls ``note_written``), so a
file gandir wrote is never missing from the list, whatever stopped the command.

``unlisted_entries`` is what ``--overwrite`` would delete without gandir having written it:
everything but the listed files, the manifest itself, folders gandir made (with their own
manifests, checked the same way), and what an interrupted command leaves (lock files,
temporary files). Manifests written before this format (a line of text) list nothing.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from gan_directions import __version__
from gan_directions.fileio import TEMP_SUFFIX, storage_errors_name
from gan_directions.runs.layout import LOCK, MARKER

# ``.NAME.XXXXXXXX.tmp`` (``fileio.atomic_path``) and ``.NAME.gandir.lock`` (``runs.lock``)
LEFTOVER = re.compile(rf"\..+\.[A-Za-z0-9_]{{8}}{re.escape(TEMP_SUFFIX)}|\..+{re.escape(LOCK)}")


@dataclass(frozen=True)
class Manifest:
    kind: str | None  # the command that made the folder (None: an older manifest)
    files: frozenset[str]  # written files, relative to the folder (posix)


def manifest_path(folder: str | os.PathLike) -> Path:
    return Path(folder) / MARKER


def write_manifest(folder: str | os.PathLike, kind: str) -> None:
    """Start the manifest of the new folder ``folder``, made by the command ``kind``."""
    path = manifest_path(folder)
    header = {"gandir": __version__, "kind": kind,
              "note": "--overwrite replaces this folder only while it holds nothing but the "
                      "files listed below"}
    with storage_errors_name(path):
        path.write_text(json.dumps(header) + "\n", encoding="utf-8")


def read_manifest(folder: str | os.PathLike) -> Manifest | None:
    """The manifest of ``folder`` (``None`` when it has none)."""
    path = manifest_path(folder)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except (OSError, UnicodeDecodeError):
        return Manifest(None, frozenset())
    try:
        header = json.loads(lines[0]) if lines else None
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or not isinstance(header.get("kind"), str):
        return Manifest(None, frozenset())
    return Manifest(header["kind"], frozenset(line for line in lines[1:] if line))


def owning_folder(path: str | os.PathLike) -> Path | None:
    """The nearest folder above ``path`` that holds a manifest (``None``: not in one)."""
    for folder in Path(os.path.abspath(path)).parents:
        if manifest_path(folder).is_file():
            return folder
    return None


def note_written(path: str | os.PathLike) -> None:
    """List ``path`` in the manifest of the output folder it is in (if any), before it is
    written."""
    path = Path(os.path.abspath(path))
    if path.name == MARKER:
        return
    folder = owning_folder(path)
    if folder is None:
        return
    relative = path.relative_to(folder).as_posix()
    manifest = read_manifest(folder)
    if manifest is None or manifest.kind is None or relative in manifest.files:
        return
    with open(manifest_path(folder), "a", encoding="utf-8") as handle:
        handle.write(relative + "\n")


def unlisted_entries(folder: str | os.PathLike) -> list[Path]:
    """What ``folder`` holds that gandir did not write (see the module's docstring)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    return _unlisted_below(folder, folder, manifest.files if manifest else frozenset())


def _unlisted_below(root: Path, folder: Path, listed: frozenset[str]) -> list[Path]:
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.is_symlink():
            found.append(entry)
        elif entry.is_dir():
            inner = manifest_path(entry).is_file()
            found += unlisted_entries(entry) if inner else _unlisted_below(root, entry, listed)
        elif not (entry.relative_to(root).as_posix() in listed or entry.name == MARKER
                  or LEFTOVER.fullmatch(entry.name)):
            found.append(entry)
    return found
