"""``score_run``: RLT topological similarity of a run's directions (Zhou et al., ICLR 2021)."""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path

from gan_directions.directions import DirectionSet
from gan_directions.errors import GandirError
from gan_directions.generators.source import recorded_model
from gan_directions.runs.layout import REPORT_HTML, RUN_RECORD
from gan_directions.runs.lock import folder_lock
from gan_directions.runs.output import check_output_dir, staged_output_dir
from gan_directions.runs.record import read_record, update_record
from gan_directions.scoring.rlt_score import PAPER_SETTINGS
from gan_directions.workflows.common import DEFAULT_DEVICE, set_threads

SCORE_MODES = ("paper", "corrected")
SCORE_EMBEDDINGS = ("features", "pixels")


@dataclass
class ScoreSettings:
    """RLT scoring options; the defaults are the paper's settings."""

    model: str | None = None  # None: the run's model
    mode: str = "paper"
    embedding: str = "features"
    n_points: int = PAPER_SETTINGS["n_points"]
    n_values: int = PAPER_SETTINGS["n_values"]
    n_landmarks: int = PAPER_SETTINGS["n_landmarks"]
    gamma: float = PAPER_SETTINGS["gamma"]
    n_redraws: int = PAPER_SETTINGS["n_redraws"]
    i_max: int = PAPER_SETTINGS["i_max"]
    fixed_k: int | None = None
    supervised: bool | None = None  # None: when the model knows its factors
    truncation_psi: float | None = None  # None: the run's, else 1
    seed: int = 0
    class_index: int | None = None  # None: the run's --class, else uniform classes
    workers: int | None = None
    device: str = DEFAULT_DEVICE
    threads: int | None = None  # None: torch's choice
    out: Path | None = None  # None: the run folder, whose record and report are updated
    overwrite: bool = False  # replace ``out`` (a folder gandir wrote)
    progress: bool = False


def score_run(run_dir: str | os.PathLike, settings: ScoreSettings | None = None) -> dict:
    """Score the directions of ``run_dir``; write scores.json and plots; return the scores.

    Into ``run_dir`` by default: its run record (when it has one) gets a ``score`` stage, and
    an existing HTML report is refreshed. With ``settings.out``, scores.json and the plots go
    into that new folder instead and ``run_dir`` is only read.
    """
    from gan_directions.scoring import write_scores

    settings = settings or ScoreSettings()
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise GandirError(f"run folder not found: {run_dir}")
    set_threads(settings.threads)
    if settings.out is not None:
        inputs = _inputs(run_dir, settings)
        check_output_dir(settings.out, settings.overwrite, inputs, kind="score")  # before the work
        result = _score(run_dir, settings)
        with staged_output_dir(settings.out, settings.overwrite, inputs, kind="score") as stage:
            write_scores(stage, result)
        return result
    with folder_lock(run_dir):  # scores, the record and the report are rewritten
        result = _score(run_dir, settings)
        write_scores(run_dir, result)
        if read_record(run_dir, required=False):
            update_record(run_dir, "score", score_summary(result))
        if (run_dir / REPORT_HTML).is_file():
            from gan_directions.render.report import write_report

            write_report(run_dir)
    return result


def _inputs(run_dir: Path, settings: ScoreSettings) -> list:
    """What scoring reads: an --overwrite must never delete a folder holding one."""
    from gan_directions.generators.registry import model_file

    if settings.model is not None:
        return [run_dir, model_file(settings.model)]
    recorded = recorded_model(read_record(run_dir, required=False) or {})
    return [run_dir, None if recorded is None else recorded.path]


def _score(run_dir: Path, settings: ScoreSettings) -> dict:
    """The scores of ``run_dir``'s directions, with the model, truncation and class of its
    record unless ``settings`` name them."""
    from gan_directions.generators.registry import load_generator, load_recorded_generator
    from gan_directions.scoring import score_directions

    directions = DirectionSet.load(run_dir)
    record = read_record(run_dir, required=False) or {}
    recorded = recorded_model(record)
    if settings.model is None and recorded is None:
        raise GandirError(f"no model given and {run_dir / RUN_RECORD} names none; pass --model")
    truncation_psi = settings.truncation_psi
    if truncation_psi is None:
        truncation_psi = float(record.get("truncation_psi") or 1.0)
    class_index = settings.class_index
    if class_index is None:
        class_index = (record.get("settings") or {}).get("class_index")
    if settings.model is not None:
        generator = load_generator(settings.model, device=settings.device)
    else:
        generator = load_recorded_generator(recorded, device=settings.device, run_dir=run_dir)
    result = score_directions(
        generator, directions, mode=settings.mode, embedding=settings.embedding,
        seed=settings.seed, n_points=settings.n_points, n_values=settings.n_values,
        n_landmarks=settings.n_landmarks, gamma=settings.gamma, i_max=settings.i_max,
        n_redraws=settings.n_redraws, fixed_k=settings.fixed_k,
        supervised=settings.supervised, truncation_psi=truncation_psi,
        workers=settings.workers, progress=settings.progress, class_index=class_index,
    )
    result["model"] = generator.source.spec
    return result


def score_summary(result: dict) -> dict:
    """The headline numbers of a score result, as stored in the run record."""
    supervised = result.get("supervised")
    return {
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "score": float(result["score"]),
        "k": int(result["k"]),
        "mode": result["mode"],
        "supervised_score": float(supervised["score"]) if supervised else None,
    }
