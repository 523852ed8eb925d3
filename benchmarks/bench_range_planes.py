"""What TopDis's score and the factors do as a range's first two SeFa directions are turned.

TopDis on a StyleGAN2 (``--mode ranges``) also offers each layer range's first two eligible
SeFa directions a and b turned to their diagonals, (a ± b)/√2 (``layer_pool.PLANE_ANGLES``).
This script shows why: for one range of ``find``'s own pool (``search.guarded_range_pool``,
same seed and guard) it turns the pair through the whole half-turn, cos θ·a + sin θ·b, and
for each θ prints the selection's value (RTD per unit of image change, the mean over
``--batches`` fresh batches and its standard error) and the direction's effect on every factor
(the model's regressor, as ``bench_recovery_stylegan2.py`` reads it: ±alpha std on 256 fixed
latents, seed 12345). θ and θ + 180° are the same edit, so 0–165° covers the plane.

    python benchmarks/bench_range_planes.py          # stylegan2-sprites, layers 0-1, ~1 min
    python benchmarks/bench_range_planes.py --model stylegan2-shapes --range 1 --json out.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

EVAL_SEED = 12345  # as bench_recovery_stylegan2.py
MEASURE_SEED = 777  # the batches the scores are measured on


def sweep(model: str, group: int, step: float, batches: int, seed: int, alpha: float,
          samples: int, pca_samples: int) -> dict:
    import torch

    from gan_directions.directions import DirectionSet
    from gan_directions.discovery.latents import LatentSpace
    from gan_directions.discovery.layer_pool import tied_scales
    from gan_directions.discovery.search import (
        SearchSettings,
        guarded_range_pool,
        selection_term,
    )
    from gan_directions.evaluation import recovery_report
    from gan_directions.generators.partial import search_resolution
    from gan_directions.generators.registry import load_generator

    generator = load_generator(model)
    settings = SearchSettings(method="topdis", k=6, seed=seed, pca_samples=pca_samples)
    latents = LatentSpace(generator, "w+", None, 1.0, None, search_resolution(generator, None, 0))
    stats = latents.statistics(settings.pca_samples, seed)
    pool, _, allowed = guarded_range_pool(settings, latents, stats)
    members = np.flatnonzero((pool.groups == group) & (pool.planes[:, 0] < 0) & allowed)
    if len(members) < 2:
        raise SystemExit(f"{model}: range {group} has fewer than two eligible SeFa directions")
    first, second = members[:2]
    angles = np.arange(0.0, 180.0, step)
    turns = np.radians(angles)[:, None]
    vectors = np.cos(turns) * pool.vectors[first] + np.sin(turns) * pool.vectors[second]
    layers = latents.span[1] - latents.span[0] + 1
    scales = tied_scales(vectors, stats.covariance, layers)

    term = selection_term(settings, latents)
    mean = torch.as_tensor(stats.full_mean(), dtype=torch.float32)
    directions = torch.as_tensor(vectors, dtype=torch.float32)
    units = torch.as_tensor(scales, dtype=torch.float32)
    rng = torch.Generator().manual_seed(MEASURE_SEED)
    values = [[] for _ in angles]
    with torch.no_grad():
        for _ in range(batches):
            for i in range(len(angles)):
                value = term.values(directions[[i]], mean, units[[i]], settings.batch, rng)[0]
                if value is not None:
                    values[i].append(float(value.loss))

    report = recovery_report(generator, DirectionSet(vectors, space="w+", scales=scales),
                             alpha=alpha, samples=samples, seed=EVAL_SEED)
    effects = np.abs(np.asarray(report["effects"]))
    return {"model": model, "range": list(pool.ranges[group]),
            "pair": [pool.describe(int(first)), pool.describe(int(second))],
            "batches": batches, "factor_names": report["factor_names"],
            "rows": [{"angle": float(angle), "score": float(np.mean(row)),
                      "stderr": float(np.std(row) / np.sqrt(len(row))),
                      "effects": effects[i].round(4).tolist()}
                     for i, (angle, row) in enumerate(zip(angles, values, strict=True))]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="stylegan2-sprites")
    parser.add_argument("--range", type=int, default=0, help="layer range index (0: layers 0-1)")
    parser.add_argument("--step", type=float, default=15.0, help="degrees between turns")
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--eval-samples", type=int, default=256)
    parser.add_argument("--pca-samples", type=int, default=10_000,
                        help="as bench_recovery_stylegan2.py")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    result = sweep(args.model, args.range, args.step, args.batches, args.seed, args.alpha,
                   args.eval_samples, args.pca_samples)
    low, high = result["range"]
    print(f"{args.model}, layers {low}-{high}: cos θ·a + sin θ·b, a = {result['pair'][0]}, "
          f"b = {result['pair'][1]}; score over {args.batches} batches; effects at "
          f"±{args.alpha} std")
    print(f"{'θ':>5}{'score':>9}{'± s.e.':>8}  " + " ".join(f"{n:>10}" for n in
                                                        result["factor_names"]))
    for row in result["rows"]:
        print(f"{row['angle']:>5.0f}{row['score']:>9.3f}{row['stderr']:>8.3f}  "
              + " ".join(f"{e:>10.2f}" for e in row["effects"]))
    print(f"wall {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
