"""Quality figures of a generator with a factor regressor (the built-in StyleGAN2s).

- the regressor's accuracy on held-out real images (fresh renders);
- on generated samples: the regressor's confidence (mean top-class probability per factor, and
  the fraction of samples whose every factor is read with probability ≥ ``confident``);
- coverage: how often each factor value is read on generated samples, relative to its expected
  frequency under uniform factors (1/n); every value should reach ≥ 0.5;
- the Fréchet distance (Heusel et al., NeurIPS 2017, eq. 6: ||μ₁ − μ₂||² +
  Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½)) between regressor features of generated and real images, next to
  the same distance between two independent real sets of the same size (its noise floor).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg
import torch

from gan_directions.generators.factor_regressor import FactorRegressor
from gan_directions.training.regressor import regressor_accuracy, regressor_world
from gan_directions.training.world_data import real_batch
from gan_directions.worlds import get_dataset

COVERAGE_THRESHOLD = 0.5
REAL_STREAMS = (2, 3)  # seeds [seed, 2] and [seed, 3] draw the two real sets


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to feature rows a [N, D] and b [M, D]."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(cov_a @ cov_b)
    if np.iscomplexobj(root):
        root = root.real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root))


@torch.no_grad()
def generated_batches(generator, samples: int, seed: int, truncation_psi: float = 1.0,
                      batch: int = 100):
    """Generated images [≤batch, C, H, W] for ``samples`` seeded latents, batch by batch."""
    rng = torch.Generator().manual_seed(seed)
    for start in range(0, samples, batch):
        z = torch.randn(min(batch, samples - start), generator.z_dim, generator=rng)
        yield generator(z.to(generator.device), truncation_psi=truncation_psi).clamp(-1, 1)


@torch.no_grad()
def read_batches(regressor: FactorRegressor, batches) -> tuple[np.ndarray, list[np.ndarray]]:
    """The regressor's features [N, F] and per-factor probabilities [N, n_f] over ``batches``."""
    features, probs = [], []
    for images in batches:
        images = images.to(next(regressor.parameters()).device)
        features.append(regressor.features(images).cpu().numpy())
        probs.append([p.cpu().numpy() for p in regressor.probabilities(images)])
    return np.concatenate(features), [np.concatenate(p) for p in zip(*probs, strict=True)]


def _real_batches(world: str, samples: int, seed: int, stream: int, batch: int = 100):
    dataset = get_dataset(world)
    rng = np.random.default_rng([seed, stream])
    for start in range(0, samples, batch):
        yield real_batch(dataset, min(batch, samples - start), rng)[1]


def coverage(probs: list[np.ndarray], names: list[str]) -> dict[str, Any]:
    """Per factor: frequency of each read value relative to 1/n, and the smallest ratio."""
    per_factor = {}
    for name, p in zip(names, probs, strict=True):
        n = p.shape[1]
        counts = np.bincount(p.argmax(axis=1), minlength=n)
        per_factor[name] = [round(float(c) * n / len(p), 3) for c in counts]
    smallest = min(min(ratios) for ratios in per_factor.values())
    return {"ratio_to_expected": per_factor, "min_ratio": smallest,
            "threshold": COVERAGE_THRESHOLD, "passes": smallest >= COVERAGE_THRESHOLD}


def confidence(probs: list[np.ndarray], names: list[str], confident: float = 0.5) -> dict:
    top = np.stack([p.max(axis=1) for p in probs], axis=1)  # [N, F]
    return {
        "mean_top_probability": {n: round(float(t), 4) for n, t in zip(names, top.mean(axis=0),
                                                                       strict=True)},
        "confident_threshold": confident,
        "fraction_all_confident": round(float((top >= confident).all(axis=1).mean()), 4),
    }


def quality_figures(generator, regressor: FactorRegressor, samples: int = 2000, seed: int = 0,
                    truncation_psi: float = 1.0, heldout: int = 2000) -> dict[str, Any]:
    """Every figure of the module docstring, as a JSON-able dict."""
    names = list(regressor.factor_names)
    gen_features, gen_probs = read_batches(
        regressor, generated_batches(generator, samples, seed, truncation_psi))
    world = regressor_world(regressor)
    real_a, _ = read_batches(regressor, _real_batches(world, samples, seed, REAL_STREAMS[0]))
    real_b, _ = read_batches(regressor, _real_batches(world, samples, seed, REAL_STREAMS[1]))
    pixels = torch.cat(list(generated_batches(generator, min(samples, 200), seed,
                                              truncation_psi)))
    return {
        "samples": samples,
        "seed": seed,
        "truncation_psi": truncation_psi,
        "regressor_heldout_accuracy": regressor_accuracy(regressor, heldout, seed),
        "generated_pixel_std": round(float(pixels.std(dim=0).mean()), 4),
        "regressor_confidence": confidence(gen_probs, names),
        "coverage": coverage(gen_probs, names),
        "frechet_regressor_features": {
            "generated_vs_real": round(frechet_distance(gen_features, real_a), 4),
            "real_vs_real": round(frechet_distance(real_b, real_a), 4),
        },
    }


def format_quality(quality: dict) -> str:
    """The quality figures of ``training.quality`` as a few readable lines."""
    accuracy = quality["regressor_heldout_accuracy"]
    confidence = quality["regressor_confidence"]
    coverage = quality["coverage"]
    frechet = quality["frechet_regressor_features"]
    return "\n".join([
        f"regressor accuracy on held-out real images: {accuracy['mean']:.4f} "
        f"(all factors right {accuracy['all_factors']:.4f})",
        "regressor confidence on generated samples: " + ", ".join(
            f"{k} {v:.3f}" for k, v in confidence["mean_top_probability"].items())
        + f"; all factors confident: {confidence['fraction_all_confident']:.3f}",
        f"coverage: smallest value frequency / expected = {coverage['min_ratio']:.3f} "
        f"({'passes' if coverage['passes'] else 'FAILS'} >= {coverage['threshold']})",
        f"Frechet distance (regressor features): generated-real {frechet['generated_vs_real']:.3f}"
        f", real-real {frechet['real_vs_real']:.3f}",
        f"generated pixel std: {quality['generated_pixel_std']:.4f}",
    ])
