"""Write rendered traversals to a folder: grids (PNG), animations (GIF, MP4) and ``render.json``.

Layout of the folder (``dNN`` is the direction's index in the directions file)::

    overview.png      one row per direction (first seed), columns = shifts
    dNN_grid.png      one row per seed
    dNN.gif, dNN.mp4  the seeds side by side, ping-pong over the shifts
    all.gif, all.mp4  every direction at once (first seed; the first 25 directions at most)
    render.json       settings and the file of each direction, read by the HTML report
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from gan_directions.fileio import atomic_write_text
from gan_directions.render.animation import compose_frames, pingpong, write_gif, write_mp4
from gan_directions.render.grid import save_png, traversal_grid
from gan_directions.render.images import resize_tiles
from gan_directions.runs.layout import RENDER_MANIFEST

FORMATS = ("png", "gif", "mp4")
MANIFEST = RENDER_MANIFEST
MAX_COMBINED = 25  # tiles in the combined animation


def write_traversal_files(
    out_dir: str | Path,
    frames: np.ndarray,
    originals: np.ndarray,
    alphas: Sequence[float],
    *,
    indices: Sequence[int],
    labels: Sequence[str],
    seeds: Sequence[int],
    formats: Sequence[str] = FORMATS,
    fps: float = 10.0,
    size: int | None = None,
    show_labels: bool = True,
    original: bool = True,
    loop: bool = True,
    settings: dict | None = None,
    progress: bool = False,
) -> dict:
    """Write the files of rendered traversals into ``out_dir``; return the manifest.

    ``frames`` uint8 [K, S, T, H, W, C] for directions ``indices`` (labelled ``labels``),
    seeds ``seeds`` and shifts ``alphas``; ``originals`` [S, H, W, C] the unedited images.
    ``size`` resizes every tile to size × size; ``settings`` goes into the manifest as is.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    frames = resize_tiles(frames, size)
    originals = resize_tiles(originals, size)
    alphas = [float(a) for a in alphas]
    max_shift = max((abs(a) for a in alphas), default=0.0)
    seed_labels = [f"seed {s}" for s in seeds]
    order = pingpong(len(alphas))
    width = max(2, len(str(max(indices))))
    manifest: dict = {
        "settings": dict(settings or {}),
        "seeds": [int(s) for s in seeds],
        "alphas": alphas,
        "formats": list(formats),
        "overview": None,
        "combined": {},
        "directions": [],
    }

    jobs = len(indices) * len(formats) + len(formats)
    with tqdm(total=jobs, desc="writing", unit="file", disable=not progress) as bar:
        for k, (index, label) in enumerate(zip(indices, labels, strict=True)):
            stem = f"d{index:0{width}d}"
            entry = {"index": int(index), "label": label}
            if "png" in formats:
                image = traversal_grid(frames[k], alphas, seed_labels,
                                       originals if original else None, labels=show_labels)
                save_png(image, out_dir / f"{stem}_grid.png")
                entry["grid"] = f"{stem}_grid.png"
                bar.update()
            if "gif" in formats or "mp4" in formats:
                composed = compose_frames(
                    frames[k].transpose(1, 0, 2, 3, 4),
                    alphas,
                    max_shift,
                    captions=seed_labels if show_labels else None,
                    title=label if show_labels else None,
                )
                ordered = [composed[i] for i in order]
                for fmt, writer in (("gif", _gif_writer(loop)), ("mp4", write_mp4)):
                    if fmt in formats:
                        writer(out_dir / f"{stem}.{fmt}", ordered, fps)
                        entry[fmt] = f"{stem}.{fmt}"
                        bar.update()
            manifest["directions"].append(entry)

        if "png" in formats:
            overview = traversal_grid(
                frames[:, 0],
                alphas,
                labels,
                originals[:1].repeat(len(indices), 0) if original else None,
                labels=show_labels,
            )
            save_png(overview, out_dir / "overview.png")
            manifest["overview"] = "overview.png"
            bar.update()
        if "gif" in formats or "mp4" in formats:
            shown = min(len(indices), MAX_COMBINED)
            composed = compose_frames(
                frames[:shown, 0].transpose(1, 0, 2, 3, 4),
                alphas,
                max_shift,
                captions=list(labels[:shown]) if show_labels else None,
                title=seed_labels[0] if show_labels else None,
            )
            ordered = [composed[i] for i in order]
            for fmt, writer in (("gif", _gif_writer(loop)), ("mp4", write_mp4)):
                if fmt in formats:
                    writer(out_dir / f"all.{fmt}", ordered, fps)
                    manifest["combined"][fmt] = f"all.{fmt}"
                    manifest["combined_count"] = shown
                    bar.update()
    atomic_write_text(out_dir / MANIFEST, json.dumps(manifest, indent=1) + "\n")
    return manifest


def _gif_writer(loop: bool):
    return lambda path, frames, fps: write_gif(path, frames, fps, loop=loop)
