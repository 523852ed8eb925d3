"""Torch devices from user text: ``auto``, ``cpu``, ``cuda``, ``cuda:N``, ``mps``."""

from __future__ import annotations

from gan_directions.errors import InvalidInputError


def available_devices() -> list[str]:
    """The devices this torch build can use on this machine, e.g. ``["cpu", "cuda:0"]``."""
    import torch

    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{index}" for index in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    return devices


def resolve_device(device: str) -> str:
    """Check ``device`` against the available ones; ``"auto"`` is CUDA when present, else CPU.

    Raises ``InvalidInputError`` (one line naming the available devices) for an unknown or
    unavailable device, such as ``cuda`` with a CPU-only torch.
    """
    import torch

    text = str(device).strip()
    if text == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    available = available_devices()
    listing = f"available: {', '.join(available)}"
    try:
        parsed = torch.device(text)
    except (RuntimeError, TypeError, ValueError):
        raise InvalidInputError(f"unknown device {text!r}; {listing}") from None
    if parsed.type == "cpu":
        return text
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            build = "this torch build has no CUDA" if torch.version.cuda is None else "no GPU found"
            raise InvalidInputError(f"device {text!r} is not available ({build}); {listing}")
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise InvalidInputError(f"device {text!r} does not exist; {listing}")
        return text
    if parsed.type == "mps" and "mps" in available:
        return text
    raise InvalidInputError(f"device {text!r} is not available; {listing}")
