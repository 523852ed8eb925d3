"""VAE checkpoints: one safetensors file holding tensors plus a JSON header in its metadata.

Tensor keys: ``model.*`` (VAE weights), ``disc.*`` (FactorVAE critic), ``opt.<name>.<i>.<key>``
(Adam moments and step counts) and ``rng.*`` (torch generator states as uint8). The metadata
entry ``gandir_vae`` is JSON with the model config, training config, step and numpy RNG state.
No pickles are written or read.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save

from gan_directions.errors import ModelLoadError
from gan_directions.fileio import atomic_path
from gan_directions.runs.layout import VAE_CHECKPOINT

CHECKPOINT_NAME = VAE_CHECKPOINT
METADATA_KEY = "gandir_vae"
FORMAT_VERSION = 1


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint file, or a training folder holding ``checkpoint.safetensors``."""
    path = Path(path).expanduser()
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    if not path.is_file():
        raise ModelLoadError(f"VAE checkpoint not found: {path}")
    return path


def save_checkpoint(path: str | Path, tensors: dict[str, torch.Tensor], header: dict) -> None:
    """Write atomically: readers see the old checkpoint or the new one, never a mix."""
    header = {"format_version": FORMAT_VERSION, **header}
    contiguous = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    with atomic_path(path) as tmp:
        tmp.write_bytes(save(contiguous, metadata={METADATA_KEY: json.dumps(header)}))


def read_header(path: str | Path) -> dict:
    path = resolve_checkpoint(path)
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        header = json.loads(metadata[METADATA_KEY])
    except (SafetensorError, OSError, KeyError, ValueError) as error:
        raise ModelLoadError(
            f"cannot read VAE checkpoint {path}: not a gandir VAE checkpoint ({error})"
        ) from None
    if header.get("format_version") != FORMAT_VERSION or "model_config" not in header:
        raise ModelLoadError(f"cannot read VAE checkpoint {path}: unsupported format")
    return header


def load_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    """Return (tensors, header); a missing or corrupt file raises ModelLoadError."""
    path = resolve_checkpoint(path)
    header = read_header(path)
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as error:
        raise ModelLoadError(f"cannot read VAE checkpoint {path}: {error}") from None
    return tensors, header


def split_prefix(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The entries under ``prefix.``, with the prefix removed."""
    start = len(prefix) + 1
    return {k[start:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}


def optimizer_tensors(optimizer: torch.optim.Optimizer, name: str) -> dict[str, torch.Tensor]:
    """Flatten an optimizer's per-parameter state into ``opt.<name>.<index>.<key>`` tensors."""
    out = {}
    for index, state in optimizer.state_dict()["state"].items():
        for key, value in state.items():
            out[f"opt.{name}.{index}.{key}"] = torch.as_tensor(value)
    return out


def restore_optimizer(
    optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], name: str
) -> None:
    """Inverse of ``optimizer_tensors`` (hyperparameters come from the optimizer itself)."""
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in split_prefix(tensors, f"opt.{name}").items():
        index, field = key.split(".", 1)
        state.setdefault(int(index), {})[field] = value.clone()
    current = optimizer.state_dict()
    optimizer.load_state_dict({"state": state, "param_groups": current["param_groups"]})
