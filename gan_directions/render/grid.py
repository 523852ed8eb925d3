"""Traversal grids: tiles in rows and columns, with optional row and column labels, as PNG."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from gan_directions.fileio import atomic_path
from gan_directions.render.images import (
    BACKGROUND,
    TEXT_COLOR,
    font_size_for,
    label_font,
    raster_text,
    shift_label,
    text_size,
)

MAX_LABEL_CHARS = 28


def clip_label(text: str, font=None, max_width: int | None = None) -> str:
    """``text`` as the label font draws it (``raster_text``: "≈" as "~"), shortened to at most
    28 characters (and ``max_width`` pixels), ending in "…"."""
    text = raster_text(text)
    if len(text) > MAX_LABEL_CHARS:
        text = text[: MAX_LABEL_CHARS - 1] + "…"
    while max_width is not None and len(text) > 1 and text_size(text, font)[0] > max_width:
        text = text.rstrip("…")[:-1] + "…"
    return text


def image_grid(
    tiles: np.ndarray,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    gap: int = 2,
    wide_gap_after: int | None = None,
) -> Image.Image:
    """Lay out uint8 tiles [R, C, H, W, ch] on a white canvas.

    Row labels go in a left margin, column labels in a header. ``wide_gap_after`` widens the gap
    after that column (it sets the original-image column apart from the traversal).
    """
    if tiles.ndim != 5 or tiles.dtype != np.uint8:
        raise ValueError(f"expected uint8 tiles [R, C, H, W, ch], got {tiles.dtype} {tiles.shape}")
    rows, cols, height, width, channels = tiles.shape
    mode = "L" if channels == 1 else "RGB"
    color = TEXT_COLOR[0] if mode == "L" else TEXT_COLOR
    font = label_font(font_size_for(width))
    row_labels = [clip_label(t) for t in row_labels] if row_labels is not None else None
    col_labels = (
        [clip_label(t, font, width) for t in col_labels] if col_labels is not None else None
    )

    left = 0
    if row_labels:
        left = max(text_size(t, font)[0] for t in row_labels) + 3 * gap
    top = 0
    if col_labels:
        top = max(text_size(t, font)[1] for t in [*col_labels, "Ag"]) + 3 * gap
    gaps = [gap] * cols
    if wide_gap_after is not None and wide_gap_after + 1 < cols:
        gaps[wide_gap_after + 1] = 4 * gap
    xs = left + np.cumsum(gaps) + np.arange(cols) * width
    ys = top + gap + np.arange(rows) * (height + gap)
    size = (int(xs[-1]) + width + gap, int(ys[-1]) + height + gap)
    canvas = Image.new(mode, size, BACKGROUND if mode == "L" else (BACKGROUND,) * 3)
    for r in range(rows):
        for c in range(cols):
            tile = tiles[r, c, :, :, 0] if channels == 1 else tiles[r, c]
            canvas.paste(Image.fromarray(tile, mode=mode), (int(xs[c]), int(ys[r])))
    draw = ImageDraw.Draw(canvas)
    for r, text in enumerate(row_labels or []):
        draw.text((gap, int(ys[r]) + height // 2), text, fill=color, font=font, anchor="lm")
    for c, text in enumerate(col_labels or []):
        draw.text((int(xs[c]) + width // 2, top // 2 + 1), text, fill=color, font=font, anchor="mm")
    return canvas


def traversal_grid(
    frames: np.ndarray,
    alphas: Sequence[float],
    row_labels: Sequence[str] | None = None,
    originals: np.ndarray | None = None,
    labels: bool = True,
) -> Image.Image:
    """A traversal grid: rows of frames [R, T, H, W, ch] at shifts ``alphas`` (columns).

    ``originals`` [R, H, W, ch] adds a first column with the unedited images.
    """
    columns = [shift_label(a) for a in alphas]
    if originals is not None:
        frames = np.concatenate([originals[:, None], frames], axis=1)
        columns = ["original", *columns]
    return image_grid(
        frames,
        row_labels=row_labels if labels else None,
        col_labels=columns if labels else None,
        wide_gap_after=0 if originals is not None else None,
    )


def save_png(image: Image.Image, path: str | Path) -> None:
    """Write ``image`` as PNG atomically."""
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG", optimize=False)
