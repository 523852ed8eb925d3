"""Benchmark: procedural dataset rendering and the disentanglement metric suite on a 10-d model.

The "model" is a stand-in for a trained VAE encoder, so no training is needed; its codes are
standardized to unit variance per dim (as trained VAE means roughly are):
- ``--encoder linear`` (default): a fixed random projection of the pixels to 10 dims; encoding
  is nearly free, so the timings show the metrics' own cost (rendering, classifiers, trees);
- ``--encoder conv``: disentanglement_lib's convolutional encoder (conv 32-32 k4, 64-64 k2,
  FC 256, 10-d mean head) with random weights (torch seed 0), in batches of 256. Its measured
  cost per image is always printed, with the encoder time it implies for each suite.

Default run (~1-2 minutes on a quiet 2-core machine):
1. median time to render a batch of 64 images (dSprites and 3D Shapes);
2. conv-encoder throughput and the number of images each suite encodes;
3. the fast suite (``evaluate_all(fast=True)``), per metric;
4. DCI with the reference estimator (GradientBoostingClassifier) vs the fast one (random
   forest) on the same codes and sample sizes, times and scores side by side.
``--full`` also runs the reference suite (``evaluate_all(fast=False)``: disentanglement_lib's
sample sizes and GBT DCI), which takes far longer (tens of minutes on CPU).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch
from torch import nn

from gan_directions.vae.metrics import (
    FAST_SETTINGS,
    REFERENCE_SETTINGS,
    evaluate_all,
    headline_scores,
    images_needed,
)
from gan_directions.vae.metrics_dci import dci
from gan_directions.worlds import get_dataset


def conv_encoder(channels: int, latent: int = 10) -> nn.Module:
    """disentanglement_lib's conv encoder up to the mean head (random weights)."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(channels, 32, 4, 2, 1), nn.ReLU(),
        nn.Conv2d(32, 32, 4, 2, 1), nn.ReLU(),
        nn.Conv2d(32, 64, 2, 2), nn.ReLU(),
        nn.Conv2d(64, 64, 2, 2), nn.ReLU(),
        nn.Flatten(), nn.Linear(1024, 256), nn.ReLU(),
        nn.Linear(256, latent),
    ).eval()  # fmt: skip


def representation(kind: str, dataset):
    """The stand-in's codes, standardized (mean 0, std 1 on 512 sampled images) the way a
    trained VAE's posterior means are roughly, so FactorVAE's 0.05 std pruning keeps them."""
    raw = _raw_representation(kind, dataset.num_channels)
    codes = raw(dataset.sample_observations(512, 123))
    mean, std = codes.mean(axis=0), codes.std(axis=0) + 1e-12
    return lambda images: (raw(images) - mean) / std


def _raw_representation(kind: str, channels: int):
    if kind == "linear":
        projection = np.random.default_rng(0).normal(size=(channels * 64 * 64, 10))
        return lambda images: np.asarray(images).reshape(len(images), -1) @ projection
    encoder = conv_encoder(channels)

    @torch.no_grad()
    def encode(images: np.ndarray) -> np.ndarray:
        batches = [
            encoder(torch.from_numpy(np.ascontiguousarray(images[i : i + 256])))
            for i in range(0, len(images), 256)
        ]
        return torch.cat(batches).numpy().astype(np.float64)

    return encode


def median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="dsprites", help="dsprites or shapes3d")
    parser.add_argument("--encoder", choices=("conv", "linear"), default="linear")
    parser.add_argument("--dci-train", type=int, default=1000)
    parser.add_argument("--dci-test", type=int, default=500)
    parser.add_argument("--full", action="store_true", help="also run the reference suite")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    print("== rendering: median ms per batch of 64 (10 repeats)")
    for name in ("dsprites", "shapes3d"):
        data = get_dataset(name)
        factors = data.sample_factors(64, 0)
        data.render(factors)  # 3D Shapes ray-casts its view table on first use
        print(f"{name:>10}: {median_ms(lambda d=data, f=factors: d.render(f), 10):8.2f} ms")

    dataset = get_dataset(args.dataset)
    images = dataset.sample_observations(256, 0)
    conv = representation("conv", dataset)
    per_image = median_ms(lambda: conv(images), 5) / 256 / 1000
    print(f"\n== conv encoder (random weights): {1000 * per_image:.3f} ms per image (median of 5)")
    for label, settings in (("fast", FAST_SETTINGS), ("reference", REFERENCE_SETTINGS)):
        count = sum(images_needed(name, s) for name, s in settings.items())
        print(f"{label:>10} suite encodes {count:>9,} images -> {count * per_image:8.1f} s")

    rep = conv if args.encoder == "conv" else representation("linear", dataset)
    print(f"\n== model: 10-d {args.encoder} encoder stand-in (random weights), {dataset.name}")

    suites = [("fast", True)] + ([("reference", False)] if args.full else [])
    for label, fast in suites:
        started = time.perf_counter()
        result = evaluate_all(rep, dataset, seed=0, fast=fast, progress=False)
        total = time.perf_counter() - started
        print(f"\n== {label} suite: {total:.1f} s total")
        for name, seconds in result["seconds"].items():
            print(f"{name:>12}: {seconds:8.2f} s   [{result['settings'][name]}]")
        print("scores:", json.dumps({k: round(v, 4) for k, v in headline_scores(result).items()}))

    print(f"\n== DCI, same codes: {args.dci_train} train / {args.dci_test} test points")
    rows = {}
    for estimator in ("gbt", "random_forest"):
        started = time.perf_counter()
        scores = dci(
            rep, dataset, 0, num_train=args.dci_train, num_test=args.dci_test, estimator=estimator
        )
        rows[estimator] = (time.perf_counter() - started, scores)
    print(f"{'estimator':>14} {'seconds':>9} {'D':>7} {'C':>7} {'I(test)':>8}")
    for estimator, (seconds, s) in rows.items():
        print(
            f"{estimator:>14} {seconds:9.2f} {s['disentanglement']:7.3f} "
            f"{s['completeness']:7.3f} {s['informativeness_test']:8.3f}"
        )
    ratio = rows["gbt"][0] / rows["random_forest"][0]
    print(f"reference / fast time ratio: {ratio:.1f}x")


if __name__ == "__main__":
    main()
