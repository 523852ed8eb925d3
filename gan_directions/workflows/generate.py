"""``generate_run``: images for seeds into a run folder (one PNG per seed, a grid, the record)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gan_directions.errors import InvalidInputError
from gan_directions.generators.source import model_entry
from gan_directions.render.grid import save_png
from gan_directions.render.images import to_pil
from gan_directions.render.samples import generate_images, image_grid
from gan_directions.runs.lock import folder_lock
from gan_directions.runs.output import check_output_dir, staged_output_dir
from gan_directions.runs.record import new_record, write_record
from gan_directions.workflows.common import DEFAULT_DEVICE, set_threads

GRID_PNG = "grid.png"


@dataclass
class GenerateSettings:
    model: str
    seeds: tuple[int, ...] = tuple(range(8))
    truncation_psi: float = 1.0
    truncation_cutoff: int | None = None
    class_index: int | None = None
    noise_mode: str = "const"
    out: Path = Path("outputs/generate")
    overwrite: bool = False
    network: str = "G_ema"
    batch: int = 8
    device: str = DEFAULT_DEVICE
    threads: int | None = None  # None: torch's choice
    progress: bool = True


@dataclass
class GenerateResult:
    images: np.ndarray  # uint8 [N, H, W, C]
    out: Path
    record: dict


def seed_png(seed: int) -> str:
    return f"seed{seed:04d}.png"


def generate_run(settings: GenerateSettings) -> GenerateResult:
    """Generate the seeds' images and write them, their grid and the run record atomically
    (under the output folder's lock)."""
    from gan_directions.generators.registry import load_generator, model_file

    s = settings
    seeds = [int(seed) for seed in s.seeds]
    inputs = [model_file(s.model)]
    check_output_dir(s.out, s.overwrite, inputs, kind="generate")  # before loading the model
    set_threads(s.threads)
    with folder_lock(s.out):
        generator = load_generator(s.model, device=s.device, network=s.network)
        if s.truncation_cutoff is not None and s.truncation_cutoff > generator.num_ws:
            raise InvalidInputError(
                f"--truncation-cutoff must be at most num_ws = {generator.num_ws}")
        images = generate_images(generator, seeds, s.truncation_psi, s.truncation_cutoff,
                                 s.class_index, s.noise_mode, s.batch, progress=s.progress)
        record = new_record(
            "generate", model_entry(generator),
            {"truncation_cutoff": s.truncation_cutoff, "class": s.class_index,
             "noise_mode": s.noise_mode, "network": s.network, "batch": s.batch},
            seeds=seeds, truncation_psi=float(s.truncation_psi),
        )
        with staged_output_dir(s.out, s.overwrite, inputs, kind="generate") as stage:
            for seed, image in zip(seeds, images, strict=True):
                save_png(to_pil(image), stage / seed_png(seed))
            save_png(to_pil(image_grid(images)), stage / GRID_PNG)
            write_record(stage, record)
    return GenerateResult(images, Path(s.out), record)
