"""``render_run``: traversal grids/GIFs/MP4s and the HTML report of a run folder or ``.npz``.

The model, the truncation and the direction names default to what the run folder records
(the run record's model and ``truncation_psi``, a ``names.txt`` or ``names.toml``).
"""

from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gan_directions.directions import DirectionSet
from gan_directions.errors import GandirError, ModelLoadError
from gan_directions.generators.source import ModelSource, model_entry, recorded_model
from gan_directions.render.names import load_names
from gan_directions.render.outputs import FORMATS
from gan_directions.render.report import write_report
from gan_directions.render.traversal import render_traversals
from gan_directions.runs.layout import DIRECTIONS, NAME_FILES, RUN_RECORD, TRAVERSALS_DIR
from gan_directions.runs.lock import folder_lock
from gan_directions.runs.output import check_output_dir
from gan_directions.runs.record import read_record, update_record
from gan_directions.workflows.common import DEFAULT_DEVICE, set_threads


@dataclass
class RenderSettings:
    """How to render: samples, shifts, outputs, and where (defaults: the run's own)."""

    model: str | None = None  # None: the run's model
    out: Path | None = None  # None: RUN/traversals, or NAME_render beside a bare .npz
    names: Path | None = None  # None: the run's names.txt / names.toml
    truncation_psi: float | None = None  # None: the run's, else 1
    device: str = DEFAULT_DEVICE
    threads: int | None = None  # None: torch's choice
    network: str = "G_ema"
    report: bool = True
    seeds: tuple[int, ...] = (0, 1, 2, 3)
    steps: int = 9
    max_shift: float = 3.0
    indices: tuple[int, ...] | None = None
    class_index: int | None = None
    formats: tuple[str, ...] = FORMATS
    fps: float = 10.0
    size: int | None = None
    labels: bool = True
    original: bool = True
    loop: bool = True
    batch_size: int = 8
    overwrite: bool = False
    progress: bool = True


@dataclass
class RenderSource:
    """Where directions come from: the ``.npz``, its run folder (if any) and the run record."""

    directions_path: Path
    run_dir: Path | None
    run: dict

    @classmethod
    def resolve(cls, source: str | os.PathLike) -> RenderSource:
        """A run folder holds the directions and the run record; a bare ``.npz`` may not."""
        path = Path(source).expanduser()
        if path.is_dir():
            run_dir, npz = path, path / DIRECTIONS
        elif path.is_file() or path.suffix == ".npz":
            beside = path.parent / RUN_RECORD
            run_dir = path.parent if path.name == DIRECTIONS and beside.is_file() else None
            npz = path
        else:
            raise GandirError(f"no run folder or directions file at {path}")
        if not npz.is_file():
            raise GandirError(f"directions file not found: {npz}")
        run = (read_record(run_dir, required=False) or {}) if run_dir is not None else {}
        return cls(npz, run_dir, run)

    def default_out(self) -> Path:
        if self.run_dir is not None:
            return self.run_dir / TRAVERSALS_DIR
        return self.directions_path.parent / f"{self.directions_path.stem}_render"

    def model(self) -> ModelSource:
        model = recorded_model(self.run)
        if model is None:
            raise GandirError(
                f"no model given and none recorded next to {self.directions_path}; pass --model"
            )
        return model

    def names_file(self) -> Path | None:
        if self.run_dir is None:
            return None
        return next((self.run_dir / n for n in NAME_FILES if (self.run_dir / n).is_file()), None)

    def out_dir(self, settings: RenderSettings) -> Path:
        return Path(settings.out) if settings.out is not None else self.default_out()

    def writes_into_run(self, out_dir: Path) -> bool:
        """Whether the output is a folder of the run (then the run's record and report are
        updated too)."""
        return self.run_dir is not None and out_dir.resolve().parent == self.run_dir.resolve()

    @contextlib.contextmanager
    def locked(self, out_dir: Path) -> Iterator[None]:
        """Hold the locks of the output folder and, when it writes into it, the run folder."""
        with contextlib.ExitStack() as locks:
            locks.enter_context(folder_lock(out_dir))
            if self.writes_into_run(out_dir):
                locks.enter_context(folder_lock(self.run_dir))
            yield


@dataclass
class RenderResult:
    frames: np.ndarray  # uint8 [K, n_seeds, steps, H, W, C]
    out_dir: Path
    report: Path | None


def render_run(source: str | os.PathLike, settings: RenderSettings | None = None
               ) -> RenderResult:
    """Render the directions of a run folder (or ``.npz``) and write the HTML report.

    The report goes into the run folder when the output is inside it, else into the output.
    A run folder's record gets a ``render`` stage.
    """
    from gan_directions.generators.registry import (
        load_generator,
        load_recorded_generator,
        model_file,
    )

    settings = settings or RenderSettings()
    where = RenderSource.resolve(source)
    out_dir = where.out_dir(settings)
    model = model_file(settings.model) if settings.model is not None else where.model().path
    check_output_dir(out_dir, settings.overwrite, _inputs(where, settings, model),
                     kind="render")
    set_threads(settings.threads)
    with where.locked(out_dir):
        try:
            if settings.model is not None:
                generator = load_generator(settings.model, device=settings.device,
                                           network=settings.network)
            else:
                generator = load_recorded_generator(where.model(), device=settings.device,
                                                    network=settings.network,
                                                    run_dir=where.run_dir)
        except ModelLoadError as error:
            if settings.model is None:
                raise ModelLoadError(
                    f"{error} (the model recorded in the run record; pass --model)"
                ) from None
            raise
        return _render(generator, where, settings)


def render_directions(generator, source: str | os.PathLike, settings: RenderSettings
                      ) -> RenderResult:
    """``render_run`` with a generator already loaded (``find --render``)."""
    return _render(generator, RenderSource.resolve(source), settings)


def _inputs(where: RenderSource, settings: RenderSettings, model) -> list:
    """What the render reads: an --overwrite must never delete a folder holding one."""
    names = Path(settings.names) if settings.names is not None else where.names_file()
    return [where.directions_path, names, model]


def _render(generator, where: RenderSource, settings: RenderSettings) -> RenderResult:
    out_dir = where.out_dir(settings)
    with where.locked(out_dir):
        return _render_locked(generator, where, settings, out_dir)


def _render_locked(generator, where: RenderSource, settings: RenderSettings,
                   out_dir: Path) -> RenderResult:
    directions = DirectionSet.load(where.directions_path)
    names_path = Path(settings.names) if settings.names is not None else where.names_file()
    name_map = load_names(names_path, directions.k) if names_path is not None else None
    truncation_psi = settings.truncation_psi
    if truncation_psi is None:
        truncation_psi = float(where.run.get("truncation_psi") or 1.0)
    class_index = settings.class_index
    if class_index is None:  # a conditional run's --class, when it had one
        class_index = (where.run.get("settings") or {}).get("class_index")
    frames = render_traversals(
        generator, directions, out_dir=out_dir, names=name_map, truncation_psi=truncation_psi,
        seeds=list(settings.seeds), steps=settings.steps, max_shift=settings.max_shift,
        indices=None if settings.indices is None else list(settings.indices),
        class_index=class_index, formats=tuple(settings.formats), fps=settings.fps,
        size=settings.size, labels=settings.labels, original=settings.original,
        loop=settings.loop, batch_size=settings.batch_size, overwrite=settings.overwrite,
        inputs=_inputs(where, settings, model_entry(generator)["path"]),
        progress=settings.progress,
    )
    inside_run = where.writes_into_run(out_dir)
    if inside_run and where.run:
        update_record(where.run_dir, "render", {
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "out": out_dir.name, "seeds": list(settings.seeds), "steps": settings.steps,
            "max_shift": settings.max_shift, "truncation_psi": truncation_psi,
        })
    report_path = None
    if settings.report:
        report_path = write_report(where.run_dir if inside_run else out_dir)
    return RenderResult(frames, out_dir, report_path)
