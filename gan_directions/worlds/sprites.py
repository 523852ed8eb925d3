"""Sprites: one L-shaped sprite on a plain grey background, every factor an interval.

A world made for measuring direction finders on a trained GAN: each factor is continuous,
unambiguous and an interval (no circle, no category), so a single latent direction can reach it.
Factor grid, in factor order (the last factor varies fastest in the flat index):

- x, y: 16 each, linspace(-0.4, 0.4): the sprite's centroid in image units ([-1, 1] across
  the frame; x to the right, y downwards);
- scale: 8, linspace(0.25, 0.4): the sprite's half-height in image units;
- rotation: 12, linspace(-60, 60) degrees, clockwise on screen about the centroid. The L has
  unequal arms, so it has no rotational or mirror symmetry and every angle is a distinct image;
- hue: 12, linspace(0.0, 0.66): the sprite's colour HSV(h, 1, 1), an arc from red through
  yellow, green and cyan to blue that never closes into a circle;
- background: 8, linspace(0.05, 0.55): the grey level of the background.

That is 16·16·8·12·12·8 = 2,359,296 images of 64×64 RGB in [0, 1]. Edges are anti-aliased by
4×4 supersampling, so every factor changes the image continuously. The rendering runs in
float64 on any torch device, the same bit for bit on each.

``sprites-wide`` is the same world with scale over linspace(0.15, 0.42, 8), a 2.8× range
instead of 1.6× (the largest sprite still clears the frame at every position and angle). A
generator that changes the sprite's size by a fixed amount whenever it moves it then does so by
a smaller fraction of the scale factor's range.
"""

from __future__ import annotations

import numpy as np
import torch

from gan_directions.worlds.grid import GroundTruthDataset
from gan_directions.worlds.shapes3d import hsv_to_rgb

FACTOR_NAMES = ("x", "y", "scale", "rotation", "hue", "background")
FACTOR_SIZES = (16, 16, 8, 12, 12, 8)
RESOLUTION = 64
SUPERSAMPLE = 4
# The L, in units of the half-height, before centring: a tall bar and a shorter foot.
_BAR = (-0.8, -0.2, -1.0, 1.0)  # (x0, x1, y0, y1), y downwards
_FOOT = (-0.8, 0.8, 0.45, 1.0)


SCALES = (0.25, 0.4)  # sprites: the half-height's range
WIDE_SCALES = (0.15, 0.42)  # sprites-wide


def sprites_value_grid(scales: tuple[float, float] = SCALES) -> list[np.ndarray]:
    """Each factor's values, in factor order (scale over ``scales``)."""
    position = np.linspace(-0.4, 0.4, 16)
    return [position, position, np.linspace(*scales, 8), np.linspace(-60.0, 60.0, 12),
            np.linspace(0.0, 0.66, 12), np.linspace(0.05, 0.55, 8)]


def _centroid() -> tuple[float, float]:
    """Centroid of the L (bar plus the part of the foot outside it)."""
    bx0, bx1, by0, by1 = _BAR
    fx0, fx1, fy0, fy1 = _FOOT
    pieces = [((bx1 - bx0) * (by1 - by0), (bx0 + bx1) / 2, (by0 + by1) / 2),
              ((fx1 - bx1) * (fy1 - fy0), (bx1 + fx1) / 2, (fy0 + fy1) / 2)]
    area = sum(a for a, _, _ in pieces)
    return (sum(a * x for a, x, _ in pieces) / area, sum(a * y for a, _, y in pieces) / area)


def _inside(rect: tuple[float, ...], u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    x0, x1, y0, y1 = rect
    return (u >= x0) & (u <= x1) & (v >= y0) & (v <= y1)


def sprite_coverage(x, y, scale, rotation_deg, device: str | torch.device = "cpu"
                    ) -> torch.Tensor:
    """Fraction of each pixel covered by the sprite: float64 [N, 64, 64] in [0, 1]."""
    device = torch.device(device)
    values = [torch.as_tensor(np.asarray(a, np.float64)).to(device)[:, None, None]
              for a in (x, y, scale, rotation_deg)]
    x, y, scale, angle = values
    angle = torch.deg2rad(angle)
    samples = RESOLUTION * SUPERSAMPLE
    coords = ((torch.arange(samples, dtype=torch.float64, device=device) + 0.5) / samples
              * 2 - 1)
    py, px = coords[None, :, None], coords[None, None, :]
    cos, sin = torch.cos(angle), torch.sin(angle)
    dx, dy = px - x, py - y
    # Undo the clockwise on-screen rotation (y downwards), then the scale, then the centring.
    cx, cy = _centroid()
    u = (cos * dx + sin * dy) / scale + cx
    v = (-sin * dx + cos * dy) / scale + cy
    covered = (_inside(_BAR, u, v) | _inside(_FOOT, u, v)).double()
    return covered.reshape(-1, RESOLUTION, SUPERSAMPLE, RESOLUTION, SUPERSAMPLE).mean(dim=(2, 4))


class ProceduralSprites(GroundTruthDataset):
    """L-shaped sprites rendered on demand: see the module docstring."""

    name = "sprites"
    factor_names = FACTOR_NAMES
    factor_sizes = FACTOR_SIZES
    image_shape = (3, RESOLUTION, RESOLUTION)

    scales = SCALES

    def __init__(self):
        super().__init__(sprites_value_grid(self.scales))

    def render_tensor(self, classes: np.ndarray, device: str | torch.device = "cpu"
                      ) -> torch.Tensor:
        """Images float32 [N, 3, 64, 64] in [0, 1] of factor classes, drawn on ``device``."""
        return self.render_values_tensor(self.factor_values(self.check_classes(classes)), device)

    def render_values_tensor(self, values: np.ndarray, device: str | torch.device = "cpu"
                             ) -> torch.Tensor:
        """Images float32 [N, 3, 64, 64] in [0, 1] at factor values [N, 6] (physical units, as
        ``factor_values``; any value inside each factor's interval, not only the grid's)."""
        v = np.asarray(values, dtype=np.float64)
        device = torch.device(device)
        coverage = sprite_coverage(v[:, 0], v[:, 1], v[:, 2], v[:, 3], device)[:, None]
        colour = hsv_to_rgb(torch.from_numpy(v[:, 4]).float().to(device))[:, :, None, None]
        grey = torch.from_numpy(v[:, 5]).to(device)[:, None, None, None]
        return (colour * coverage + grey * (1 - coverage)).float()

    def render(self, classes: np.ndarray) -> np.ndarray:
        return self.render_tensor(classes).numpy()


class ProceduralWideSprites(ProceduralSprites):
    """``sprites`` with the wider scale range (see the module docstring)."""

    name = "sprites-wide"
    scales = WIDE_SCALES
