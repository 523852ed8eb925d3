"""``synthetic-shapes``: a built-in generator with known factors of variation.

A latent z ~ N(0, I_d) is mixed by a fixed, seeded random rotation R: u = R z. The first six
coordinates of u pass through the standard normal CDF Φ to give six factors in (0, 1):

    x position, y position, scale, rotation, hue  (the five shape factors)
    background brightness                         (a nuisance factor)

Coordinates of u beyond the sixth are ignored by the image (null dimensions). Moving z along
row j of R changes u_j and nothing else, so the rows of R are the ground-truth directions.

Two harder variants break the easy answers:

- ``synthetic-shapes-unequal``: a linear mapping network w = M z with unequal singular values,
  so w's principal axes and the std along each factor's direction do not line up with the
  factors (whose w-directions, M rᵢ, are not orthogonal);
- ``synthetic-shapes-brightness``: a seventh factor adds the same offset to every pixel of
  the image, a global edit that leaves all pixel distances unchanged.

The image is a soft equilateral triangle on a grey background, 64×64 RGB in [-1, 1]. Its edge is
an anti-aliased step of a signed distance (max over the three edge half-planes), so images are
differentiable in z. The triangle has 3-fold symmetry and the rotation factor spans one period
(120°), so rotation is circular, as is hue (a cosine colour wheel).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from gan_directions.errors import InvalidInputError
from gan_directions.generators.base import Generator

FACTOR_NAMES = ("x", "y", "scale", "rotation", "hue", "background")
FACTOR_IS_CIRCULAR = (False, False, False, True, True, False)
NUM_FACTORS = len(FACTOR_NAMES)

CENTER_RANGE = 0.45  # the centre moves in [-0.45, 0.45] (image coordinates span [-1, 1])
INRADIUS_RANGE = (0.12, 0.28)  # triangle inradius; circumradius is twice that
BACKGROUND_RANGE = (0.05, 0.55)  # grey level of the background, in [0, 1]
SYMMETRY = 3  # the triangle looks the same after 2π/3
BRIGHTNESS_RANGE = 0.4  # the global brightness factor adds an offset in [-0.4, 0.4]
MIXING_SPREAD = (1.6, 0.6)  # singular values of the unequal variant's mapping, largest first


def random_rotation(dim: int, seed: int) -> np.ndarray:
    """A Haar-random rotation (det +1) from ``RandomState(seed)``: QR of a Gaussian matrix."""
    gaussian = np.random.RandomState(seed).randn(dim, dim)
    q, r = np.linalg.qr(gaussian)
    q = q * np.sign(np.diag(r))  # makes the distribution Haar
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


class SyntheticShapes(Generator):
    """A soft triangle whose position, size, rotation, hue and background follow z.

    ``factors(z)`` gives the ground-truth factors [N, 6] in [0, 1]; ``true_directions()``
    the unit z-directions [6, z_dim] that move exactly one factor each.
    """

    def __init__(self, z_dim: int = NUM_FACTORS, seed: int = 0, resolution: int = 64,
                 brightness: bool = False) -> None:
        super().__init__()
        self.factor_names = [*FACTOR_NAMES, "brightness"] if brightness else list(FACTOR_NAMES)
        self.factor_is_circular = [*FACTOR_IS_CIRCULAR] + [False] * brightness
        self.num_factors = len(self.factor_names)
        if z_dim < self.num_factors:
            raise InvalidInputError(
                f"synthetic-shapes needs z_dim >= {self.num_factors} (one per factor), "
                f"got {z_dim}"
            )
        self.z_dim = self.w_dim = int(z_dim)
        self.c_dim = 0
        self.num_ws = 1
        self.img_resolution = int(resolution)
        self.img_channels = 3
        self.seed = int(seed)
        self.name = "synthetic-shapes"
        rotation = torch.from_numpy(random_rotation(self.z_dim, self.seed)).to(torch.float32)
        self.register_buffer("rotation", rotation)
        coords = (torch.arange(self.img_resolution, dtype=torch.float32) + 0.5)
        coords = coords / self.img_resolution * 2 - 1
        self.register_buffer("grid_x", coords.reshape(1, 1, -1))
        self.register_buffer("grid_y", coords.reshape(1, -1, 1))

    def z_of_w(self, w: torch.Tensor) -> torch.Tensor:
        """The z whose w is ``w`` (w = z here; the unequal variant inverts its mapping)."""
        return w

    def factors(self, z: torch.Tensor) -> torch.Tensor:
        """Ground-truth factors Φ((R z)_j), j < F, as [N, F] in [0, 1]."""
        u = z.to(self.rotation) @ self.rotation.T
        return torch.special.ndtr(u[:, : self.num_factors])

    def ws_factors(self, ws: torch.Tensor) -> torch.Tensor:
        """Ground-truth factors [N, F] of ws [N, 1, w_dim]."""
        return self.factors(self.z_of_w(ws[:, 0]))

    def true_directions(self, space: str = "z") -> np.ndarray:
        """Unit directions [F, dim] that move exactly one factor each: the rows of R in z
        (orthogonal); in w (``space="w"``) their images under the (linear) mapping."""
        rows = self.rotation[: self.num_factors].detach().cpu().numpy().astype(np.float64)
        if space == "z":
            return rows
        w = self.mapping(torch.from_numpy(rows).to(self.rotation))[:, 0].double().cpu().numpy()
        return w / np.linalg.norm(w, axis=1, keepdims=True)

    def null_directions(self) -> np.ndarray:
        """Rows of R the image ignores: [z_dim - F, z_dim] (empty without null dimensions)."""
        return self.rotation[self.num_factors :].detach().cpu().numpy().astype(np.float64)

    def sefa_weight(self) -> np.ndarray:
        """The first linear map of the latent, z -> (R z)_j for j < F [F, z_dim] (SeFa)."""
        return self.true_directions()

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        """Render images [N, 3, H, W] (nominally in [-1, 1]) from ws [N, 1, w_dim]."""
        return self.render_factors(self.ws_factors(ws))

    def render_factors(self, factors: torch.Tensor) -> torch.Tensor:
        """Render images [N, 3, H, W] from factors [N, F] in [0, 1]: in [-1, 1], except that
        the global brightness factor (when present) offsets every pixel by up to ±0.4."""
        f = factors.to(self.grid_x)
        n = f.shape[0]
        cx, cy, size, angle, hue, bg = (f[:, i].reshape(n, 1, 1) for i in range(NUM_FACTORS))
        cx = (cx * 2 - 1) * CENTER_RANGE
        cy = (cy * 2 - 1) * CENTER_RANGE
        inradius = INRADIUS_RANGE[0] + (INRADIUS_RANGE[1] - INRADIUS_RANGE[0]) * size
        theta = angle * (2 * math.pi / SYMMETRY)
        px = self.grid_x - cx  # [N, 1, W] broadcasts against [N, H, 1]
        py = self.grid_y - cy
        # Signed distance to a triangle: the largest signed distance to its three edge lines.
        distance = None
        for edge in range(SYMMETRY):
            phi = theta + edge * (2 * math.pi / SYMMETRY)
            along = px * torch.cos(phi) + py * torch.sin(phi)
            distance = along if distance is None else torch.maximum(distance, along)
        distance = distance - inradius
        pixel = 2.0 / self.img_resolution
        coverage = torch.sigmoid(-distance / (0.5 * pixel))  # anti-aliased edge, ~1 pixel wide
        # Cosine colour wheel: fully saturated, circular in hue.
        offsets = torch.tensor([0.0, 1.0 / 3, 2.0 / 3], dtype=f.dtype, device=f.device)
        color = 0.5 + 0.5 * torch.cos(2 * math.pi * (hue.reshape(n, 1) - offsets))
        grey = BACKGROUND_RANGE[0] + (BACKGROUND_RANGE[1] - BACKGROUND_RANGE[0]) * bg
        alpha = coverage.unsqueeze(1)  # [N, 1, H, W]
        image = grey.unsqueeze(1) * (1 - alpha) + color.reshape(n, 3, 1, 1) * alpha
        image = image * 2 - 1
        if self.num_factors > NUM_FACTORS:  # global brightness: one offset for every pixel
            image = image + (f[:, NUM_FACTORS].reshape(n, 1, 1, 1) * 2 - 1) * BRIGHTNESS_RANGE
        return image


class UnequalSyntheticShapes(SyntheticShapes):
    """synthetic-shapes behind a linear mapping network w = M z, M = U diag(σ) Pᵀ with seeded
    rotations U, P and σ spread from 1.6 down to 0.6: w's principal axes are U's columns,
    while the factors move along the non-orthogonal M rᵢ, each with its own std."""

    def __init__(self, z_dim: int = NUM_FACTORS, seed: int = 0) -> None:
        super().__init__(z_dim=z_dim, seed=seed)
        sigma = np.geomspace(MIXING_SPREAD[0], MIXING_SPREAD[1], self.z_dim)
        left = random_rotation(self.z_dim, self.seed + 1)
        right = random_rotation(self.z_dim, self.seed + 2)
        mixing = torch.from_numpy(left @ np.diag(sigma) @ right.T).to(torch.float32)
        self.register_buffer("mixing", mixing)
        self.register_buffer("unmixing", torch.linalg.inv(mixing.double()).to(torch.float32))

    def mapping(self, z, c=None, truncation_psi=1.0, truncation_cutoff=None) -> torch.Tensor:
        """w = M z (no truncation: w has no average to truncate towards)."""
        return (z.to(self.mixing) @ self.mixing.T).unsqueeze(1)

    def z_of_w(self, w: torch.Tensor) -> torch.Tensor:
        return w.to(self.unmixing) @ self.unmixing.T


def synthetic_shapes(z_dim: int = NUM_FACTORS, seed: int = 0) -> SyntheticShapes:
    """The built-in ``synthetic-shapes`` model (6 factors, z_dim 6 unless given)."""
    return SyntheticShapes(z_dim=z_dim, seed=seed)


def synthetic_shapes_unequal(seed: int = 0) -> UnequalSyntheticShapes:
    """``synthetic-shapes-unequal``: the 6 factors behind an unequal linear mapping."""
    model = UnequalSyntheticShapes(seed=seed)
    model.name = "synthetic-shapes-unequal"
    return model


def synthetic_shapes_brightness(seed: int = 0) -> SyntheticShapes:
    """``synthetic-shapes-brightness``: a seventh, global brightness factor (z_dim 7)."""
    model = SyntheticShapes(z_dim=NUM_FACTORS + 1, seed=seed, brightness=True)
    model.name = "synthetic-shapes-brightness"
    return model


def synthetic_shapes_with_null_dims(null_dims: int = 4, seed: int = 0) -> SyntheticShapes:
    """``synthetic-shapes-null``: ``null_dims`` extra latent dimensions the image ignores.

    R mixes all z_dim = 6 + null_dims coordinates, so the null subspace (rows 6.. of R,
    ``null_directions()``) is not axis-aligned.
    """
    if null_dims < 0:
        raise InvalidInputError(f"null_dims must be >= 0, got {null_dims}")
    model = SyntheticShapes(z_dim=NUM_FACTORS + int(null_dims), seed=seed)
    model.name = "synthetic-shapes-null"
    return model
