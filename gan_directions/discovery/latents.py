"""The latent space a search runs in: sampling, statistics and decoding of shifted latents.

A search edits one vector per sample:

- ``z``: z itself, before the mapping network;
- ``w``: w, the mapping output shared by all layers (with a layer range, the shift is added to
  those layers of ws only);
- ``w+``: one w_dim vector per layer of the range (all layers by default), flattened to
  [L·w_dim] and edited jointly: layer l of the range moves by its own block of the direction.

Statistics of that vector (mean, covariance, principal axes) come from sampled latents, as
running sums in float64 so that 10⁵–10⁶ samples fit in memory (GANSpace's sample sizes). They
give GANSpace directions, the PCA search subspace and each direction's scale: the latent's
standard deviation along it. W+ statistics treat the layers as independent copies of w (as
under style mixing): mean tiled, covariance block-diagonal, and the principal axes list the
layer-uniform lifts of w's axes first.

Conditional models (c_dim > 0) get a label with every latent (``labels.sample_labels``). Search
steps may render at a lower resolution (``search_res``, see ``generators.partial``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gan_directions.directions import SPACES
from gan_directions.discovery.labels import check_class, sample_labels
from gan_directions.errors import InvalidInputError
from gan_directions.generators.partial import synthesize


@dataclass
class LatentStats:
    """Statistics of the edited latent: mean [d], covariance [d, d], principal axes [d, d]
    (rows, by decreasing variance) and their variances [d] of one vector of d entries, and
    ``layers``, the number of independent copies of it that form the latent (W+; else 1).
    The latent's dimension is ``layers · d``; its covariance is block-diagonal."""

    mean: np.ndarray
    covariance: np.ndarray
    axes: np.ndarray
    variances: np.ndarray
    layers: int = 1

    @classmethod
    def from_samples(cls, samples: np.ndarray) -> LatentStats:
        moments = Moments(np.asarray(samples).shape[1])
        moments.add(samples)
        return moments.stats()

    @classmethod
    def from_moments(cls, mean: np.ndarray, covariance: np.ndarray) -> LatentStats:
        variances, vectors = np.linalg.eigh(covariance)
        order = np.argsort(variances)[::-1]
        return cls(mean, covariance, signed_rows(vectors[:, order].T), variances[order])

    @property
    def dim(self) -> int:
        return self.layers * len(self.mean)

    def full_mean(self) -> np.ndarray:
        return np.tile(self.mean, self.layers)

    def top_axes(self, m: int) -> np.ndarray:
        """The first ``m`` principal axes [m, dim]; with layers, the layer-uniform lifts of
        every axis come first (by variance), then the layer contrasts."""
        if self.layers == 1:
            return self.axes[:m].copy()
        basis = orthonormal_layer_basis(self.layers)  # row 0 is uniform
        rows = []
        for h in basis:
            for axis in self.axes:
                if len(rows) == m:
                    return np.stack(rows)
                rows.append(np.kron(h, axis))
        return np.stack(rows)

    def scales(self, directions: np.ndarray) -> np.ndarray:
        """Standard deviation of the latent along each unit direction: sqrt(dᵀ Σ d)."""
        d = np.asarray(directions, dtype=np.float64).reshape(len(directions), self.layers, -1)
        quadratic = np.einsum("kli,ij,klj->k", d, self.covariance, d)
        return np.sqrt(np.maximum(quadratic, 1e-12))

    def lifted(self, layers: int) -> LatentStats:
        """W+ statistics of ``layers`` independent copies of this (w) latent."""
        return LatentStats(self.mean, self.covariance, self.axes, self.variances, layers)


def signed_rows(rows: np.ndarray) -> np.ndarray:
    """Rows with signs fixed so each row's largest-magnitude entry is positive (reproducible)."""
    signs = np.sign(rows[np.arange(len(rows)), np.abs(rows).argmax(axis=1)])
    return rows * signs[:, None]


def orthonormal_layer_basis(layers: int) -> np.ndarray:
    """An orthonormal [L, L] basis whose first row is uniform (1/√L each)."""
    seed = np.eye(layers)
    seed[:, 0] = 1.0
    q, r = np.linalg.qr(seed)
    q = q * np.sign(np.diag(r))
    return q.T


class Moments:
    """Running mean and covariance of rows added in chunks (float64 sums)."""

    def __init__(self, dim: int) -> None:
        self.count = 0
        self.total = np.zeros(dim)
        self.outer = np.zeros((dim, dim))

    def add(self, rows: np.ndarray) -> None:
        rows = np.asarray(rows, dtype=np.float64)
        self.count += len(rows)
        self.total += rows.sum(axis=0)
        self.outer += rows.T @ rows

    def stats(self) -> LatentStats:
        if self.count < 2:
            raise InvalidInputError("statistics need at least 2 samples")
        mean = self.total / self.count
        covariance = (self.outer - self.count * np.outer(mean, mean)) / (self.count - 1)
        return LatentStats.from_moments(mean, (covariance + covariance.T) / 2)


class LatentSpace:
    """Sampling and decoding in ``space`` (``z``, ``w`` or ``w+``) of ``generator``.

    ``layers`` (inclusive, None = all) limits w/w+ edits to those layers of ws.
    ``class_index``: the class of a conditional model (None = uniform classes).
    ``resolution``: the resolution search images are rendered at (None = full).
    """

    def __init__(
        self,
        generator,
        space: str = "w",
        layers: tuple[int, int] | None = None,
        truncation_psi: float = 1.0,
        class_index: int | None = None,
        resolution: int | None = None,
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
        check_class(generator, class_index)
        self.generator = generator
        self.space = space
        self.layers = layers
        self.truncation_psi = float(truncation_psi)
        self.class_index = class_index
        self.resolution = resolution
        first, last = layers if layers is not None else (0, generator.num_ws - 1)
        self.span = (first, last)
        self.num_layers = last - first + 1 if space == "w+" else 1
        if space == "z":
            self.dim = generator.z_dim
        else:
            self.dim = generator.w_dim * self.num_layers

    @property
    def device(self) -> torch.device:
        return self.generator.device

    def sample(self, n: int, rng: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(z [n, z_dim], labels [n, c_dim] or None) drawn from ``rng``."""
        z = torch.randn(n, self.generator.z_dim, generator=rng).to(self.device)
        return z, sample_labels(self.generator, n, self.class_index, rng)

    def mapping(self, z: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        return self.generator.mapping(z, c, truncation_psi=self.truncation_psi)

    def encode(self, z: torch.Tensor, c: torch.Tensor | None = None
               ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """(latent [N, dim] that directions shift, ws [N, num_ws, w_dim] or None for z, c)."""
        if self.space == "z":
            return z, None, c
        ws = self.mapping(z, c)
        if self.space == "w+":
            first, last = self.span
            return ws[:, first : last + 1].reshape(len(ws), -1), ws, c
        return ws[:, self.span[0]], ws, c

    def decode(self, latent: torch.Tensor, base: tuple, resolution: int | None = -1
               ) -> torch.Tensor:
        """Images of ``latent`` [N, dim], a shifted copy of ``base = encode(z, c)``'s latent.

        In w the shift (latent − base latent) is added to ws on the layer range; in w+ each
        layer of the range gets its own block of the shift. ``resolution`` -1 means the
        search resolution, None the full one.
        """
        base_latent, ws, c = base
        if self.space == "z":
            ws = self.mapping(latent, c)
        else:
            first, last = self.span
            delta = (latent - base_latent).reshape(len(latent), self.num_layers, -1)
            if self.space == "w":
                delta = delta.expand(-1, last - first + 1, -1)
            ws = torch.cat([ws[:, :first], ws[:, first : last + 1] + delta, ws[:, last + 1 :]],
                           dim=1)
        return self.synthesize(ws, resolution)

    def synthesize(self, ws: torch.Tensor, resolution: int | None = -1) -> torch.Tensor:
        return synthesize(self.generator, ws, self.resolution if resolution == -1 else resolution)

    def images(self, z: torch.Tensor, c: torch.Tensor | None = None,
               resolution: int | None = -1) -> torch.Tensor:
        """Unedited images of z (labels c)."""
        return self.synthesize(self.mapping(z, c), resolution)

    def shifted_images(
        self, z: torch.Tensor, c: torch.Tensor | None, directions: torch.Tensor,
        shifts: torch.Tensor, resolution: int | None = -1,
    ) -> torch.Tensor:
        """Images of each z moved ``shifts`` [N] along its own row of ``directions`` [N, dim]."""
        base = self.encode(z, c)
        return self.decode(base[0] + shifts.reshape(-1, 1) * directions, base, resolution)

    @torch.no_grad()
    def statistics(self, n: int, seed: int, batch: int = 4096) -> LatentStats:
        """Mean, covariance and principal axes of the edited latent from ``n`` sampled z
        (w+: of w, lifted to the layers; see ``LatentStats.lifted``)."""
        if self.space == "z":
            dim = self.generator.z_dim
            return LatentStats(np.zeros(dim), np.eye(dim), np.eye(dim), np.ones(dim))
        rng = torch.Generator().manual_seed(seed)
        moments = Moments(self.generator.w_dim)
        for start in range(0, n, batch):
            z, c = self.sample(min(batch, n - start), rng)
            moments.add(self.mapping(z, c)[:, self.span[0]].double().cpu().numpy())
        stats = moments.stats()
        return stats.lifted(self.num_layers) if self.space == "w+" else stats
