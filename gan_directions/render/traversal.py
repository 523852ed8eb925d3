"""Latent traversals: move seeded samples along each direction and generate the images.

A traversal of direction k for seed s at shift alpha is the image of the edit of DESIGN.md,
applied in the direction's own space and layer range (``directions.edited_ws``), with alpha in
standard deviations of the latent along the direction (``DirectionSet.scales``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from gan_directions.directions import DirectionSet, edited_ws, seeded_z
from gan_directions.discovery.labels import sample_labels
from gan_directions.errors import InvalidInputError
from gan_directions.render.animation import check_fps
from gan_directions.render.images import to_uint8
from gan_directions.render.names import direction_labels
from gan_directions.render.outputs import FORMATS, write_traversal_files
from gan_directions.runs.output import check_output_dir, staged_output_dir


def traversal_alphas(steps: int, max_shift: float) -> np.ndarray:
    """``steps`` evenly spaced shifts in [-max_shift, max_shift] (standard deviations)."""
    if steps < 1:
        raise InvalidInputError(f"steps must be >= 1, got {steps}")
    if not (math.isfinite(max_shift) and max_shift >= 0):
        raise InvalidInputError(f"the shift range must be a finite number >= 0, got {max_shift}")
    return np.linspace(-max_shift, max_shift, steps, dtype=np.float32)


@torch.no_grad()
def traversal_images(
    generator,
    directions: DirectionSet,
    z: torch.Tensor,
    alphas: Sequence[float],
    *,
    indices: Sequence[int] | None = None,
    c: torch.Tensor | None = None,
    truncation_psi: float = 1.0,
    batch_size: int = 8,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Generate traversals of ``z`` [S, z_dim] along directions ``indices`` (default: all).

    Returns ``(frames, originals)``: uint8 [K, S, T, H, W, C] with T = len(alphas), and the
    unedited images [S, H, W, C]. A zero shift is the identity edit, so its frames are the
    originals themselves (generated once, not once per direction). The other latents go
    through ``synthesis`` in batches of ``batch_size`` (with a progress bar when ``progress``).
    """
    directions.check_fits(generator)
    indices = list(range(directions.k)) if indices is None else list(indices)
    device = generator.device
    z = z.to(device=device, dtype=torch.float32)
    c = None if c is None else c.to(device)
    alphas = np.asarray(alphas, dtype=np.float32)
    moving = np.flatnonzero(alphas != 0)
    seeds = z.shape[0]
    shifts = torch.as_tensor(alphas[moving], device=device).repeat(seeds)
    z_each = z.repeat_interleave(len(moving), 0)  # seed-major, then shift
    c_each = None if c is None else c.repeat_interleave(len(moving), 0)
    ws = [generator.mapping(z, c, truncation_psi=truncation_psi)]
    if len(moving):
        ws += [
            edited_ws(generator, z_each, directions, k, shifts, c_each, truncation_psi)
            for k in indices
        ]
    ws = torch.cat(ws)
    images = []
    with tqdm(total=len(ws), desc="generating", unit="img", disable=not progress) as bar:
        for start in range(0, len(ws), batch_size):
            batch = ws[start : start + batch_size]
            images.append(to_uint8(generator.synthesis(batch, noise_mode="const")))
            bar.update(len(batch))
    images = np.concatenate(images)
    originals = images[:seeds]
    frames = np.empty((len(indices), seeds, len(alphas), *images.shape[1:]), dtype=np.uint8)
    frames[:, :, alphas == 0] = originals[None, :, None]
    shape = (len(indices), seeds, len(moving), *images.shape[1:])
    frames[:, :, moving] = images[seeds:].reshape(shape)
    return frames, originals


def render_traversals(
    generator,
    directions: DirectionSet | str | os.PathLike,
    *,
    seeds: Sequence[int] = (0, 1, 2, 3),
    steps: int = 9,
    max_shift: float = 3.0,
    truncation_psi: float = 1.0,
    out_dir: str | os.PathLike | None = None,
    indices: Sequence[int] | None = None,
    class_index: int | None = None,
    names: Mapping[int, str] | Sequence[str] | None = None,
    formats: Sequence[str] = FORMATS,
    fps: float = 10.0,
    size: int | None = None,
    labels: bool = True,
    original: bool = True,
    loop: bool = True,
    batch_size: int = 8,
    overwrite: bool = False,
    inputs: Sequence[str | os.PathLike] = (),
    progress: bool = True,
) -> np.ndarray:
    """Render traversals of ``directions`` for ``seeds``; return uint8 [K, n_seeds, steps, H, W, C].

    Shifts are ``steps`` points evenly spaced in ``[-max_shift, max_shift]`` standard
    deviations. When ``out_dir`` is given, grids, GIFs and MP4s (``formats``) and a
    ``render.json`` are written there (see ``outputs``); a non-empty ``out_dir`` is replaced
    only with ``overwrite`` (see ``runs.output``: never a folder holding one of ``inputs``),
    and a failure leaves it untouched.

    ``indices`` picks directions (default: all), ``class_index`` the class of a conditional
    model (default 0), ``names`` overrides the stored direction names in labels; ``fps``,
    ``size`` (tile pixels), ``labels``, ``original`` (add the unedited column to grids) and
    ``loop`` (GIFs repeat forever) shape the files.
    """
    if not isinstance(directions, DirectionSet):
        directions = DirectionSet.load(directions)
    directions.check_fits(generator)
    indices = list(range(directions.k)) if indices is None else [int(i) for i in indices]
    if not indices or min(indices) < 0 or max(indices) >= directions.k:
        raise InvalidInputError(f"direction indices must be in 0-{directions.k - 1}, got {indices}")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise InvalidInputError("give at least one seed")
    alphas = traversal_alphas(steps, max_shift)
    if batch_size < 1:
        raise InvalidInputError(f"batch size must be >= 1, got {batch_size}")
    if out_dir is not None:
        _check_file_options(formats, fps, size, steps, max_shift)
        check_output_dir(out_dir, overwrite, inputs, kind="render")

    z = seeded_z(seeds, generator.z_dim)
    if class_index is None and generator.c_dim:
        class_index = 0  # traversals of a conditional model show class 0 unless told
    c = sample_labels(generator, len(seeds), class_index)
    frames, originals = traversal_images(
        generator,
        directions,
        z,
        alphas,
        indices=indices,
        c=c,
        truncation_psi=truncation_psi,
        batch_size=batch_size,
        progress=progress,
    )
    if out_dir is not None:
        settings = {
            "model": generator.name,
            "space": directions.space,
            "layers": list(directions.layers) if directions.layers is not None else None,
            "steps": int(steps),
            "max_shift": float(max_shift),
            "truncation_psi": float(truncation_psi),
            "class_index": None if c is None else int(class_index or 0),
            "fps": float(fps),
            "size": size,
            "loop": bool(loop),
        }
        with staged_output_dir(Path(out_dir), overwrite=overwrite, inputs=inputs,
                               kind="render") as stage:
            write_traversal_files(
                stage,
                frames,
                originals,
                alphas,
                indices=indices,
                labels=direction_labels(indices, directions.names, names),
                seeds=seeds,
                formats=formats,
                fps=fps,
                size=size,
                show_labels=labels,
                original=original,
                loop=loop,
                settings=settings,
                progress=progress,
            )
    return frames


def _check_file_options(
    formats: Sequence[str], fps: float, size: int | None, steps: int, max_shift: float
) -> None:
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or not formats:
        raise InvalidInputError(
            f"unknown output format(s) {', '.join(unknown) or '(none)'}; choose from "
            f"{', '.join(FORMATS)}"
        )
    check_fps(fps)
    if size is not None and not 8 <= size <= 4096:
        raise InvalidInputError(f"tile size must be between 8 and 4096 pixels, got {size}")
    if {"gif", "mp4"} & set(formats) and steps > 1 and max_shift == 0:
        raise InvalidInputError("animations need a shift range > 0")
