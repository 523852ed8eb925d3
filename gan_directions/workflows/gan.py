"""``gan train``, ``gan train-regressor``, ``gan export``: the built-in StyleGAN2's workflows."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gan_directions.allocator import keep_freed_memory
from gan_directions.training.gan import GANTrainConfig, GANTrainer
from gan_directions.training.regressor import RegressorTrainConfig
from gan_directions.workflows.common import DEFAULT_DEVICE, check_output_files, set_threads


@dataclass
class GanTrainSettings:
    """A training session. ``learning_rate`` (G's and D's Adam rate), ``batch``, ``r1_gamma``,
    ``balance_weight``, ``balance_penalty``, ``feature_match_weight``, ``render_match_weight``
    and ``pl_weight`` apply from this session on; None keeps ``config``'s for a new run and the
    run's current value on resume.
    ``balance_regressors``: the saved factor regressors (NAME of NAME.safetensors) that read the
    factors for the balance penalty and render matching, jointly when there are several, and
    the features for feature matching."""

    out: Path
    config: GANTrainConfig = field(default_factory=GANTrainConfig)
    learning_rate: float | None = None
    batch: int | None = None
    r1_gamma: float | None = None
    balance_weight: float | None = None
    balance_penalty: str | None = None
    feature_match_weight: float | None = None
    render_match_weight: float | None = None
    pl_weight: float | None = None
    balance_regressors: tuple[Path, ...] = ()
    resume: bool = False
    overwrite: bool = False  # start a new run, replacing the gandir run folder in ``out``
    device: str = DEFAULT_DEVICE
    threads: int | None = None  # None: torch's choice; each session records its number
    checkpoint_minutes: float = 3.0
    quiet: bool = False


def gan_train_run(settings: GanTrainSettings) -> GANTrainer:
    """Train (or continue) the run in ``settings.out`` under its folder lock, with a progress
    bar whose rate counts from this session's first step."""
    import torch
    from tqdm import tqdm

    from gan_directions.devices import resolve_device
    from gan_directions.runs.lock import folder_lock
    from gan_directions.training.gan import stored_config, train_gan

    if not settings.resume:
        check_new_run(settings.out, settings.overwrite, settings.balance_regressors)
    set_threads(settings.threads)
    keep_freed_memory()
    device = resolve_device(settings.device)
    torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest kernels
    config = settings.config
    session = {"batch": settings.batch, "r1_gamma": settings.r1_gamma,
               "balance_weight": settings.balance_weight,
               "balance_penalty": settings.balance_penalty,
               "feature_match_weight": settings.feature_match_weight,
               "render_match_weight": settings.render_match_weight,
               "pl_weight": settings.pl_weight}
    previous = stored_config(settings.out) if settings.resume else None
    rate = settings.learning_rate
    if previous is not None:
        rate = previous.g_lr if rate is None else rate
        session = {k: getattr(previous, k) if v is None else v for k, v in session.items()}
    if rate is not None:
        config = dataclasses.replace(config, g_lr=rate, d_lr=rate)
    config = dataclasses.replace(config, **{k: v for k, v in session.items() if v is not None})
    config.validate()  # before the progress bar appears
    balance = [balance_regressor_source(path) for path in settings.balance_regressors]
    bar = tqdm(total=config.steps, desc="train", unit="step", mininterval=10,
               disable=settings.quiet)

    def progress(step: int, total: int, stats: dict[str, float]) -> None:
        if bar.n == 0:  # first step of this session: a resumed run's rate counts from here
            bar.reset(total)
            bar.initial = bar.n = bar.last_print_n = step - 1
        bar.set_postfix(g=f"{stats['g_loss']:.3f}", d=f"{stats['d_loss']:.3f}", refresh=False)
        bar.update(step - bar.n)
        if step == total:
            bar.refresh()

    try:
        with folder_lock(settings.out):  # one command at a time in a run folder
            if not settings.resume:  # the state under the lock
                check_new_run(settings.out, settings.overwrite, settings.balance_regressors)
            return train_gan(settings.out, config, resume=settings.resume,
                             overwrite=settings.overwrite,
                             checkpoint_seconds=settings.checkpoint_minutes * 60,
                             progress=progress, device=device, balance_regressors=balance)
    finally:
        bar.close()


def balance_regressor_source(path: Path):
    """The regressor saved as ``path`` and its source: file, sha256 and training command."""
    from gan_directions.generators.factor_regressor import load_regressor, read_regressor_document
    from gan_directions.generators.weights import file_sha256, weights_paths

    model = load_regressor(path)
    tensors = weights_paths(path)[0]
    command = read_regressor_document(path).get("source", {}).get("command")
    return model, {"file": str(path), "sha256": file_sha256(tensors), "command": command}


def check_new_run(out: Path, overwrite: bool, inputs=()) -> None:
    """Refuse to start a new run in ``out`` over a run (without ``overwrite``) or over a folder
    that ``overwrite`` may not replace."""
    from gan_directions.errors import GandirError
    from gan_directions.runs.output import check_output_dir
    from gan_directions.training.gan import CHECKPOINT_FILE, RUN_KIND

    if (Path(out) / CHECKPOINT_FILE).exists() and not overwrite:
        raise GandirError(f"{out} already holds a training run; pass --resume to continue it or "
                          f"--overwrite to start over")
    check_output_dir(out, overwrite, inputs, kind=RUN_KIND)



@dataclass
class RegressorTrainSettings:
    """A factor regressor to train into ``out``.safetensors/.json."""

    out: Path
    config: RegressorTrainConfig = field(default_factory=RegressorTrainConfig)
    heldout: int = 2000  # held-out real images for the recorded accuracy
    overwrite: bool = False
    device: str = DEFAULT_DEVICE
    threads: int | None = None  # None: torch's choice; the output records the number
    quiet: bool = False


def regressor_train_run(settings: RegressorTrainSettings
                        ) -> tuple[tuple[Path, Path], dict[str, Any]]:
    """Train the factor regressor into ``out``.safetensors/.json; return the paths and the
    held-out accuracy."""
    from tqdm import tqdm

    from gan_directions.devices import resolve_device
    from gan_directions.generators.weights import weights_paths
    from gan_directions.training.regressor import train_and_save_regressor

    check_output_files(weights_paths(settings.out), settings.overwrite)
    device = resolve_device(settings.device)
    threads = set_threads(settings.threads)
    keep_freed_memory()
    with tqdm(total=settings.config.steps, desc="regressor", unit="step", mininterval=5,
              disable=settings.quiet) as bar:
        def progress(step: int, total: int, loss: float) -> None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.3f}", refresh=False)

        return train_and_save_regressor(settings.out, settings.config, heldout=settings.heldout,
                                        threads=threads, device=device, progress=progress)


@dataclass
class GanExportSettings:
    """``run_dir``'s EMA generator to write as ``out``.safetensors/.json, with the quality
    figures of ``regressor`` (default: ``out``-regressor when it exists)."""

    run_dir: Path
    out: Path
    regressor: Path | None = None
    samples: int = 2000  # generated and real images per quality figure
    seed: int = 0
    overwrite: bool = False
    device: str = DEFAULT_DEVICE
    threads: int | None = None  # None: torch's choice


def gan_export_run(settings: GanExportSettings) -> dict[str, Any]:
    """Export the run's EMA generator with its quality figures; return the JSON's ``source``."""
    from gan_directions.devices import resolve_device
    from gan_directions.generators.weights import weights_paths
    from gan_directions.training.export import export_generator

    check_output_files(weights_paths(settings.out), settings.overwrite)
    device = resolve_device(settings.device)
    set_threads(settings.threads)
    return export_generator(settings.run_dir, settings.out, regressor=settings.regressor,
                            quality_samples=settings.samples, seed=settings.seed, device=device)
