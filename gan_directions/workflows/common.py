"""What every workflow shares: the device and thread defaults, and refusing to replace files."""

from __future__ import annotations

import os
from collections.abc import Iterable

from gan_directions.runs.output import UnsafeOutputError

DEFAULT_DEVICE = "auto"  # CUDA when available, else CPU
DEFAULT_THREADS = "auto"  # the CLI's spelling of threads=None: torch's choice (the cores)


def set_threads(threads: int | None) -> int:
    """Use ``threads`` CPU threads for torch (``None``: leave torch's choice); return the
    number torch uses."""
    import torch

    if threads is not None:
        torch.set_num_threads(int(threads))
    return torch.get_num_threads()


def check_output_files(paths: Iterable[str | os.PathLike], overwrite: bool) -> None:
    """Refuse to replace existing output files unless ``overwrite``, before any work."""
    existing = [str(path) for path in paths if os.path.exists(path)]
    if existing and not overwrite:
        raise UnsafeOutputError(f"{', '.join(existing)} exists; pass --overwrite to replace it")
