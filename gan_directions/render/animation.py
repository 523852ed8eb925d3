"""Traversal animations: ping-pong frame order, frame composition, GIF (imageio) and MP4 writers.

Every frame shows the tiles at one shift and a slider track with a marker at that shift, so a
viewer always knows where along the direction it is. Neighbouring frames of a ping-pong loop sit
at different shifts, which also keeps the GIF encoder from merging them: the files hold exactly
the frames composed here. (Pillow merges identical neighbours, adding their delays; that can only
happen for a direction that changes nothing, rendered without labels at more steps than the
slider has pixels.)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
from PIL import Image, ImageDraw

from gan_directions.errors import InvalidInputError
from gan_directions.fileio import atomic_path
from gan_directions.render.grid import clip_label
from gan_directions.render.images import (
    ACCENT_COLOR,
    BACKGROUND,
    TEXT_COLOR,
    TRACK_COLOR,
    as_rgb,
    font_size_for,
    label_font,
    pad_to_even,
    shift_label,
    text_size,
)

MAX_GIF_FPS = 50  # GIF delays are whole centiseconds; browsers slow down anything faster


def pingpong(n: int) -> list[int]:
    """Frame order of a seamless ping-pong loop: 0, 1, …, n-1, n-2, …, 1 (2n - 2 frames)."""
    if n < 1:
        raise ValueError("need at least one frame")
    return list(range(n)) + list(range(n - 2, 0, -1))


def check_fps(fps: float) -> float:
    if not 1 <= fps <= MAX_GIF_FPS:
        raise InvalidInputError(f"fps must be between 1 and {MAX_GIF_FPS}, got {fps}")
    return float(fps)


def compose_frames(
    tiles: np.ndarray,
    alphas: Sequence[float],
    max_shift: float,
    captions: Sequence[str] | None = None,
    title: str | None = None,
) -> list[np.ndarray]:
    """One RGB frame per shift from uint8 tiles [T, n, H, W, ch].

    The n tiles sit in a near-square grid (one row when n <= 4), each with its caption below
    when ``captions`` is given; a footer holds ``title``, the shift value and the slider.
    Without captions and title the footer keeps only the slider.
    """
    steps, count, height, width, _ = tiles.shape
    tiles = as_rgb(tiles)
    cols = count if count <= 4 else int(np.ceil(np.sqrt(count)))
    rows = int(np.ceil(count / cols))
    gap = max(2, width // 32)
    font = label_font(font_size_for(width))
    text_h = text_size("Ag", font)[1]
    caption_h = text_h + gap if captions is not None else 0
    show_text = title is not None or captions is not None
    track_h = max(6, width // 20)
    footer_h = (text_h + gap if show_text else 0) + track_h + 2 * gap
    frame_w = cols * (width + gap) + gap
    frame_h = rows * (height + caption_h + gap) + gap + footer_h

    base = Image.new("RGB", (frame_w, frame_h), (BACKGROUND,) * 3)
    draw = ImageDraw.Draw(base)
    positions = []
    for i in range(count):
        x = gap + (i % cols) * (width + gap)
        y = gap + (i // cols) * (height + caption_h + gap)
        positions.append((x, y))
        if captions is not None:
            draw.text(
                (x + width // 2, y + height + gap // 2),
                clip_label(captions[i], font, width),
                fill=TEXT_COLOR,
                font=font,
                anchor="mt",
            )
    footer_top = frame_h - footer_h + gap
    if title is not None:
        draw.text(
            (gap, footer_top),
            clip_label(title, font, frame_w // 2),
            fill=TEXT_COLOR,
            font=font,
            anchor="lt",
        )
    track_y = frame_h - gap - track_h // 2
    x0, x1 = gap + track_h, frame_w - gap - track_h
    draw.line([(x0, track_y), (x1, track_y)], fill=TRACK_COLOR, width=max(1, track_h // 3))
    draw.line(
        [((x0 + x1) // 2, track_y - track_h // 2), ((x0 + x1) // 2, track_y + track_h // 2)],
        fill=TRACK_COLOR,
        width=1,
    )

    frames = []
    for t in range(steps):
        frame = base.copy()
        for i, (x, y) in enumerate(positions):
            frame.paste(Image.fromarray(tiles[t, i]), (x, y))
        fdraw = ImageDraw.Draw(frame)
        position = 0.5 if max_shift <= 0 else (alphas[t] + max_shift) / (2 * max_shift)
        cx = x0 + position * (x1 - x0)
        radius = track_h / 2
        fdraw.ellipse(
            [cx - radius, track_y - radius, cx + radius, track_y + radius], fill=ACCENT_COLOR
        )
        if show_text:
            fdraw.text(
                (frame_w - gap, footer_top),
                f"shift {shift_label(alphas[t])}",
                fill=TEXT_COLOR,
                font=font,
                anchor="rt",
            )
        frames.append(pad_to_even(np.asarray(frame)))
    return frames


def write_gif(
    path: str | Path, frames: Sequence[np.ndarray], fps: float, loop: bool = True
) -> None:
    """Write RGB frames as an animated GIF, ``fps`` frames per second, looping forever or once.

    Each frame gets its own 256-colour palette from Pillow's fast octree quantizer (the
    median cut Pillow would use otherwise is ~50× slower on 256² tiles). Delays are stored in
    whole centiseconds, as the GIF format requires.
    """
    options = {"duration": round(1000 / check_fps(fps))}
    if loop:
        options["loop"] = 0  # NETSCAPE2.0 extension: repeat forever
    reduced = np.stack([_octree_colors(frame) for frame in frames])
    with atomic_path(path) as tmp:
        iio.imwrite(tmp, reduced, extension=".gif", plugin="pillow", **options)


def _octree_colors(frame: np.ndarray) -> np.ndarray:
    """``frame`` reduced to at most 256 colours (what a GIF frame can hold), still RGB."""
    image = Image.fromarray(frame).quantize(256, method=Image.Quantize.FASTOCTREE)
    return np.asarray(image.convert("RGB"))


def write_mp4(path: str | Path, frames: Sequence[np.ndarray], fps: float, crf: int = 18) -> None:
    """Write RGB frames of even size as H.264 MP4 through imageio-ffmpeg's bundled ffmpeg.

    ``crf`` is x264's constant rate factor (0 lossless … 51 worst; 18 looks lossless to most).
    """
    height, width = frames[0].shape[:2]
    with atomic_path(path) as tmp:
        writer = imageio_ffmpeg.write_frames(
            str(tmp),
            (width, height),
            fps=check_fps(fps),
            codec="libx264",
            pix_fmt_out="yuv420p",
            quality=None,
            macro_block_size=1,
            ffmpeg_log_level="error",
            output_params=["-crf", str(crf), "-movflags", "+faststart", "-f", "mp4"],
        )
        writer.send(None)
        for frame in frames:
            writer.send(np.ascontiguousarray(frame))
        writer.close()
