"""The resolution a direction search renders at: the policy behind ``--search-res``.

StyleGAN2's skip architecture adds each block's toRGB output into a running image, so the image
after block b{R} is a complete R×R rendering of the same ws (Karras et al. 2020, Fig. 7b; the
``intermediate_rgb`` capability). Searches may render at R and score at full resolution.
Generators without the capability always render at full resolution.
"""

from __future__ import annotations

import math

import torch

from gan_directions.generators.capabilities import intermediate_rgb, partial_resolutions

DEFAULT_SEARCH_RES = 64


def last_ws_read(resolution: int) -> int:
    """The last ws entry that StyleGAN2 blocks up to b{resolution} read: the toRGB's of that
    block (ws 1 for b4, 2·log2(R) − 3 after)."""
    return max(1, 2 * int(math.log2(resolution)) - 3)


def search_resolution(generator, requested: int | None, first_layer: int = 0) -> int:
    """The smallest resolution the model can stop at that is at least ``requested`` (None =
    full) and whose blocks read ws entry ``first_layer``, so that edits of the layer range
    stay visible."""
    full = generator.img_resolution
    target = full if requested is None else min(int(requested), full)
    for resolution in sorted(partial_resolutions(generator)):
        if resolution >= target and (resolution == full
                                     or last_ws_read(resolution) >= first_layer):
            return resolution
    return full


def synthesize(generator, ws: torch.Tensor, resolution: int | None = None,
               noise_mode: str = "const") -> torch.Tensor:
    """Images of ``ws`` at ``resolution`` (None: full size, the ordinary synthesis)."""
    if resolution is None:
        resolution = generator.img_resolution
    return intermediate_rgb(generator, ws, resolution, noise_mode=noise_mode)
