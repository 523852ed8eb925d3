"""Refine TopDis's kept directions inside their layer ranges, and score them before and after.

TopDis on a StyleGAN2 (``--mode ranges``) keeps K of SeFa's directions per layer range
(``gan_directions/discovery/layer_pool.py``). This script runs that search and then refines
each kept direction by Adam on its coefficients over its range's ``PER_RANGE`` SeFa directions:

- the loss is RTD per unit of image change (the value the selection ranks by; Balabin et al.,
  ICML 2024, Eq. 1-4, on the Gaussian-CDF shift), one direction per step in turn, with no label;
- two kept directions of one range pay 10·cos² to stay apart;
- with ``--trust t``, a direction whose |cos| to its kept candidate falls below t is put back
  on that cone after the step, so the refinement may purify an edit but not change its factor.

Both sets are scored as ``bench_recovery_stylegan2.py`` does (256 latents, α = 1, seed 12345),
with the mean image change at ±2 std that ``find`` records (``edit_size``).
Findings: ``docs/research/topdis-on-trained-gans.md``, "Refining the kept candidates inside
their ranges".

    python benchmarks/bench_range_refine.py --threads 1                     # ~12 min
    python benchmarks/bench_range_refine.py --trust 0.9 --select-steps 150 --refine-steps 150
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np

EVAL_SEED = 12345  # as bench_recovery_stylegan2.py
SAME_RANGE_WEIGHT = 10.0  # weight of cos² between two kept directions of one range
BATCH = 32


def refine(model: str, seed: int, k: int, select_steps: int, refine_steps: int, lr: float,
           trust: float, samples: int, pca_samples: int) -> dict:
    import torch
    from bench_pool_oracle import kept_indices

    from gan_directions.discovery import find_directions
    from gan_directions.discovery.edit_size import image_changes
    from gan_directions.discovery.latents import LatentSpace
    from gan_directions.discovery.layer_pool import range_pool, tied_scales
    from gan_directions.discovery.search import SearchSettings, topdis_term
    from gan_directions.evaluation import recovery_report
    from gan_directions.generators.partial import search_resolution
    from gan_directions.generators.registry import load_generator

    generator = load_generator(model)
    run = find_directions(generator, method="topdis", k=k, steps=select_steps, seed=seed,
                          pca_samples=pca_samples, quiet=True)
    if run.directions.space != "w+":
        raise SystemExit(f"{model}: TopDis searched {run.directions.space}, not layer ranges")
    settings = SearchSettings(method="topdis", k=k, seed=seed, pca_samples=pca_samples)
    latents = LatentSpace(generator, "w+", None, 1.0, None, search_resolution(generator, None, 0))
    stats = latents.statistics(pca_samples, seed)
    pool = range_pool(generator, latents.span, stats.covariance, k)  # find's pool, unguarded
    kept = kept_indices(pool, run.record["search"]["sources"])
    layers = latents.span[1] - latents.span[0] + 1

    def scores(vectors: np.ndarray) -> dict:
        scales = tied_scales(vectors, stats.covariance, layers)
        found = dataclasses.replace(run.directions, directions=vectors, scales=scales,
                                    names=[])
        report = recovery_report(generator, found, alpha=1.0, samples=samples, seed=EVAL_SEED)
        change = image_changes(latents, vectors, scales, seed=seed)  # as find's run.json
        return {"disentanglement": report["disentanglement"],
                "completeness": report["completeness"], "mig_gap": report["mig_gap"],
                "image_change": float(np.mean(change)),
                "direction_names": report["direction_names"]}

    bases, homes, coefficients = [], [], []
    for index in kept:
        members = list(np.flatnonzero(pool.groups == pool.groups[index]))
        bases.append(torch.as_tensor(pool.vectors[members], dtype=torch.float32))
        homes.append(members.index(index))
        start = torch.zeros(len(members))
        start[homes[-1]] = 1.0
        coefficients.append(torch.nn.Parameter(start))

    def direction(j: int) -> torch.Tensor:
        vector = coefficients[j] @ bases[j]
        return vector / vector.norm()

    optimizer = torch.optim.Adam(coefficients, lr=lr)
    term = topdis_term(settings, latents, normalize=True)
    mean = torch.as_tensor(stats.full_mean(), dtype=torch.float32)
    covariance = torch.as_tensor(stats.covariance, dtype=torch.float32)
    rng = torch.Generator().manual_seed(seed)
    for step in range(refine_steps):
        j = step % len(kept)
        d = direction(j)
        tied = d.reshape(layers, -1).sum(0)
        value = term.values(d[None], mean, (tied @ covariance @ tied).sqrt().detach()[None],
                            BATCH, rng)[0]
        if value is None:
            continue
        loss = value.loss
        for other in range(len(kept)):
            if other != j and pool.groups[kept[other]] == pool.groups[kept[j]]:
                loss = loss + SAME_RANGE_WEIGHT * (d @ direction(other).detach()) ** 2
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if trust > 0:
            pull_into_cone(coefficients[j], homes[j], trust)
    start = pool.vectors[kept]
    end = np.stack([direction(j).detach().double().numpy() for j in range(len(kept))])
    return {"model": model, "seed": seed, "kept": [pool.describe(i) for i in kept],
            "start": scores(start), "end": scores(end),
            "abs_cos_to_start": np.abs(np.sum(start * end, axis=1)).round(4).tolist()}


def pull_into_cone(coefficients, home: int, trust: float) -> None:
    """Put orthonormal-basis coefficients whose cosine to basis vector ``home`` is below
    ``trust`` back on the cone's surface (same direction off ``home``)."""
    import torch

    with torch.no_grad():
        if coefficients[home] / coefficients.norm() >= trust:
            return
        off = coefficients.clone()
        off[home] = 0
        off = off / off.norm().clamp_min(1e-12)
        coefficients.copy_(off * (1 - trust**2) ** 0.5)
        coefficients[home] = trust


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="stylegan2-sprites,stylegan2-shapes")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--k", type=int, default=6)
    parser.add_argument("--select-steps", type=int, default=300)
    parser.add_argument("--refine-steps", type=int, default=300)
    parser.add_argument("--lr", type=float, default=0.02)
    parser.add_argument("--trust", type=float, default=0.0,
                        help="least |cos| of a refined direction to its kept candidate (0: off)")
    parser.add_argument("--eval-samples", type=int, default=256)
    parser.add_argument("--pca-samples", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    rows = [refine(model, int(seed), args.k, args.select_steps, args.refine_steps, args.lr,
                   args.trust, args.eval_samples, args.pca_samples)
            for model in args.models.split(",") for seed in args.seeds.split(",")]
    print(f"{'model':<20}{'seed':>5}  {'D':>13}  {'C':>13}  {'MIG':>13}  {'change ±2':>13}")
    for row in rows:
        cells = [f"{row['start'][m]:.3f} → {row['end'][m]:.3f}"
                 for m in ("disentanglement", "completeness", "mig_gap", "image_change")]
        print(f"{row['model']:<20}{row['seed']:>5}  " + "  ".join(cells))
    print(f"wall {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps({"settings": vars(args) | {"json": str(args.json)},
                                         "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
