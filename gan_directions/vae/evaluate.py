"""Evaluate a trained VAE: disentanglement metrics on its dataset plus the RLT score."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from gan_directions import __version__
from gan_directions.directions import DirectionSet
from gan_directions.errors import InvalidInputError
from gan_directions.vae.generator import VAEGenerator, load_vae

ENCODE_BATCH = 256
# Smaller RLT sample sizes for ``fast`` (the paper's: 1000 points, 10 values, 100 redraws).
RLT_FAST = {"n_points": 200, "n_values": 3, "n_landmarks": 40, "n_redraws": 10}


def mean_representation(vae, device: str | torch.device = "cpu"):
    """``representation_fn(images [N, C, 64, 64]) -> codes [N, latent]``: the encoder mean."""
    vae = vae.to(device).eval()

    @torch.no_grad()
    def representation(images: np.ndarray) -> np.ndarray:
        images = np.asarray(images, dtype=np.float32)
        codes = [
            vae.encode(torch.from_numpy(images[i : i + ENCODE_BATCH]).to(device))[0].cpu()
            for i in range(0, len(images), ENCODE_BATCH)
        ]
        return torch.cat(codes).numpy().astype(np.float64)

    return representation


def evaluate_vae(
    checkpoint: str | Path,
    *,
    fast: bool = False,
    seed: int = 0,
    dataset=None,
    data_dir: str | None = None,
    rlt: bool = True,
    device: str = "cpu",
    progress: bool = True,
    metrics: list[str] | None = None,
) -> dict:
    """All disentanglement metrics (``evaluate_all``) with the encoder mean as representation,
    and the RLT score of the latent axes (``score_directions``); returns a JSON-able dict.

    The dataset is the one the model was trained on (``dataset`` overrides it). ``fast``
    uses the metrics' fast settings and ``RLT_FAST`` sample sizes for the RLT score;
    ``metrics`` picks a subset of ``evaluate_all``'s metrics (default: all).
    """
    from gan_directions.devices import resolve_device
    from gan_directions.vae.metrics import evaluate_all

    device = resolve_device(device)
    vae, header = load_vae(checkpoint)

    train_config = header["train_config"]
    if dataset is None:
        from gan_directions.worlds import get_dataset

        dataset = get_dataset(
            train_config["dataset"], data_dir=data_dir or train_config.get("data_dir")
        )
    channels = int(np.asarray(dataset.images(np.array([0]))).shape[1])
    if channels != vae.config.channels:
        raise InvalidInputError(
            f"the model expects {vae.config.channels}-channel images; the dataset has {channels}"
        )
    started = time.perf_counter()
    scores = evaluate_all(mean_representation(vae, device), dataset, seed=seed, fast=fast,
                          metrics=metrics, progress=progress)
    result = {
        "gandir_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "checkpoint": str(checkpoint),
        "step": header["step"],
        "model": train_config["model"],
        "dataset": train_config["dataset"],
        "fast": fast,
        "seed": seed,
        "metrics": scores,
        "metrics_seconds": round(time.perf_counter() - started, 2),
    }
    if rlt:
        from gan_directions.scoring import score_directions

        generator = VAEGenerator(vae, name=f"vae:{checkpoint}").to(device).requires_grad_(False)
        axes = DirectionSet(np.eye(vae.config.latent, dtype=np.float32), space="z")
        result["rlt"] = score_directions(generator, axes, seed=seed, progress=progress,
                                         **(RLT_FAST if fast else {}))
    return result
