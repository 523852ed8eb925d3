"""Image helpers shared by grids, animations and the report: uint8 conversion, resizing, text.

Generators return float images [N, C, H, W] nominally in [-1, 1]; everything gandir writes goes
through ``to_uint8`` so that a given seed gives the same pixels in every output format.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

BACKGROUND = 255  # white canvas around tiles
TEXT_COLOR = (20, 20, 20)
ACCENT_COLOR = (214, 69, 65)
TRACK_COLOR = (190, 190, 190)
MISSING_GLYPH_PROBE = "\ue000"  # a private-use character: drawn as the missing-glyph box
LABEL_PROBE_SIZE = 16  # glyph coverage does not depend on the size
RASTER_SUBSTITUTES = {"≈": "~", "×": "x", "−": "-", "→": "->", "–": "-", "—": "-"}


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """Map images [N, C, H, W] in [-1, 1] to uint8 [N, H, W, C].

    The rule of NVIDIA's generate.py: ``clamp(x * 127.5 + 128, 0, 255)``, then truncate. Values
    outside [-1, 1] (StyleGAN2 does not clamp its output) saturate.
    """
    if images.ndim != 4:
        raise ValueError(f"expected images [N, C, H, W], got shape {tuple(images.shape)}")
    pixels = (images.detach().to(torch.float32) * 127.5 + 128).clamp(0, 255).to(torch.uint8)
    return pixels.permute(0, 2, 3, 1).cpu().numpy()


def to_pil(image: np.ndarray) -> Image.Image:
    """A uint8 [H, W, C] array (C = 1 or 3) as a Pillow image (``L`` or ``RGB``)."""
    if image.ndim == 3 and image.shape[2] == 1:
        return Image.fromarray(image[:, :, 0], mode="L")
    return Image.fromarray(image)


def as_rgb(image: np.ndarray) -> np.ndarray:
    """uint8 [..., H, W, C] with C = 1 or 3 as RGB (grey is repeated)."""
    return np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image


def resize_tiles(tiles: np.ndarray, size: int | None) -> np.ndarray:
    """Resize uint8 tiles [..., H, W, C] to ``size`` × ``size`` (None keeps them as they are).

    Lanczos filtering for both up- and downscaling; non-square tiles keep their aspect ratio,
    with ``size`` the longer side.
    """
    height, width = tiles.shape[-3:-1]
    if size is None or max(height, width) == size:
        return tiles
    scale = size / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    flat = tiles.reshape(-1, height, width, tiles.shape[-1])
    out = np.stack(
        [np.asarray(to_pil(t).resize((new_w, new_h), Image.Resampling.LANCZOS)) for t in flat]
    )
    return out.reshape(*tiles.shape[:-3], new_h, new_w, tiles.shape[-1])


@lru_cache(maxsize=16)
def label_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font at ``size`` pixels (no system fonts needed).

    It covers ASCII and a few symbols, not "≈" or accents: draw text through ``raster_text``.
    """
    return ImageFont.load_default(size=max(8, int(size)))


def glyph_mask(font, char: str) -> tuple[tuple[int, int], bytes]:
    """The size and pixels ``font`` draws for ``char``."""
    mask = font.getmask(char)
    return mask.size, bytes(mask)


def has_glyph(font, char: str) -> bool:
    """Whether ``font`` draws ``char`` as itself, not as its missing-glyph box (the drawing of
    a private-use character, which no font here has)."""
    return glyph_mask(font, char) != glyph_mask(font, MISSING_GLYPH_PROBE)


@lru_cache(maxsize=1024)
def _drawable(char: str) -> str:
    font = label_font(LABEL_PROBE_SIZE)
    if has_glyph(font, char):
        return char
    text = RASTER_SUBSTITUTES.get(char) or unicodedata.normalize("NFKD", char)
    text = "".join(c for c in text if not unicodedata.combining(c))  # é -> e
    return text if text and all(has_glyph(font, c) for c in text) else "?"


def raster_text(text: str) -> str:
    """``text`` as the label font can draw it: "≈" as "~", "é" as "e", and any other
    character it lacks as "?" (the HTML report keeps the original text)."""
    return "".join(_drawable(char) for char in text)


def font_size_for(tile: int) -> int:
    """A legible label size for tiles ``tile`` pixels wide: 11 px at 64², 16 px at 256²."""
    return int(np.clip(round(9 + tile / 36), 11, 28))


def text_size(text: str, font) -> tuple[int, int]:
    left, top, right, bottom = ImageDraw.Draw(Image.new("L", (1, 1))).textbbox((0, 0), text, font)
    return right - left, bottom - top


def shift_label(alpha: float) -> str:
    """``-1.5``, ``0``, ``+0.75``: signed, at most 3 significant digits."""
    return "0" if alpha == 0 else f"{alpha:+.3g}"


def pad_to_even(frame: np.ndarray) -> np.ndarray:
    """Pad uint8 [H, W, C] with the background colour so H and W are even (H.264 needs it)."""
    pad_h, pad_w = frame.shape[0] % 2, frame.shape[1] % 2
    if not (pad_h or pad_w):
        return frame
    return np.pad(frame, ((0, pad_h), (0, pad_w), (0, 0)), constant_values=BACKGROUND)
