"""A find run's folder: checkpoints, the run record, losses, preview and directions.

Every file is written atomically (a temporary sibling renamed into place).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gan_directions.directions import DirectionSet, edited_ws, seeded_z
from gan_directions.discovery.labels import sample_labels
from gan_directions.errors import GandirError
from gan_directions.fileio import atomic_torch_save, atomic_write_bytes, atomic_write_text
from gan_directions.generators.capabilities import declared
from gan_directions.generators.source import model_entry
from gan_directions.runs.layout import DIRECTIONS, LOSSES_CSV, PREVIEW_PNG
from gan_directions.runs.output import staged_output_dir
from gan_directions.runs.record import new_record, write_record

PREVIEW_ALPHAS = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)
PREVIEW_TILE = 96
HISTORY_ROWS = 200  # the run record keeps at most this many (evenly thinned) loss rows


MODEL_SHAPE = ("z_dim", "w_dim", "c_dim", "num_ws", "img_resolution", "img_channels")


def model_identity(generator) -> dict:
    """What a checkpoint records of its model: its entry (spec, path, sha256) and sizes."""
    return {**model_entry(generator), **{key: int(getattr(generator, key)) for key in MODEL_SHAPE}}


def save_checkpoint(path: Path, state: dict) -> None:
    atomic_torch_save(state, path)


def load_checkpoint(path: Path) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a truncated or foreign file: say which one
        raise GandirError(f"cannot read checkpoint {path}: {error}") from None


def thin(history: list[dict], rows: int = HISTORY_ROWS) -> list[dict]:
    """At most ``rows`` evenly spaced entries of ``history`` (always keeping the last)."""
    if len(history) <= rows:
        return list(history)
    picks = np.unique(np.linspace(0, len(history) - 1, rows).round().astype(int))
    return [history[i] for i in picks]


def losses_csv(history: list[dict]) -> str:
    columns: list[str] = []
    for row in history:
        columns += [key for key in row if key not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns or ["step"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    return buffer.getvalue()


@torch.no_grad()
def preview_image(generator, directions: DirectionSet, truncation_psi: float = 1.0,
                  seed: int = 0, class_index: int | None = None) -> Image.Image:
    """One row per direction: seed ``seed`` moved -3..3 standard deviations along it
    (a conditional model shows ``class_index``, else class 0)."""
    z = seeded_z([seed] * len(PREVIEW_ALPHAS), generator.z_dim).to(generator.device)
    c = sample_labels(generator, len(z), class_index or 0) if generator.c_dim else None
    alphas = torch.tensor(PREVIEW_ALPHAS, device=z.device)
    rows = []
    for index in range(directions.k):
        ws = edited_ws(generator, z, directions, index, alphas, c=c,
                       truncation_psi=truncation_psi)
        images = generator.synthesis(ws, noise_mode="const").float()
        size = min(PREVIEW_TILE, images.shape[-1])
        if images.shape[-1] != size:
            images = torch.nn.functional.interpolate(images, size=(size, size), mode="area")
        if images.shape[1] == 1:
            images = images.repeat(1, 3, 1, 1)
        tiles = ((images[:, :3].clamp(-1, 1) + 1) * 127.5).round().byte().cpu()
        rows.append(torch.cat(list(tiles.permute(0, 2, 3, 1)), dim=1))
    return Image.fromarray(torch.cat(rows, dim=0).numpy())


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def run_record(generator, directions: DirectionSet, settings, extra: dict,
               history: list[dict]) -> dict:
    """The find run's record (``runs.record``, kind ``find``)."""
    return new_record(
        "find", model_entry(generator), settings.as_json(),
        model_capabilities=declared(generator),
        method=settings.method,
        space=directions.space,
        layers=list(directions.layers) if directions.layers is not None else None,
        k=directions.k,
        seed=settings.seed,
        truncation_psi=settings.truncation_psi,
        **extra,
        scales=directions.scales.round(6).tolist(),
        loss_history=thin(history),
    )


def write_run_folder(out: Path, generator, directions: DirectionSet, settings, extra: dict,
                     history: list[dict], overwrite: bool = False, in_place: bool = False,
                     inputs=()) -> dict:
    """Write the run files into ``out``; returns the run record.

    With ``in_place`` (``out`` holds this run's checkpoint) each file is written atomically
    into ``out``; otherwise the folder is staged and renamed into place (replacing an old
    ``out`` only with ``overwrite``, see ``runs.output``).
    """
    record = run_record(generator, directions, settings, extra, history)
    files = {
        LOSSES_CSV: losses_csv(history),
        PREVIEW_PNG: png_bytes(preview_image(generator, directions, settings.truncation_psi,
                                             class_index=settings.class_index)),
    }

    def write(folder: Path) -> None:
        directions.save(folder / DIRECTIONS)
        for name, content in files.items():
            if isinstance(content, bytes):
                atomic_write_bytes(folder / name, content)
            else:
                atomic_write_text(folder / name, content)
        write_record(folder, record)

    if in_place:
        write(out)
    else:
        with staged_output_dir(out, overwrite=overwrite, inputs=inputs, kind="find") as stage:
            write(stage)
    return record
