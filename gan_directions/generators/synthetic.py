"""``synthetic-shapes``: a built-in generator with known factors of variation.

A latent z ~ N(0, I_d) is mixed by a fixed, seeded random rotation R: u = R z. The first six
coordinates of u pass through the standard normal CDF Φ to give six factors in (0, 1):

    x position, y position, scale, rotation, hue  (the five shape factors)
    background brightness                         (a nuisance factor)

Coordinates of u beyond the sixth are ignored by the image (null dimensions). Moving z along
row j of R changes u_j and nothing else, so the rows of R are the ground-truth directions.

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

    factor_names = list(FACTOR_NAMES)
    factor_is_circular = list(FACTOR_IS_CIRCULAR)

    def __init__(self, z_dim: int = NUM_FACTORS, seed: int = 0, resolution: int = 64) -> None:
        super().__init__()
        if z_dim < NUM_FACTORS:
            raise InvalidInputError(
                f"synthetic-shapes needs z_dim >= {NUM_FACTORS} (one per factor), got {z_dim}"
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

    def factors(self, z: torch.Tensor) -> torch.Tensor:
        """Ground-truth factors Φ((R z)_j), j < 6, as [N, 6] in [0, 1]."""
        u = z.to(self.rotation) @ self.rotation.T
        return torch.special.ndtr(u[:, :NUM_FACTORS])

    def ws_factors(self, ws: torch.Tensor) -> torch.Tensor:
        """Ground-truth factors of ws [N, 1, z_dim] (w = z)."""
        return self.factors(ws[:, 0])

    def true_directions(self) -> np.ndarray:
        """The rows of R that drive the factors: [6, z_dim], unit norm, orthogonal."""
        return self.rotation[:NUM_FACTORS].detach().cpu().numpy().astype(np.float64)

    def null_directions(self) -> np.ndarray:
        """Rows of R the image ignores: [z_dim - 6, z_dim] (empty without null dimensions)."""
        return self.rotation[NUM_FACTORS:].detach().cpu().numpy().astype(np.float64)

    def sefa_weight(self) -> np.ndarray:
        """The first linear map of the latent, z -> (R z)_j for j < 6 [6, z_dim] (used by SeFa)."""
        return self.true_directions()

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        """Render images [N, 3, H, W] in [-1, 1] from ws [N, 1, z_dim] (w = z)."""
        return self.render_factors(self.factors(ws[:, 0]))

    def render_factors(self, factors: torch.Tensor) -> torch.Tensor:
        """Render images [N, 3, H, W] in [-1, 1] from factors [N, 6] in [0, 1]."""
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
        return image * 2 - 1


def synthetic_shapes(z_dim: int = NUM_FACTORS, seed: int = 0) -> SyntheticShapes:
    """The built-in ``synthetic-shapes`` model (6 factors, z_dim 6 unless given)."""
    return SyntheticShapes(z_dim=z_dim, seed=seed)


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
