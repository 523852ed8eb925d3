"""What every workflow shares: the device default and the torch thread setting."""

from __future__ import annotations

DEFAULT_DEVICE = "auto"  # CUDA when available, else CPU


def set_threads(threads: int | None) -> None:
    """Use ``threads`` CPU threads for torch (``None``: leave torch's choice)."""
    if threads is not None:
        import torch

        torch.set_num_threads(int(threads))
