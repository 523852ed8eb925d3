"""``vae_train_run``: train a VAE into a run folder (or continue one from its checkpoint)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gan_directions.vae.train import TrainConfig
from gan_directions.workflows.common import DEFAULT_DEVICE, set_threads


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
    out = settings.out if settings.out is not None else default_vae_out(settings.config)
    return train_vae(settings.config, out, resume=settings.resume, overwrite=settings.overwrite,
                     device=resolve_device(settings.device), quiet=settings.quiet)
