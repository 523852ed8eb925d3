"""The latent space a search runs in: sampling, statistics and decoding of shifted latents.

A search edits one vector per sample: z itself (space ``z``) or w, the mapping output shared by
all layers (space ``w``; with a layer range, or space ``w+``, the shift is added to those layers
of ws only). Statistics of that vector (mean, covariance, principal axes) come from sampled
latents and give GANSpace directions, the PCA search subspace and each direction's scale: the
latent's standard deviation along it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gan_directions.directions import SPACES
from gan_directions.errors import InvalidInputError


@dataclass
class LatentStats:
    """Mean [dim], covariance [dim, dim], principal axes [dim, dim] (rows, by decreasing
    variance) and their variances [dim] of the edited latent."""

    mean: np.ndarray
    covariance: np.ndarray
    axes: np.ndarray
    variances: np.ndarray

    @classmethod
    def from_samples(cls, samples: np.ndarray) -> LatentStats:
        samples = np.asarray(samples, dtype=np.float64)
        mean = samples.mean(axis=0)
        covariance = np.cov(samples, rowvar=False)
        variances, vectors = np.linalg.eigh(covariance)
        order = np.argsort(variances)[::-1]
        axes = vectors[:, order].T
        # Fix each axis's sign so that its largest-magnitude entry is positive (reproducible).
        signs = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])
        return cls(mean, covariance, axes * signs[:, None], variances[order])

    def scales(self, directions: np.ndarray) -> np.ndarray:
        """Standard deviation of the latent along each unit direction: sqrt(dᵀ Σ d)."""
        d = np.asarray(directions, dtype=np.float64)
        return np.sqrt(np.maximum(np.einsum("ki,ij,kj->k", d, self.covariance, d), 1e-12))


class LatentSpace:
    """Sampling and decoding in ``space`` (``z``, ``w`` or ``w+``) of ``generator``.

    ``layers`` (inclusive, None = all) limits w edits to those layers of ws.
    """

    def __init__(
        self,
        generator,
        space: str = "w",
        layers: tuple[int, int] | None = None,
        truncation_psi: float = 1.0,
    ) -> None:
        if space not in SPACES:
            raise InvalidInputError(f"unknown space {space!r}; choose one of {', '.join(SPACES)}")
        if space == "z" and layers is not None:
            raise InvalidInputError("--layers applies to the w and w+ spaces, not z")
        if layers is not None and layers[1] >= generator.num_ws:
            raise InvalidInputError(
                f"bad layer range {layers[0]}-{layers[1]}: the model has {generator.num_ws} "
                f"layers (0-{generator.num_ws - 1})"
            )
        if generator.c_dim:
            raise InvalidInputError(
                "direction search on conditional models is not supported (c_dim > 0)"
            )
        self.generator = generator
        self.space = space
        self.layers = layers
        self.truncation_psi = float(truncation_psi)
        self.dim = generator.z_dim if space == "z" else generator.w_dim

    @property
    def device(self) -> torch.device:
        return self.generator.device

    def sample_z(self, n: int, rng: torch.Generator) -> torch.Tensor:
        return torch.randn(n, self.generator.z_dim, generator=rng).to(self.device)

    def encode(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(latent [N, dim] that directions shift, ws [N, num_ws, w_dim] or None for z)."""
        if self.space == "z":
            return z, None
        ws = self.generator.mapping(z, truncation_psi=self.truncation_psi)
        return ws[:, 0], ws

    def decode(
        self, latent: torch.Tensor, base: tuple[torch.Tensor, torch.Tensor | None]
    ) -> torch.Tensor:
        """Images of ``latent`` [N, dim], a shifted copy of ``base = encode(z)``'s latent.

        In w space the shift (latent − base latent) is added to ws on ``layers``.
        """
        base_latent, ws = base
        if self.space == "z":
            ws = self.generator.mapping(latent, truncation_psi=self.truncation_psi)
        else:
            delta = (latent - base_latent).unsqueeze(1)  # [N, 1, w_dim]
            if self.layers is not None:
                mask = torch.zeros(1, ws.shape[1], 1, dtype=ws.dtype, device=ws.device)
                mask[:, self.layers[0] : self.layers[1] + 1] = 1
                delta = delta * mask
            ws = ws + delta
        return self.generator.synthesis(ws, noise_mode="const")

    def images(self, z: torch.Tensor) -> torch.Tensor:
        """Unedited images of z."""
        return self.generator(z, truncation_psi=self.truncation_psi, noise_mode="const")

    def shifted_images(
        self, z: torch.Tensor, directions: torch.Tensor, shifts: torch.Tensor
    ) -> torch.Tensor:
        """Images of each z moved ``shifts`` [N] along its own row of ``directions`` [N, dim]."""
        base = self.encode(z)
        return self.decode(base[0] + shifts.reshape(-1, 1) * directions, base)

    @torch.no_grad()
    def statistics(self, n: int, seed: int, batch: int = 1024) -> LatentStats:
        """Mean, covariance and principal axes of the edited latent from ``n`` sampled z."""
        rng = torch.Generator().manual_seed(seed)
        chunks = []
        for start in range(0, n, batch):
            z = self.sample_z(min(batch, n - start), rng)
            chunks.append(self.encode(z)[0].double().cpu().numpy())
        return LatentStats.from_samples(np.concatenate(chunks))
