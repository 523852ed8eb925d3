"""Atomic file writes: readers never see a half-written file (folders: ``runs.output``).

Every write goes through ``atomic_path``: the file is first listed in the manifest of the
gandir output folder it goes into (``runs.manifest``), then written to a temporary sibling
that replaces it only when complete. A full disk, a read-only filesystem or a missing
permission becomes one ``WriteError`` line naming the file, and no temporary file stays.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from gan_directions.errors import GandirError

TEMP_SUFFIX = ".tmp"  # of ``.NAME.XXXXXXXX.tmp``, the sibling ``atomic_path`` writes first
# Errors of the storage, not of the data: reported as "cannot write PATH: <reason>".
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM,
                          errno.EFBIG})


class WriteError(GandirError):
    """A file or folder could not be written (full disk, read-only filesystem, permissions)."""

    def __init__(self, path: str | os.PathLike, reason: str):
        super().__init__(f"cannot write {path}: {reason}")
        self.path, self.reason = Path(path), reason


def write_error(path: str | os.PathLike, error: OSError) -> WriteError:
    """``cannot write PATH: No space left on device`` for ``error`` raised writing ``path``."""
    return WriteError(path, error.strerror or str(error))


@contextlib.contextmanager
def storage_errors_name(path: str | os.PathLike) -> Iterator[None]:
    """Turn a storage ``OSError`` (``WRITE_ERRNOS``) in the block into ``WriteError`` naming
    ``path``; other errors pass unchanged."""
    try:
        yield
    except OSError as error:
        if error.errno not in WRITE_ERRNOS:
            raise
        raise write_error(path, error) from None


def umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _default_permissions(path: Path, is_dir: bool) -> None:
    """Give a ``mkstemp``/``mkdtemp`` result (0600/0700) the usual permissions under the umask."""
    os.chmod(path, (0o777 if is_dir else 0o666) & ~umask())


def nearest_existing(path: Path) -> Path:
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def check_writable(folder: str | os.PathLike) -> None:
    """Raise ``WriteError`` unless files can be created in ``folder``, or in the nearest
    existing folder above it when it does not exist yet (a probe file, removed at once), so
    that a command fails before its work, not after it."""
    existing = nearest_existing(Path(os.path.abspath(folder)))
    with storage_errors_name(existing), tempfile.TemporaryFile(dir=existing):
        pass


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary sibling of ``path``; it replaces ``path`` only if the block succeeds.

    A storage error in the block or in the replacement raises ``WriteError`` naming ``path``.
    """
    from gan_directions.runs.manifest import note_written

    target = Path(path)
    with storage_errors_name(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        note_written(target)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX,
                                        dir=target.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            yield tmp
            if tmp.exists():
                _default_permissions(tmp, is_dir=False)
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                tmp.unlink()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def append_text(path: str | os.PathLike, text: str) -> None:
    """Append ``text`` to ``path`` (a log; created when missing, listed like any write)."""
    from gan_directions.runs.manifest import note_written

    with storage_errors_name(path):
        note_written(path)
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)


def atomic_torch_save(obj, path: str | os.PathLike) -> None:
    """``torch.save`` into memory, then an atomic write, so that a full disk raises
    ``WriteError`` (torch's own writer reports it as ``RuntimeError: enforce fail at
    inline_container.cc``)."""
    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write_bytes(path, buffer.getbuffer())
