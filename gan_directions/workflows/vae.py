"""``vae_train_run``: train a VAE into a run folder (or continue one from its checkpoint)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from gan_directions.allocator import keep_freed_memory
from gan_directions.vae.train import TrainConfig
from gan_directions.workflows.common import DEFAULT_DEVICE, check_output_files, set_threads


@dataclass
class VaeTrainSettings:
    config: TrainConfig = field(default_factory=TrainConfig)
    out: Path | None = None  # None: default_vae_out(config)
    resume: bool = False
    overwrite: bool = False
    device: str = DEFAULT_DEVICE
    threads: int | None = None
    quiet: bool = False


def default_vae_out(config: TrainConfig) -> Path:
    return Path(f"vae-{config.model}-{config.dataset}-s{config.seed}")


def vae_train_run(settings: VaeTrainSettings) -> dict:
    """Train as ``settings`` say; return the run record (``summary["step"]``, final losses)."""
    from gan_directions.devices import resolve_device
    from gan_directions.vae.train import train_vae

    set_threads(settings.threads)
    keep_freed_memory()
    out = settings.out if settings.out is not None else default_vae_out(settings.config)
    return train_vae(settings.config, out, resume=settings.resume, overwrite=settings.overwrite,
                     device=resolve_device(settings.device), quiet=settings.quiet)


@dataclass
class VaeEvalSettings:
    fast: bool = False  # the metrics' fast sample sizes (labelled mode: fast)
    seed: int = 0
    data_dir: str | None = None
    metrics: tuple[str, ...] | None = None  # None: all
    rlt: bool = True  # also the RLT score of the latent axes
    out: Path | None = None  # None: eval.json (eval-fast.json) beside the checkpoint, replaced
    overwrite: bool = False  # replace an existing ``out``
    device: str = DEFAULT_DEVICE
    threads: int | None = None  # None: torch's choice
    progress: bool = True


@dataclass
class VaeEvalResult:
    result: dict  # the full evaluation (JSON-able)
    scores: dict[str, float]  # one number per metric, plus rlt_score
    out: Path


def vae_eval_run(checkpoint: str | Path, settings: VaeEvalSettings | None = None
                 ) -> VaeEvalResult:
    """Evaluate a trained VAE (a run folder or its checkpoint file); write the result JSON and,
    in a run folder with a record, an ``eval`` stage holding the headline scores."""
    from gan_directions.fileio import atomic_write_text, check_writable
    from gan_directions.runs.layout import EVAL_FAST_JSON, EVAL_JSON
    from gan_directions.runs.record import read_record, update_record
    from gan_directions.vae.checkpoint import resolve_checkpoint
    from gan_directions.vae.evaluate import evaluate_vae
    from gan_directions.vae.metrics import headline_scores

    s = settings or VaeEvalSettings()
    path = resolve_checkpoint(checkpoint)
    if s.out is not None:
        check_output_files([s.out], s.overwrite)
    out = Path(s.out) if s.out else path.parent / (EVAL_FAST_JSON if s.fast else EVAL_JSON)
    check_writable(out.parent)  # before the work
    set_threads(s.threads)
    result = evaluate_vae(path, fast=s.fast, seed=s.seed, data_dir=s.data_dir, rlt=s.rlt,
                          device=s.device, progress=s.progress,
                          metrics=None if s.metrics is None else list(s.metrics))
    atomic_write_text(out, json.dumps(result, indent=2, default=_jsonable))
    scores = headline_scores(result["metrics"])
    if "rlt" in result:
        scores["rlt_score"] = float(result["rlt"]["score"])
    if read_record(path.parent, required=False) is not None:
        update_record(path.parent, "eval", {"mode": result["metrics"]["mode"], **scores})
    return VaeEvalResult(result, scores, out)


def _jsonable(value):
    """numpy scalars and arrays in metric results."""
    return value.tolist() if hasattr(value, "tolist") else str(value)
