"""``render_run``: what ``gandir render`` does, from a run folder or a directions file.

The model, the truncation and the direction names default to what the run folder records
(``run.json``'s ``model`` and ``truncation_psi``, a ``names.txt`` or ``names.toml``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gan_directions.directions import DirectionSet
from gan_directions.errors import GandirError, ModelLoadError
from gan_directions.generators.source import ModelSource, recorded_model
from gan_directions.render.names import load_names
from gan_directions.render.report import write_report
from gan_directions.render.traversal import render_traversals

RUN_RECORD = "run.json"
NAME_FILES = ("names.txt", "names.toml")


@dataclass
class RenderSource:
    """Where directions come from: the ``.npz``, its run folder (if any) and the run record."""

    directions_path: Path
    run_dir: Path | None
    run: dict

    @classmethod
    def resolve(cls, source: str | os.PathLike) -> RenderSource:
        """A run folder holds ``directions.npz`` and ``run.json``; a bare ``.npz`` may not."""
        path = Path(source).expanduser()
        if path.is_dir():
            run_dir, npz = path, path / "directions.npz"
        elif path.is_file() or path.suffix == ".npz":
            beside = path.parent / RUN_RECORD
            run_dir = path.parent if path.name == "directions.npz" and beside.is_file() else None
            npz = path
        else:
            raise GandirError(f"no run folder or directions file at {path}")
        if not npz.is_file():
            raise GandirError(f"directions file not found: {npz}")
        run = _read_run_record(run_dir / RUN_RECORD) if run_dir is not None else {}
        return cls(npz, run_dir, run)

    def default_out(self) -> Path:
        if self.run_dir is not None:
            return self.run_dir / "traversals"
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


@dataclass
class RenderResult:
    frames: np.ndarray  # uint8 [K, n_seeds, steps, H, W, C]
    out_dir: Path
    report: Path | None


def render_run(
    source: str | os.PathLike,
    *,
    model: str | None = None,
    out: str | os.PathLike | None = None,
    names: str | os.PathLike | None = None,
    truncation_psi: float | None = None,
    device: str = "cpu",  # or "auto": CUDA when available
    network: str = "G_ema",
    report: bool = True,
    **options,
) -> RenderResult:
    """Render the directions of a run folder (or ``.npz``) and write the HTML report.

    ``model`` defaults to the run's model, ``truncation_psi`` to the run's (else 1), ``names``
    to the run folder's ``names.txt``/``names.toml``, ``out`` to ``RUN/traversals`` (or
    ``NAME_render`` beside a bare ``.npz``). The report goes into the run folder when ``out``
    is inside it, else into ``out``. Other keyword arguments go to ``render_traversals``.
    """
    from gan_directions.generators.registry import load_generator, load_recorded_generator

    where = RenderSource.resolve(source)
    directions = DirectionSet.load(where.directions_path)
    names_path = Path(names) if names is not None else where.names_file()
    name_map = load_names(names_path) if names_path is not None else None
    if truncation_psi is None:
        truncation_psi = float(where.run.get("truncation_psi") or 1.0)
    out_dir = Path(out) if out is not None else where.default_out()
    try:
        if model is not None:
            generator = load_generator(model, device=device, network=network)
        else:
            generator = load_recorded_generator(where.model(), device=device, network=network,
                                                run_dir=where.run_dir)
    except ModelLoadError as error:
        if model is None:
            raise ModelLoadError(
                f"{error} (the model recorded in run.json; pass --model)"
            ) from None
        raise
    frames = render_traversals(
        generator,
        directions,
        out_dir=out_dir,
        names=name_map,
        truncation_psi=truncation_psi,
        **options,
    )
    report_path = None
    if report:
        inside_run = where.run_dir is not None and (
            out_dir.resolve().parent == where.run_dir.resolve()
        )
        report_path = write_report(where.run_dir if inside_run else out_dir)
    return RenderResult(frames, out_dir, report_path)


def _read_run_record(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise GandirError(f"cannot read run record {path}: {error}") from None
    if not isinstance(data, dict):
        raise GandirError(f"run record {path} does not hold a JSON object")
    return data
