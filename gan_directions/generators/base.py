"""The Generator protocol shared by every model (StyleGAN2, synthetic, VAE decoder).

See DESIGN.md: ``mapping`` turns z into per-layer ws [N, num_ws, w_dim]; ``synthesis`` turns ws
into images [N, C, H, W] nominally in [-1, 1]. Models without a mapping network use the
identity (num_ws = 1, W = Z).
"""

from __future__ import annotations

import torch
from torch import nn

from gan_directions.generators.source import ModelSource


class Generator(nn.Module):
    """Base class: subclasses set the size attributes and implement ``synthesis``.

    Attributes: ``z_dim``, ``w_dim``, ``c_dim``, ``num_ws``, ``img_resolution``,
    ``img_channels``; ``name`` identifies the model in run records. ``load_generator`` sets
    ``source`` (how to load the model again: spec, file, sha256). Optional features (known
    factors, SeFa weights, ...) are declared in ``generators/capabilities.py``.
    """

    z_dim: int
    w_dim: int
    c_dim: int = 0
    num_ws: int = 1
    img_resolution: int
    img_channels: int
    name: str = "generator"
    source: ModelSource | None = None

    def mapping(
        self,
        z: torch.Tensor,
        c: torch.Tensor | None = None,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
    ) -> torch.Tensor:
        """Identity mapping: W = Z, broadcast to ``num_ws`` layers."""
        return z.to(torch.float32).unsqueeze(1).repeat(1, self.num_ws, 1)

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        raise NotImplementedError

    def forward(
        self,
        z: torch.Tensor,
        c: torch.Tensor | None = None,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        noise_mode: str = "const",
    ) -> torch.Tensor:
        ws = self.mapping(z, c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
        return self.synthesis(ws, noise_mode=noise_mode)

    @property
    def source_sha256(self) -> str | None:
        """sha256 of the file the model was loaded from (None for built-ins)."""
        return self.source.sha256 if self.source is not None else None

    @property
    def device(self) -> torch.device:
        for tensor in self.parameters():
            return tensor.device
        for tensor in self.buffers():
            return tensor.device
        return torch.device("cpu")
