"""dSprites: a procedural re-rendering of DeepMind's factor grid, and a loader for the real file.

Factor grid (DeepMind dsprites-dataset README / metadata; the constant ``color`` factor is
dropped as disentanglement_lib's ``dsprites_full`` does, which leaves the flat index unchanged):

- shape: 3 (square, ellipse, heart), values 1, 2, 3;
- scale: 6, linspace(0.5, 1, 6);
- orientation: 40, linspace(0, 2*pi, 40) radians, as in the original file, so classes 0 and
  39 draw the same image (dsprites-dataset issue #7);
- posX, posY: 32 each, linspace(0, 1, 32).

That is 3 * 6 * 40 * 32 * 32 = 737,280 images of 64x64, binary, one channel; the flat index is
``shape*245760 + scale*40960 + orientation*1024 + posX*32 + posY`` as in
``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz``.

Rendering choices (the original's exact constants are not published; they are fixed here):
pixel centres are tested against each shape (no anti-aliasing); the sprite centre in pixels is
``16 + 32 * pos`` (posX -> column, posY -> row, downwards); the orientation turns the sprite
counter-clockwise on screen about its centre; at scale 1 the square's side is 20 px, the
ellipse's axes are 24 x 12 px and the heart (tip down) is about 25 px wide. Every rotated sprite
stays inside the frame.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from gan_directions.errors import GandirError
from gan_directions.worlds.grid import GroundTruthDataset

DSPRITES_FILENAME = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
DSPRITES_URL = "https://github.com/deepmind/dsprites-dataset/raw/master/" + DSPRITES_FILENAME
FACTOR_NAMES = ("shape", "scale", "orientation", "posX", "posY")
FACTOR_SIZES = (3, 6, 40, 32, 32)
SHAPE_NAMES = ("square", "ellipse", "heart")
_FILE_FACTOR_NAMES = ("color",) + FACTOR_NAMES

RESOLUTION = 64
_CENTRE_OFFSET_PX = 16.0
_CENTRE_SPAN_PX = 32.0
_SQUARE_HALF_SIDE_PX = 10.0
_ELLIPSE_SEMI_AXES_PX = (12.0, 6.0)
_HEART_UNIT_PX = 11.0  # pixels per unit of the implicit heart curve


def dsprites_value_grid() -> list[np.ndarray]:
    """The original ``latents_possible_values`` (without color), in factor order."""
    pos = np.linspace(0.0, 1.0, 32)
    return [
        np.array([1.0, 2.0, 3.0]),
        np.linspace(0.5, 1.0, 6),
        np.linspace(0.0, 2 * np.pi, 40),
        pos,
        pos,
    ]


def render_sprites(
    shape: np.ndarray, scale: np.ndarray, angle: np.ndarray, pos_x: np.ndarray, pos_y: np.ndarray
) -> np.ndarray:
    """Binary sprites float32 [N, 64, 64] from factor values (shape 0/1/2 = class index).

    Each pixel centre is mapped into the sprite's own frame (translate, rotate back, divide by
    scale) and tested against the shape's implicit inequality.
    """
    n = len(shape)
    centres = np.arange(RESOLUTION, dtype=np.float32) + 0.5
    cx = (_CENTRE_OFFSET_PX + _CENTRE_SPAN_PX * np.asarray(pos_x, np.float32))[:, None, None]
    cy = (_CENTRE_OFFSET_PX + _CENTRE_SPAN_PX * np.asarray(pos_y, np.float32))[:, None, None]
    dx = centres[None, None, :] - cx  # [N, 1, W]
    up = cy - centres[None, :, None]  # [N, H, 1], y pointing up
    cos = np.cos(angle).astype(np.float32)[:, None, None]
    sin = np.sin(angle).astype(np.float32)[:, None, None]
    inv_scale = (1.0 / np.asarray(scale, np.float32))[:, None, None]
    u = (cos * dx + sin * up) * inv_scale  # sprite frame, pixels at scale 1
    v = (cos * up - sin * dx) * inv_scale
    out = np.zeros((n, RESOLUTION, RESOLUTION), dtype=np.float32)
    shape = np.asarray(shape)
    for s, inside in enumerate((_inside_square, _inside_ellipse, _inside_heart)):
        rows = np.flatnonzero(shape == s)
        if rows.size:
            out[rows] = inside(u[rows], v[rows])
    return out


def _inside_square(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.maximum(np.abs(u), np.abs(v)) <= _SQUARE_HALF_SIDE_PX


def _inside_ellipse(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    a, b = _ELLIPSE_SEMI_AXES_PX
    return (u / a) ** 2 + (v / b) ** 2 <= 1.0


def _inside_heart(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The heart curve (x^2 + y^2 - 1)^3 <= x^2 y^3, flipped so the tip points down."""
    x = u / _HEART_UNIT_PX
    y = v / _HEART_UNIT_PX + 0.1  # centre the curve's bounding box vertically
    r = x * x + y * y - 1.0
    return r * r * r - x * x * y * y * y <= 0.0


class ProceduralDSprites(GroundTruthDataset):
    """dSprites rendered on demand (no file, no 3 GB array): see the module docstring."""

    name = "dsprites"
    factor_names = FACTOR_NAMES
    factor_sizes = FACTOR_SIZES
    image_shape = (1, RESOLUTION, RESOLUTION)
    shape_names = SHAPE_NAMES

    def __init__(self):
        super().__init__(dsprites_value_grid())

    def render(self, classes: np.ndarray) -> np.ndarray:
        values = self.factor_values(classes)
        sprites = render_sprites(
            classes[:, 0], values[:, 1], values[:, 2], values[:, 3], values[:, 4]
        )
        return sprites[:, None]


class DSpritesFile(GroundTruthDataset):
    """DeepMind's ``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz`` (or a file of that format).

    The arrays ``imgs`` (uint8 {0,1}, [N, 64, 64]), ``latents_classes`` and ``latents_values``
    ([N, F]) are read without unpickling (the pickled ``metadata`` entry is ignored). Factor
    sizes come from ``latents_classes``; factors with one value (``color``) are dropped, and the
    file's ordering is checked against the mixed-radix index. The whole ``imgs`` array is held
    in memory (about 3 GB for the real file).
    """

    file_name = DSPRITES_FILENAME

    image_shape = (1, RESOLUTION, RESOLUTION)

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.name = "dsprites-file"
        try:
            with np.load(self.path, allow_pickle=False) as data:
                imgs = data["imgs"]
                classes = np.asarray(data["latents_classes"], dtype=np.int64)
                values = np.asarray(data["latents_values"], dtype=np.float64)
        except (OSError, ValueError, KeyError) as exc:
            raise GandirError(f"cannot read dSprites file {self.path}: {exc}") from exc
        if imgs.ndim != 3 or imgs.shape[1:] != (RESOLUTION, RESOLUTION):
            raise GandirError(f"{self.path}: 'imgs' must be [N, 64, 64], got {imgs.shape}")
        if classes.shape != values.shape or classes.shape[:1] != imgs.shape[:1]:
            raise GandirError(f"{self.path}: latents arrays do not match 'imgs'")
        sizes = classes.max(axis=0) + 1
        keep = np.flatnonzero(sizes > 1)
        names = (
            _FILE_FACTOR_NAMES
            if classes.shape[1] == len(_FILE_FACTOR_NAMES)
            else tuple(f"factor{k}" for k in range(classes.shape[1]))
        )
        self.factor_names = tuple(names[k] for k in keep)
        self.factor_sizes = tuple(int(sizes[k]) for k in keep)
        grid = []
        for k in keep:
            _, first = np.unique(classes[:, k], return_index=True)
            grid.append(values[first, k])
        super().__init__(grid)
        if len(self) != len(imgs) or not np.array_equal(
            classes[:, keep], self.classes_of(np.arange(len(imgs)))
        ):
            raise GandirError(
                f"{self.path}: images are not one per factor combination in index order"
            )
        self._imgs = imgs

    def render(self, classes: np.ndarray) -> np.ndarray:
        idx = self.index_of(classes)
        return self._imgs[idx][:, None].astype(np.float32)
