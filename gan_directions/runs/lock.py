"""An exclusive lock on an output folder for the life of a command.

The lock is a file beside the folder (``.NAME.gandir.lock`` next to ``NAME``, so it works for a
folder that does not exist yet and survives the folder being replaced) holding the PID of its
holder, locked with ``flock``. The kernel releases an ``flock`` when its process dies, however
it dies, so a lock file left behind by a killed process is stale by construction: the next
command takes it over. A second command on a folder whose holder is alive is refused with a
line naming that PID. POSIX only (``fcntl``); like every ``flock``, it guards processes that
share one kernel, not several machines writing to one network folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from gan_directions.errors import GandirError
from gan_directions.fileio import check_writable, write_error
from gan_directions.runs.layout import LOCK

# Locks this process holds: lock path -> nesting depth (a command may lock a folder twice,
# e.g. ``find --render`` locks the run folder, then the render into it does again).
_HELD: dict[Path, int] = {}


class FolderInUseError(GandirError):
    """Another live process holds the lock of an output folder."""


def lock_path(folder: str | os.PathLike) -> Path:
    """``.NAME.gandir.lock`` beside ``folder`` (absolute)."""
    folder = Path(os.path.abspath(folder))
    return folder.parent / f".{folder.name}{LOCK}"


def _missing_ancestors(folder: Path) -> list[Path]:
    missing = []
    while not folder.exists() and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    return missing


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
    except OSError:
        return "unknown"
    return text if text.isdigit() else "unknown"


def _acquire(path: Path, folder: Path) -> int:
    """Open, ``flock`` and stamp ``path`` with our PID; returns the descriptor."""
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise write_error(path.parent, error) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise FolderInUseError(
                f"{folder} is in use by another gandir command (PID {holder}); wait for it to "
                f"finish or choose another --out"
            ) from None
        # The previous holder may have removed the file between our open and our flock:
        # then we locked an orphan inode and must start again.
        try:
            on_disk = os.stat(path)
        except FileNotFoundError:
            os.close(fd)
            continue
        mine = os.fstat(fd)
        if (on_disk.st_dev, on_disk.st_ino) != (mine.st_dev, mine.st_ino):
            os.close(fd)
            continue
        try:
            os.ftruncate(fd, 0)  # a stale PID of a dead holder is simply replaced
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        except OSError as error:  # a full disk: leave no lock file behind
            _release(path, fd)
            raise write_error(path, error) from None
        return fd


def _release(path: Path, fd: int) -> None:
    with contextlib.suppress(OSError):
        path.unlink()  # before unlocking, so nobody locks a file that is going away
    os.close(fd)


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:  # innermost first
        with contextlib.suppress(OSError):
            folder.rmdir()


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike) -> Iterator[Path]:
    """Hold the exclusive lock of ``folder`` for the block (re-entrant within a process).

    Missing parent folders are created (and removed again on exit when still empty).
    Raises ``FolderInUseError`` naming the holder's PID when another live process holds it,
    and ``WriteError`` when the lock, or an existing ``folder``, cannot be written: a command
    locks the folder it writes before its work, so it fails before the work.
    """
    path = lock_path(folder)
    if path in _HELD:
        _HELD[path] += 1
        try:
            yield path
        finally:
            _HELD[path] -= 1
        return
    created = _missing_ancestors(path.parent)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        _remove_empty(created)
        raise write_error(path.parent, error) from None
    try:
        fd = _acquire(path, Path(folder))
    except BaseException:
        _remove_empty(created)
        raise
    _HELD[path] = 1
    try:
        if Path(folder).is_dir():
            check_writable(folder)
        yield path
    finally:
        del _HELD[path]
        _release(path, fd)
        _remove_empty(created)
