"""Train the factor regressor of a built-in StyleGAN2 on its world's images (see ``worlds``).

Images are drawn uniformly over the factor grid and rendered on the fly; the loss is the sum
over factors of the cross-entropy of each head. Training images get additive Gaussian pixel
noise of a random strength (up to ``noise`` in [-1, 1] units), so the regressor also reads the
slightly imperfect images of a generator. Accuracy is measured on a held-out stream of fresh
renders (a different seed), per factor.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from gan_directions.errors import GandirError
from gan_directions.generators.factor_regressor import FactorRegressor, save_regressor
from gan_directions.training.world_data import DEFAULT_WORLD, real_batch
from gan_directions.worlds import WORLDS, get_dataset, world_names

HELDOUT_STREAM = 1  # the held-out images come from default_rng([seed, 1]); training uses [seed, 0]


@dataclasses.dataclass(frozen=True)
class RegressorTrainConfig:
    world: str = DEFAULT_WORLD
    steps: int = 1000
    batch: int = 64
    lr: float = 0.002
    width: int = 32
    features: int = 256
    noise: float = 0.1
    seed: int = 0

    def validate(self) -> None:
        if self.world not in world_names(trainable=True):
            raise GandirError(f"unknown world {self.world!r}; choose from "
                              f"{', '.join(world_names(trainable=True))}")
        for name in ("steps", "batch", "width", "features"):
            if getattr(self, name) < 1:
                raise GandirError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.lr <= 0 or self.noise < 0:
            raise GandirError("lr must be positive and noise non-negative")

    def model_config(self) -> dict[str, Any]:
        world = get_dataset(self.world)
        return {"world": self.world, "factor_names": list(world.factor_names),
                "factor_sizes": list(world.factor_sizes),
                "factor_kinds": list(WORLDS[self.world].factor_kinds), "width": self.width,
                "features": self.features}


def train_regressor(config: RegressorTrainConfig | None = None,
                    progress: Callable[[int, int, float], None] | None = None,
                    device: str = "cpu") -> FactorRegressor:
    """Train a ``FactorRegressor`` for ``config.steps`` Adam steps on ``device`` (deterministic
    per seed and device; every random draw is made on the CPU). Returns it on the CPU."""
    config = config or RegressorTrainConfig()
    config.validate()
    torch.manual_seed(config.seed)
    model = FactorRegressor(config.model_config()).train().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.steps)
    dataset = get_dataset(config.world)
    rng = np.random.default_rng([config.seed, 0])
    noise_rng = torch.Generator().manual_seed(config.seed)
    for step in range(1, config.steps + 1):
        classes, images = real_batch(dataset, config.batch, rng)
        sigma = torch.rand([config.batch, 1, 1, 1], generator=noise_rng) * config.noise
        images = (images + sigma * torch.randn(images.shape, generator=noise_rng)).to(device)
        classes = classes.to(device)
        loss = sum(F.cross_entropy(logits, classes[:, j])
                   for j, logits in enumerate(model(images)))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if progress is not None:
            progress(step, config.steps, loss.item())
    return model.cpu().eval().requires_grad_(False)


@torch.no_grad()
def regressor_accuracy(model: FactorRegressor, samples: int = 2000, seed: int = 0,
                       batch: int = 250) -> dict[str, Any]:
    """Accuracy per factor (and their mean, and all-factors-right) on held-out fresh renders of
    the regressor's world."""
    dataset = get_dataset(regressor_world(model))
    rng = np.random.default_rng([seed, HELDOUT_STREAM])
    correct = np.zeros(len(model.factor_names))
    all_right = 0
    for start in range(0, samples, batch):
        classes, images = real_batch(dataset, min(batch, samples - start), rng)
        images = images.to(next(model.parameters()).device)
        predicted = torch.stack([logits.argmax(dim=1) for logits in model(images)],
                                dim=1).cpu()
        hits = (predicted == classes).numpy()
        correct += hits.sum(axis=0)
        all_right += int(hits.all(axis=1).sum())
    per_factor = correct / samples
    return {
        "samples": samples,
        "per_factor": {n: round(float(a), 4) for n, a in zip(model.factor_names, per_factor,
                                                            strict=True)},
        "mean": round(float(per_factor.mean()), 4),
        "all_factors": round(all_right / samples, 4),
    }


def regressor_world(model: FactorRegressor) -> str:
    """The world a regressor reads (regressors saved before worlds read 3D-Shapes scenes)."""
    return model.config.get("world", DEFAULT_WORLD)


def regressor_command(out: str | Path, config: RegressorTrainConfig, threads: int,
                      device: str = "cpu") -> str:
    """The ``gandir gan train-regressor`` command line that reproduces ``config``."""
    return (f"gandir gan train-regressor --out {out} --world {config.world} "
            f"--steps {config.steps} "
            f"--batch {config.batch} --width {config.width} --seed {config.seed} "
            f"--threads {threads} --device {device}")


def train_and_save_regressor(
    out: str | Path, config: RegressorTrainConfig | None = None, heldout: int = 2000,
    threads: int = 1, progress: Callable[[int, int, float], None] | None = None,
    device: str = "cpu",
) -> tuple[tuple[Path, Path], dict[str, Any]]:
    """Train on ``device``, measure held-out accuracy and write ``out.safetensors`` +
    ``out.json``.

    The JSON's ``source`` records the command, the settings, the training time and the
    accuracy. Returns the two paths and the accuracy dict.
    """
    config = config or RegressorTrainConfig()
    started = time.perf_counter()
    model = train_regressor(config, progress=progress, device=device)
    seconds = time.perf_counter() - started
    accuracy = regressor_accuracy(model, samples=heldout, seed=config.seed)
    source = {
        "command": regressor_command(out, config, threads, device),
        "settings": dataclasses.asdict(config),
        "data": {"world": config.world, "dataset": WORLDS[config.world].summary,
                 "resolution": 64, "sampling": "uniform over the factor grid"},
        "train_seconds": round(seconds, 1),
        "torch_threads": threads,
        "heldout_accuracy": accuracy,
    }
    return save_regressor(model, out, source=source), accuracy
