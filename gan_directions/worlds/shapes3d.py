"""3D Shapes: a procedural "3D-Shapes-like" ray caster, and a loader for DeepMind's ``3dshapes.h5``.

Factor grid and order as in the real file (values from tensorflow/datasets' shapes3d test data),
orientation varying fastest, 10*10*10*8*4*15 = 480,000 combinations:

- floor_hue, wall_hue, object_hue: 10 each, 0.0, 0.1, ..., 0.9 (colour = HSV(h, 1, 1));
- scale: 8, linspace(0.75, 1.25, 8) (multiplies the object size);
- shape: 4 (cube, cylinder, sphere, capsule), values 0..3;
- orientation: 15, linspace(-30, 30, 15) degrees: the azimuth of a camera orbiting the object
  and looking at it (the real data's "view-azi"), not a rotation of the object.

The scene (chosen here; DeepMind's MuJoCo scene constants are unpublished): a 7x7-unit square
room (floor y = 0, four walls, no ceiling), the object standing at the centre, the camera at
radius 3 and height 1.6 aimed at (0, 0.5, 0) with a 50 degree vertical field of view, and
Lambertian shading from one directional light plus ambient, without shadows. Images are 64x64
RGB in [0, 1], one ray per pixel. Scores on it are not comparable with published 3D Shapes
numbers.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from gan_directions.errors import GandirError
from gan_directions.worlds.grid import GroundTruthDataset

SHAPES3D_FILENAME = "3dshapes.h5"
SHAPES3D_URL = "https://storage.googleapis.com/3d-shapes/3dshapes.h5"
FACTOR_NAMES = ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
FACTOR_SIZES = (10, 10, 10, 8, 4, 15)
SHAPE_NAMES = ("cube", "cylinder", "sphere", "capsule")

RESOLUTION = 64
_ROOM_HALF = 3.5
_CAMERA_RADIUS = 3.2
_CAMERA_HEIGHT = 1.4
_TARGET = np.array([0.0, 0.6, 0.0])
_FOV_DEG = 50.0
_OBJECT_SIZE = 0.4  # half-extent of the object at scale 1
_LIGHT = np.array([-0.5, 1.0, 0.7]) / np.linalg.norm([-0.5, 1.0, 0.7])
_AMBIENT = 0.45


def shapes3d_value_grid() -> list[np.ndarray]:
    """The real file's label values per factor, in factor order."""
    hues = np.round(np.arange(10) * 0.1, 10)
    return [
        hues,
        hues,
        hues,
        np.linspace(0.75, 1.25, 8),
        np.arange(4, dtype=np.float64),
        np.linspace(-30.0, 30.0, 15),
    ]


def hsv_to_rgb(hue) -> torch.Tensor:
    """Fully saturated, full-value colours float64 [..., 3] for float32 hues in [0, 1)."""
    hue = torch.as_tensor(hue, dtype=torch.float32)
    offsets = torch.tensor([5.0, 3.0, 1.0], dtype=torch.float64, device=hue.device)
    k = ((hue[..., None] * 6.0).double() + offsets) % 6.0
    return 1.0 - torch.minimum(k, 4.0 - k).clamp(0.0, 1.0)


def _camera_rays(azimuth_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ray origins [N, 3] and unit directions [N, P, 3] (P = 64*64, row-major from the top)."""
    phi = np.deg2rad(azimuth_deg)
    origin = np.stack(
        [
            _CAMERA_RADIUS * np.sin(phi),
            np.full_like(phi, _CAMERA_HEIGHT),
            _CAMERA_RADIUS * np.cos(phi),
        ],
        axis=1,
    )
    forward = _TARGET - origin
    forward /= np.linalg.norm(forward, axis=1, keepdims=True)
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right, axis=1, keepdims=True)
    up = np.cross(right, forward)
    half = np.tan(np.deg2rad(_FOV_DEG) / 2)
    coords = (np.arange(RESOLUTION) + 0.5) / RESOLUTION * 2 - 1
    sx, sy = np.meshgrid(coords * half, -coords * half)  # image x right, y up
    dirs = (
        forward[:, None]
        + sx.reshape(1, -1, 1) * right[:, None]
        + sy.reshape(1, -1, 1) * up[:, None]
    )
    return origin, dirs / np.linalg.norm(dirs, axis=2, keepdims=True)


def _room_hit(origin: np.ndarray, dirs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance [N, P] to the room's inner surface and which surface: 0 floor, 1-4 walls."""
    candidates = []
    with np.errstate(divide="ignore", invalid="ignore"):
        candidates.append(-origin[:, None, 1] / dirs[..., 1])  # floor y = 0
        for axis in (0, 2):
            for side in (-_ROOM_HALF, _ROOM_HALF):
                candidates.append((side - origin[:, None, axis]) / dirs[..., axis])
    t = np.stack(candidates)
    t = np.where(t > 1e-6, t, np.inf)
    which = np.argmin(t, axis=0)
    return np.take_along_axis(t, which[None], 0)[0], which


def _sphere_hit(o, d, centre, radius):
    """Nearest positive hit of rays o + t d [M, 3] with spheres (centre [M, 3], radius [M])."""
    oc = o - centre
    b = np.einsum("ij,ij->i", oc, d)
    c = np.einsum("ij,ij->i", oc, oc) - radius**2
    disc = b * b - c
    root = np.sqrt(np.maximum(disc, 0.0))
    t = np.where(-b - root > 1e-6, -b - root, -b + root)
    t = np.where((disc >= 0) & (t > 1e-6), t, np.inf)
    normal = o + np.where(np.isfinite(t), t, 0.0)[:, None] * d - centre
    return t, normal


def _cylinder_side_hit(o, d, axis, radius, lo, hi):
    """Side of a cylinder along ``axis`` through the origin's axis line, clipped to [lo, hi]."""
    plane = [i for i in range(3) if i != axis]
    op, dp = o[:, plane], d[:, plane]
    a = np.einsum("ij,ij->i", dp, dp)
    b = np.einsum("ij,ij->i", op, dp)
    c = np.einsum("ij,ij->i", op, op) - radius**2
    disc = b * b - a * c
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (-b - np.sqrt(np.maximum(disc, 0.0))) / a
    along = o[:, axis] + t * d[:, axis]
    ok = (disc >= 0) & (a > 1e-12) & (t > 1e-6) & (along >= lo) & (along <= hi)
    t = np.where(ok, t, np.inf)
    normal = o + np.where(np.isfinite(t), t, 0.0)[:, None] * d
    normal[:, axis] = 0.0
    return t, normal


def _box_hit(o, d, centre, half):
    """Axis-aligned box (slab method)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (centre - half[:, None] - o) / d
        t2 = (centre + half[:, None] - o) / d
    near = np.nanmax(np.minimum(t1, t2), axis=1)
    far = np.nanmin(np.maximum(t1, t2), axis=1)
    t = np.where((near <= far) & (near > 1e-6), near, np.inf)
    p = o + np.where(np.isfinite(t), t, 0.0)[:, None] * d - centre
    face = np.argmax(np.abs(p) / half[:, None], axis=1)
    normal = np.zeros_like(p)
    normal[np.arange(len(p)), face] = np.sign(p[np.arange(len(p)), face])
    return t, normal


def _nearest(*hits):
    ts = np.stack([t for t, _ in hits])
    which = np.argmin(ts, axis=0)
    normals = np.stack([n for _, n in hits])
    return ts[which, np.arange(ts.shape[1])], normals[which, np.arange(ts.shape[1])]


def _object_hit(o, d, shape: int, size: np.ndarray):
    """Hits [M] and normals [M, 3] of rays with one object kind of half-size ``size`` [M]."""
    zero = np.zeros_like(o)
    if shape == 0:  # cube standing on the floor
        centre = zero + np.stack([0 * size, size, 0 * size], 1)
        return _box_hit(o, d, centre, size)
    if shape == 1:  # vertical cylinder with flat caps
        side = _cylinder_side_hit(o, d, 1, size, 0.0, 2 * size)
        with np.errstate(divide="ignore", invalid="ignore"):
            t_cap = (2 * size - o[:, 1]) / d[:, 1]
        p = o + np.where(np.isfinite(t_cap), t_cap, 0.0)[:, None] * d
        on_cap = (t_cap > 1e-6) & (p[:, 0] ** 2 + p[:, 2] ** 2 <= size**2)
        cap = (np.where(on_cap, t_cap, np.inf), np.tile([0.0, 1.0, 0.0], (len(o), 1)))
        return _nearest(side, cap)
    if shape == 2:  # sphere resting on the floor
        return _sphere_hit(o, d, zero + np.stack([0 * size, size, 0 * size], 1), size)
    # capsule lying along x: a cylinder body and two spherical ends
    radius = 0.6 * size
    length = 0.9 * size
    centre_y = np.stack([0 * size, radius, 0 * size], 1)
    shifted = o - centre_y
    body = _cylinder_side_hit(shifted, d, 0, radius, -length, length)
    ends = [
        _sphere_hit(o, d, centre_y + np.stack([s * length, 0 * size, 0 * size], 1), radius)
        for s in (-1.0, 1.0)
    ]
    return _nearest(body, *ends)


def scene_geometry(
    scale: np.ndarray, shape: np.ndarray, azimuth_deg: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Colour-free scene layout per pixel, each [N, 64*64]: ``(is_floor, room_shade,
    is_object, object_shade)``; shades are Lambert factors in [ambient, 1]."""
    origin, dirs = _camera_rays(np.asarray(azimuth_deg, np.float64))
    t_room, surface = _room_hit(origin, dirs)
    room_normals = np.array(
        [[0, 1, 0], [1, 0, 0], [-1, 0, 0], [0, 0, 1], [0, 0, -1]], dtype=np.float64
    )
    room_shade = (_AMBIENT + (1 - _AMBIENT) * np.clip(room_normals @ _LIGHT, 0, None))[surface]
    pixels = dirs.shape[1]
    size = np.asarray(scale, np.float64) * _OBJECT_SIZE
    is_object = np.zeros(t_room.shape, dtype=bool)
    object_shade = np.zeros(t_room.shape)
    shape = np.asarray(shape)
    for kind in range(len(SHAPE_NAMES)):
        rows = np.flatnonzero(shape == kind)
        if not rows.size:
            continue
        o = np.repeat(origin[rows], pixels, axis=0)
        d = dirs[rows].reshape(-1, 3)
        t, normal = _object_hit(o, d, kind, np.repeat(size[rows], pixels))
        t, normal = t.reshape(len(rows), pixels), normal.reshape(len(rows), pixels, 3)
        normal /= np.maximum(np.linalg.norm(normal, axis=2, keepdims=True), 1e-12)
        is_object[rows] = t < t_room[rows]
        object_shade[rows] = _AMBIENT + (1 - _AMBIENT) * np.clip(normal @ _LIGHT, 0, None)
    return surface == 0, room_shade, is_object, object_shade


def colour_scenes(geometry, floor_hue, wall_hue, object_hue) -> torch.Tensor:
    """Paint ``scene_geometry`` output (arrays or tensors, on any one device) with HSV(h, 1, 1)
    colours: float32 [N, 3, 64, 64] on the geometry's device. Shading is applied in float64,
    so the images are the same bit for bit on every device."""
    is_floor, room_shade, is_object, object_shade = (torch.as_tensor(g) for g in geometry)
    device = is_floor.device
    floor_rgb, wall_rgb, object_rgb = (hsv_to_rgb(torch.as_tensor(h).to(device))[:, None]
                                       for h in (floor_hue, wall_hue, object_hue))
    background = torch.where(is_floor[..., None], floor_rgb, wall_rgb) * room_shade[..., None]
    rgb = torch.where(is_object[..., None], object_rgb * object_shade[..., None], background)
    return rgb.reshape(len(rgb), RESOLUTION, RESOLUTION, 3).permute(0, 3, 1, 2).float().contiguous()


def render_scenes(
    floor_hue: np.ndarray,
    wall_hue: np.ndarray,
    object_hue: np.ndarray,
    scale: np.ndarray,
    shape: np.ndarray,
    azimuth_deg: np.ndarray,
) -> np.ndarray:
    """RGB images float32 [N, 3, 64, 64] in [0, 1] from factor values (shape as 0..3)."""
    geometry = scene_geometry(scale, shape, azimuth_deg)
    return colour_scenes(geometry, floor_hue, wall_hue, object_hue).numpy()


class ProceduralShapes3D(GroundTruthDataset):
    """3D-Shapes-like scenes ray-cast on demand: see the module docstring."""

    name = "shapes3d"
    factor_names = FACTOR_NAMES
    factor_sizes = FACTOR_SIZES
    image_shape = (3, RESOLUTION, RESOLUTION)
    shape_names = SHAPE_NAMES

    def __init__(self):
        super().__init__(shapes3d_value_grid())
        self._geometry: dict[torch.device, tuple[torch.Tensor, ...]] = {}

    def _geometry_table(self, device: torch.device) -> tuple[torch.Tensor, ...]:
        """Ray-cast layouts of all 8*4*15 (scale, shape, orientation) views, cast once (~1 s)
        and copied once to each device asked for."""
        if not self._geometry:
            grid = np.stack(
                np.meshgrid(*(np.arange(s) for s in FACTOR_SIZES[3:]), indexing="ij"), -1
            ).reshape(-1, 3)
            values = self.factor_values(np.concatenate([np.zeros((len(grid), 3), int), grid], 1))
            parts = [
                scene_geometry(values[i : i + 64, 3], grid[i : i + 64, 1], values[i : i + 64, 5])
                for i in range(0, len(grid), 64)
            ]
            self._geometry[torch.device("cpu")] = tuple(
                torch.from_numpy(np.concatenate([p[j] for p in parts]).astype(
                    np.float32 if j % 2 else bool))
                for j in range(4)
            )
        if device not in self._geometry:
            cpu = self._geometry[torch.device("cpu")]
            self._geometry[device] = tuple(table.to(device) for table in cpu)
        return self._geometry[device]

    def render_tensor(self, classes: np.ndarray, device: str | torch.device = "cpu"
                      ) -> torch.Tensor:
        """Images float32 [N, 3, 64, 64] in [0, 1] of factor classes, coloured on ``device``."""
        classes = self.check_classes(classes)
        device = torch.device(device)
        v = self.factor_values(classes)
        view = torch.from_numpy(np.ravel_multi_index(tuple(classes[:, 3:].T), FACTOR_SIZES[3:]))
        geometry = tuple(table[view.to(device)] for table in self._geometry_table(device))
        return colour_scenes(geometry, *(torch.from_numpy(v[:, k]) for k in range(3)))

    def render(self, classes: np.ndarray) -> np.ndarray:
        return self.render_tensor(classes).numpy()


class Shapes3DFile(GroundTruthDataset):
    """DeepMind's ``3dshapes.h5`` (or a file of that format), read lazily with h5py.

    ``images`` is uint8 [N, 64, 64, 3] and ``labels`` float [N, 6] holds factor *values*;
    classes are the ranks of each column's distinct values, and the file's ordering is checked
    against the mixed-radix index (orientation fastest). Only the labels are held in memory;
    images are read per batch (sorted, de-duplicated reads, as h5py requires).
    """

    file_name = SHAPES3D_FILENAME

    image_shape = (3, RESOLUTION, RESOLUTION)

    def __init__(self, path: str | os.PathLike):
        import h5py

        self.path = Path(path)
        self.name = "shapes3d-file"
        try:
            self._file = h5py.File(self.path, "r")
            self._images = self._file["images"]
            labels = np.asarray(self._file["labels"][()], dtype=np.float64)
        except (OSError, KeyError) as exc:
            raise GandirError(f"cannot read 3D Shapes file {self.path}: {exc}") from exc
        if self._images.ndim != 4 or self._images.shape[1:] != (RESOLUTION, RESOLUTION, 3):
            raise GandirError(f"{self.path}: 'images' must be [N, 64, 64, 3]")
        if labels.ndim != 2 or labels.shape[0] != self._images.shape[0]:
            raise GandirError(f"{self.path}: 'labels' does not match 'images'")
        rounded = np.round(labels, 6)
        grid, classes = [], []
        for k in range(labels.shape[1]):
            values, inverse = np.unique(rounded[:, k], return_inverse=True)
            grid.append(values)
            classes.append(inverse.reshape(-1))
        classes = np.stack(classes, axis=1)
        self.factor_sizes = tuple(len(v) for v in grid)
        self.factor_names = (
            FACTOR_NAMES
            if labels.shape[1] == len(FACTOR_NAMES)
            else tuple(f"factor{k}" for k in range(labels.shape[1]))
        )
        super().__init__(grid)
        if len(self) != len(labels) or not np.array_equal(
            classes, self.classes_of(np.arange(len(labels)))
        ):
            raise GandirError(
                f"{self.path}: images are not one per factor combination in index order"
            )

    def render(self, classes: np.ndarray) -> np.ndarray:
        idx = self.index_of(classes)
        unique, inverse = np.unique(idx, return_inverse=True)
        batch = self._images[unique][inverse.reshape(-1)]
        return np.ascontiguousarray(batch.transpose(0, 3, 1, 2), dtype=np.float32) / 255.0
