"""``gandir generate``: images for seeds, one PNG per seed plus a grid."""

from __future__ import annotations

import json
import math
from pathlib import Path

import click
import numpy as np
import torch
from tqdm import tqdm

from gan_directions import __version__
from gan_directions.directions import parse_seeds, seeded_z
from gan_directions.errors import InvalidInputError
from gan_directions.fileio import check_output_dir, staged_output_dir
from gan_directions.generators.base import Generator
from gan_directions.render.grid import save_png
from gan_directions.render.images import to_pil, to_uint8

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


def class_label(generator: Generator, class_index: int | None, n: int) -> torch.Tensor | None:
    """One-hot labels for a conditional model; ``None`` for an unconditional one."""
    if generator.c_dim == 0:
        if class_index is not None:
            raise InvalidInputError("--class is only for conditional models; this one has none")
        return None
    if class_index is None:
        raise InvalidInputError(
            f"this model is conditional: pass --class 0..{generator.c_dim - 1}")
    if not 0 <= class_index < generator.c_dim:
        raise InvalidInputError(f"--class must be in 0..{generator.c_dim - 1}, got {class_index}")
    c = torch.zeros([n, generator.c_dim])
    c[:, class_index] = 1
    return c


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
    device = generator.device
    step = 1 if noise_mode == "random" else batch
    chunks = [seeds[i:i + step] for i in range(0, len(seeds), step)]
    out = []
    disable = True if progress is False else None  # None: only on a terminal
    for chunk in tqdm(chunks, desc="generate", unit="batch", disable=disable):
        z = seeded_z(chunk, generator.z_dim).to(device)
        c = class_label(generator, class_index, len(chunk))
        c = c.to(device) if c is not None else None
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(chunk[0])
            images = generator(z, c, truncation_psi=truncation_psi,
                               truncation_cutoff=truncation_cutoff, noise_mode=noise_mode)
        out.append(to_uint8(images))
    return np.concatenate(out)


@click.command(name="generate")
@click.option("--model", "-m", required=True,
              help="Model: catalogue name (gandir models list), built-in name, or a .pkl / "
                   ".safetensors file.")
@click.option("--seeds", default="0-7", show_default=True,
              help="Seeds, e.g. 0-7 or 1,5,9; z = RandomState(seed).randn(z_dim) as in "
                   "NVIDIA's generate.py.")
@click.option("--trunc", "truncation_psi", type=float, default=1.0, show_default=True,
              help="Truncation psi: 1 = none, smaller = closer to the average image.")
@click.option("--trunc-cutoff", "truncation_cutoff", type=click.IntRange(min=0), default=None,
              help="Truncate only the first N ws (default: all).")
@click.option("--class", "class_index", type=int, default=None,
              help="Class index for conditional models (e.g. 0-9 for CIFAR-10).")
@click.option("--noise-mode", type=click.Choice(NOISE_MODES), default="const", show_default=True,
              help="Per-pixel noise: stored constant, random (seeded per image), or none.")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path),
              default=Path("outputs/generate"), show_default=True,
              help="Output folder (PNG per seed, grid.png, generate.json).")
@click.option("--overwrite", is_flag=True, help="Replace a non-empty output folder.")
@click.option("--network", type=click.Choice(["G_ema", "G"]), default="G_ema", show_default=True,
              help="Network to take from an official pickle.")
@click.option("--batch", type=int, default=8, show_default=True, help="Images per forward pass.")
@click.option("--device", default="cpu", show_default=True, help="Torch device, e.g. cpu, cuda.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def command(model, seeds, truncation_psi, truncation_cutoff, class_index, noise_mode, out,
            overwrite, network, batch, device, quiet):
    """Generate images for SEEDS with a model; writes seedNNNN.png files and grid.png."""
    from gan_directions.generators.registry import load_generator

    seed_list = parse_seeds(seeds)
    check_output_dir(out, overwrite)  # fail before loading a large model
    generator = load_generator(model, device=device, network=network)
    if truncation_cutoff is not None and truncation_cutoff > generator.num_ws:
        raise InvalidInputError(f"--trunc-cutoff must be at most num_ws = {generator.num_ws}")
    images = generate_images(generator, seed_list, truncation_psi, truncation_cutoff,
                             class_index, noise_mode, batch, progress=not quiet)
    record = {
        "gandir_version": __version__,
        "model": str(model),
        "model_sha256": generator.source_sha256,
        "seeds": seed_list,
        "truncation_psi": truncation_psi,
        "truncation_cutoff": truncation_cutoff,
        "class": class_index,
        "noise_mode": noise_mode,
        "network": network,
    }
    with staged_output_dir(out, overwrite) as stage:
        for seed, image in zip(seed_list, images, strict=True):
            save_png(to_pil(image), stage / f"seed{seed:04d}.png")
        save_png(to_pil(image_grid(images)), stage / "grid.png")
        (stage / "generate.json").write_text(json.dumps(record, indent=1) + "\n")
    if not quiet:
        click.echo(f"wrote {len(seed_list)} images and grid.png to {out}", err=True)
