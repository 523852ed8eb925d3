"""Direction sets: K directions in a named latent space, their file format and the edit rule.

A direction lives in ``z``, ``w`` or ``w+``. In ``w`` (optionally restricted to a layer range)
the edit of DESIGN.md is ``ws[:, layers] += alpha * scale * d``, with ``alpha`` in standard
deviations of the latent along ``d`` (``scale``). A ``w+`` direction holds one w_dim vector per
layer of its range ([L·w_dim], layer-major), and layer l of the range moves by its own vector;
a ``w+`` direction of size w_dim (older files) moves every layer of the range alike. In ``z``
the shift is applied before the mapping network.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from gan_directions.errors import GandirError, InvalidInputError
from gan_directions.fileio import atomic_write_bytes
from gan_directions.runs.layout import DIRECTIONS

SPACES = ("z", "w", "w+")


def parse_layer_range(text: str | None, num_ws: int | None = None) -> tuple[int, int] | None:
    """Parse ``"A-B"`` (inclusive) or ``"A"``; None or ``"all"`` means every layer."""
    if text is None or str(text).strip().lower() in ("", "all"):
        return None
    parts = str(text).split("-")
    try:
        if len(parts) == 1:
            start = stop = int(parts[0])
        elif len(parts) == 2:
            start, stop = int(parts[0]), int(parts[1])
        else:
            raise ValueError
    except ValueError:
        raise InvalidInputError(f"bad layer range {text!r}: expected A-B, e.g. 0-5") from None
    if start < 0 or stop < start:
        raise InvalidInputError(f"bad layer range {text!r}: need 0 <= A <= B")
    if num_ws is not None and stop >= num_ws:
        raise InvalidInputError(
            f"bad layer range {text!r}: the model has {num_ws} layers (0-{num_ws - 1})"
        )
    return start, stop


@dataclass
class DirectionSet:
    """K unit directions in one latent space.

    ``directions`` [K, dim]; ``scales`` [K], the latent's standard deviation along each
    direction (1 for z); ``layers`` the inclusive layer range edited (None = all layers).
    """

    directions: np.ndarray
    space: str = "w"
    layers: tuple[int, int] | None = None
    scales: np.ndarray | None = None
    names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        d = np.asarray(self.directions, dtype=np.float32)
        if d.ndim != 2 or d.shape[0] == 0:
            raise InvalidInputError(f"directions must be a [K, dim] array, got shape {d.shape}")
        if not np.all(np.isfinite(d)):
            raise InvalidInputError("directions contain NaN or inf")
        if self.space not in SPACES:
            raise InvalidInputError(f"unknown space {self.space!r}; choose one of {SPACES}")
        if self.space == "z" and self.layers is not None:
            raise InvalidInputError("a layer range applies to w and w+ directions, not z")
        self.directions = d
        if self.scales is None:
            self.scales = np.ones(d.shape[0], dtype=np.float32)
        self.scales = np.asarray(self.scales, dtype=np.float32).reshape(-1)
        if self.scales.shape[0] != d.shape[0]:
            raise InvalidInputError("scales must have one entry per direction")
        if self.layers is not None:
            self.layers = (int(self.layers[0]), int(self.layers[1]))
        self.names = [str(n) for n in self.names]

    @property
    def k(self) -> int:
        return int(self.directions.shape[0])

    @property
    def dim(self) -> int:
        return int(self.directions.shape[1])

    def label(self, index: int) -> str:
        return self.names[index] if index < len(self.names) else f"d{index}"

    def check_fits(self, generator) -> None:
        """Raise a clear error when these directions do not fit ``generator``'s latent space."""
        expected = generator.z_dim if self.space == "z" else generator.w_dim
        if self.space == "w+" and self.dim != expected:
            expected = generator.w_dim * layer_count(self.layers, generator.num_ws)
        if self.dim != expected:
            raise InvalidInputError(
                f"direction dimension {self.dim} does not match the model's {self.space} "
                f"dimension {expected}"
            )
        if self.layers is not None and self.layers[1] >= generator.num_ws:
            raise InvalidInputError(
                f"layer range {self.layers[0]}-{self.layers[1]} exceeds the model's "
                f"{generator.num_ws} layers"
            )

    def save(self, path: str | os.PathLike) -> None:
        """Write the ``.npz`` format of DESIGN.md atomically."""
        buffer = io.BytesIO()
        layers = np.asarray(self.layers if self.layers is not None else [], dtype=np.int64)
        np.savez(
            buffer,
            directions=self.directions,
            space=np.asarray(self.space),
            layers=layers,
            scales=self.scales,
            names=np.asarray(self.names, dtype=str),
        )
        atomic_write_bytes(path, buffer.getvalue())

    @classmethod
    def load(cls, path: str | os.PathLike) -> DirectionSet:
        """Read a directions ``.npz`` (or a run folder holding ``directions.npz``)."""
        path = Path(path)
        if path.is_dir():
            path = path / DIRECTIONS
        if not path.is_file():
            raise GandirError(f"directions file not found: {path}")
        if not zipfile.is_zipfile(path):
            raise GandirError(f"cannot read directions file {path}: not a .npz archive "
                              f"(truncated or corrupt, or another format)")
        try:
            with np.load(path, allow_pickle=False) as data:
                directions = data["directions"]
                space = str(data["space"]) if "space" in data else "w"
                layers = data["layers"] if "layers" in data else np.zeros(0)
                scales = data.get("scales")
                names = [str(n) for n in data["names"]] if "names" in data else []
        except KeyError:
            raise GandirError(f"cannot read directions file {path}: it has no 'directions' "
                              f"array (not a gandir directions file)") from None
        except ValueError as error:
            what = ("it holds pickled Python objects, which gandir never loads"
                    if "allow_pickle" in str(error) else "its arrays are corrupt")
            raise GandirError(f"cannot read directions file {path}: {what}") from None
        except (OSError, zipfile.BadZipFile, EOFError):
            raise GandirError(f"cannot read directions file {path}: not a readable .npz "
                              f"(truncated or corrupt)") from None
        layer_range = (int(layers[0]), int(layers[1])) if len(layers) == 2 else None
        return cls(directions, space=space, layers=layer_range, scales=scales, names=names)


def layer_count(layers: tuple[int, int] | None, num_ws: int) -> int:
    """Number of ws entries in an inclusive layer range (None = all ``num_ws``)."""
    return num_ws if layers is None else layers[1] - layers[0] + 1


def edit_ws(
    ws: torch.Tensor, direction: torch.Tensor, shift: torch.Tensor | float,
    layers: tuple[int, int] | None = None,
) -> torch.Tensor:
    """Return ``ws`` [N, num_ws, w_dim] with ``shift * direction`` added on ``layers``.

    ``shift`` is a scalar or a per-sample tensor [N]; layers are inclusive (None = all).
    ``direction`` is one w_dim vector for every layer, or one per layer of the range
    ([L·w_dim], true W+).
    """
    first, last = layers if layers is not None else (0, ws.shape[1] - 1)
    shift = torch.as_tensor(shift, dtype=ws.dtype, device=ws.device).reshape(-1, 1, 1)
    per_layer = direction.to(ws).reshape(1, -1, ws.shape[2])  # [1, 1 or L, w_dim]
    delta = (shift * per_layer).expand(-1, last - first + 1, -1)
    return torch.cat([ws[:, :first], ws[:, first : last + 1] + delta, ws[:, last + 1 :]], dim=1)


def edited_ws(
    generator,
    z: torch.Tensor,
    directions: DirectionSet,
    index: int,
    alpha: torch.Tensor | float,
    c: torch.Tensor | None = None,
    truncation_psi: float = 1.0,
) -> torch.Tensor:
    """ws of ``z`` moved ``alpha`` standard deviations along direction ``index``."""
    d = torch.as_tensor(directions.directions[index], device=z.device)
    shift = torch.as_tensor(alpha, dtype=torch.float32, device=z.device) * float(
        directions.scales[index]
    )
    if directions.space == "z":
        z = z + shift.reshape(-1, 1) * d.reshape(1, -1)
        return generator.mapping(z, c, truncation_psi=truncation_psi)
    ws = generator.mapping(z, c, truncation_psi=truncation_psi)
    return edit_ws(ws, d, shift, directions.layers)


def seeded_z(seeds: list[int], z_dim: int) -> torch.Tensor:
    """Latents for ``seeds`` by the official rule ``RandomState(seed).randn(z_dim)``."""
    return torch.from_numpy(
        np.stack([np.random.RandomState(seed).randn(z_dim) for seed in seeds])
    ).to(torch.float32)


MAX_SEEDS = 10_000  # most seeds one list may name (a typo like 0-99999999 must not allocate)


def parse_seeds(text: str, max_count: int = MAX_SEEDS) -> list[int]:
    """Parse ``"0-7"``, ``"1,5,9"`` or a mix like ``"0-3,10"`` into a list of seeds.

    Seeds lie in [0, 2**32); a list names at most ``max_count`` seeds (``MAX_SEEDS``).
    """
    spans: list[tuple[int, int]] = []
    try:
        for part in str(text).split(","):
            part = part.strip()
            if not part:
                continue
            match = re.fullmatch(r"(\d+)(?:\s*-\s*(\d+))?", part)
            if match is None:
                raise ValueError
            start, stop = int(match[1]), int(match[2] or match[1])
            if stop < start:
                raise ValueError
            spans.append((start, stop))
    except ValueError:
        raise InvalidInputError(f"bad seed list {text!r}: expected e.g. 0-7 or 1,5,9") from None
    if not spans:
        raise InvalidInputError(f"no seeds given in {text!r}: expected e.g. 0-7 or 1,5,9")
    if max(b for _, b in spans) >= 2**32:
        raise InvalidInputError(f"bad seed list {text!r}: seeds must be in [0, 2**32)")
    count = sum(b - a + 1 for a, b in spans)
    if count > max_count:
        raise InvalidInputError(
            f"seed list {text!r} names {count} seeds; at most {max_count} are allowed"
        )
    return [seed for a, b in spans for seed in range(a, b + 1)]
