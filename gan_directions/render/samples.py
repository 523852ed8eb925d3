"""Images for seeds: ``generate_images`` (z as NVIDIA's scripts draw it) and ``image_grid``."""

from __future__ import annotations

import math

import numpy as np
import torch
from tqdm import tqdm

from gan_directions.directions import seeded_z
from gan_directions.discovery.labels import sample_labels
from gan_directions.errors import InvalidInputError
from gan_directions.generators.base import Generator
from gan_directions.render.images import to_uint8

NOISE_MODES = ("const", "random", "none")


def image_grid(images: np.ndarray, columns: int | None = None) -> np.ndarray:
    """Tile uint8 [N, H, W, C] images row by row into one [rows·H, columns·W, C] image."""
    n, h, w, c = images.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    grid = np.zeros([rows * h, columns * w, c], dtype=np.uint8)
    for index, image in enumerate(images):
        row, col = divmod(index, columns)
        grid[row * h:(row + 1) * h, col * w:(col + 1) * w] = image
    return grid


@torch.no_grad()
def generate_images(generator: Generator, seeds: list[int], truncation_psi: float = 1.0,
                    truncation_cutoff: int | None = None, class_index: int | None = None,
                    noise_mode: str = "const", batch: int = 8,
                    progress: bool | None = None) -> np.ndarray:
    """uint8 [len(seeds), H, W, C] images; z follows ``RandomState(seed).randn(z_dim)``.

    With ``noise_mode='random'`` the noise of each image is drawn after
    ``torch.manual_seed(seed)``, so results are reproducible per seed.
    """
    if noise_mode not in NOISE_MODES:
        raise InvalidInputError(f"noise mode must be one of {', '.join(NOISE_MODES)}")
    if batch < 1:
        raise InvalidInputError("--batch must be at least 1")
    if generator.c_dim and class_index is None:
        raise InvalidInputError(
            f"this model is conditional: pass --class 0..{generator.c_dim - 1}")
    device = generator.device
    step = 1 if noise_mode == "random" else batch
    chunks = [seeds[i:i + step] for i in range(0, len(seeds), step)]
    out = []
    disable = True if progress is False else None  # None: only on a terminal
    for chunk in tqdm(chunks, desc="generate", unit="batch", disable=disable):
        z = seeded_z(chunk, generator.z_dim).to(device)
        c = sample_labels(generator, len(chunk), class_index)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(chunk[0])
            images = generator(z, c, truncation_psi=truncation_psi,
                               truncation_cutoff=truncation_cutoff, noise_mode=noise_mode)
        out.append(to_uint8(images))
    return np.concatenate(out)
