"""How much room the ranges pool leaves above SeFa: the best K candidates that labels could pick.

TopDis on a StyleGAN2 (``--mode ranges``) keeps K candidates from a pool of SeFa directions
per layer range (``gan_directions/discovery/layer_pool.py``). This script builds that pool
with ``find``'s own ``search.guarded_range_pool`` (same seed and guard), reads every
candidate's effect on every factor with the model's regressor (the evaluation of
``bench_recovery_stylegan2.py``: ±alpha std on 256 fixed latents, seed 12345), and then
searches all K-subsets of the pool's SeFa directions of all layers and of each range (its
plane and adjacent-range candidates left out: with them the subsets number tens of millions)
for the ones that score best on the recovery metrics.
Those oracle rows use the labels: they are an upper bound for any unsupervised rule over this
pool, not a method.

Rows: all-layer SeFa's first K; the K that TopDis keeps (and its ``--rtd-weight 0``
ablation); the oracle subsets by MIG and by D, each over the whole pool and over the
candidates that pass the guard, and the best MIG and the best D among subsets whose directions
each move a different factor most ("distinct": one factor per row of a traversal grid, K = the
number of factors). ``weak`` counts kept directions whose largest effect is below a tenth of
a resample of any factor. The MIG gap (largest − second-largest effect over the total effect on
a factor) scores each factor, not each direction: near-null directions, or one direction that
moves several factors while the others move none of them, do not lower it.

    python benchmarks/bench_pool_oracle.py --threads 1          # both models, ~10 min
    python benchmarks/bench_pool_oracle.py --models stylegan2-sprites --json outputs/oracle.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

import numpy as np

EVAL_SEED = 12345  # as bench_recovery_stylegan2.py
WEAK = 0.1  # largest effect below this fraction of a resample: a near-null direction


def subset_scores(effects: np.ndarray, subset) -> tuple[float, float, int]:
    from gan_directions.evaluation.metrics import dci_scores, mig_gap

    chosen = effects[list(subset)]
    weak = int((np.abs(chosen).max(axis=1) < WEAK).sum())
    return dci_scores(chosen)["disentanglement"], mig_gap(chosen), weak


def kept_indices(pool, sources: list[str]) -> list[int]:
    """Pool indices of a ranges search's ``search.sources`` (each names one candidate)."""
    names = [pool.describe(i) for i in range(len(pool.vectors))]
    return [names.index(source) for source in sources]


def study(model: str, k: int, steps: int, seed: int, alpha: float, samples: int,
          pca_samples: int, per_range: int) -> dict:
    import dataclasses

    from gan_directions.discovery import find_directions
    from gan_directions.discovery.latents import LatentSpace
    from gan_directions.discovery.layer_pool import ALL_LAYERS
    from gan_directions.discovery.search import SearchSettings, guarded_range_pool
    from gan_directions.evaluation import recovery_report
    from gan_directions.generators.partial import search_resolution
    from gan_directions.generators.registry import load_generator

    generator = load_generator(model)
    settings = SearchSettings(method="topdis", k=k, seed=seed, pca_samples=pca_samples)
    runs = {name: find_directions(generator, method="topdis", k=k, steps=steps, seed=seed,
                                  pca_samples=pca_samples, quiet=True, **options)
            for name, options in (("topdis", {"refine_fraction": 0.0}),  # the rule's choice
                                  ("topdis-rtd0", {"rtd_weight": 0.0}))}
    found = runs["topdis"].directions
    if found.space != "w+":
        raise SystemExit(f"{model}: TopDis searched {found.space}, not the ranges pool in w+")
    latents = LatentSpace(generator, "w+", None, 1.0, None, search_resolution(generator, None, 0))
    stats = latents.statistics(settings.pca_samples, seed)
    pool, changes, allowed = guarded_range_pool(settings, latents, stats, per_range)
    candidates = dataclasses.replace(found, directions=pool.vectors, scales=pool.scales,
                                     names=[])
    report = recovery_report(generator, candidates, alpha=alpha, samples=samples,
                             seed=EVAL_SEED)
    effects = np.abs(np.asarray(report["effects"]))

    rows = {"sefa (all layers, first K)": list(range(k))}
    for name, result in runs.items():
        rows[name] = kept_indices(pool, result.record["search"]["sources"])
    dominant = effects.argmax(axis=1)
    # SeFa of all layers and of each range: the plane and adjacent-range candidates would
    # make the enumeration too long
    sefa = (pool.planes[:, 0] < 0) & (pool.groups >= ALL_LAYERS)
    for where, members in (("pool", np.flatnonzero(sefa)),
                           ("guarded pool", np.flatnonzero(allowed & sefa))):
        scored = [(subset, *subset_scores(effects, subset))
                  for subset in itertools.combinations(members, k)]
        rows[f"oracle MIG, {where}"] = list(max(scored, key=lambda s: s[2])[0])
        rows[f"oracle D, {where}"] = list(max(scored, key=lambda s: s[1])[0])
        distinct = [s for s in scored if len(set(dominant[list(s[0])])) == k]
        if distinct:  # one factor per direction, as a traversal grid should show
            rows[f"oracle MIG, {where}, distinct"] = list(max(distinct, key=lambda s: s[2])[0])
            rows[f"oracle D, {where}, distinct"] = list(max(distinct, key=lambda s: s[1])[0])
    table = {}
    for name, subset in rows.items():
        d, mig, weak = subset_scores(effects, subset)
        table[name] = {"disentanglement": round(d, 4), "mig_gap": round(mig, 4), "weak": weak,
                       "members": [pool.describe(int(i)) for i in subset]}
    return {"model": model, "k": k, "steps": steps, "seed": seed, "alpha": alpha,
            "eval_samples": samples, "pool_size": len(pool.vectors),
            "per_range": per_range, "guarded": int(allowed.sum()),
            "factor_names": report["factor_names"],
            "candidates": [{"source": pool.describe(i), "eligible": bool(allowed[i]),
                            "image_change": round(float(changes[i]), 4),
                            "effects": effects[i].round(4).tolist()}
                           for i in range(len(pool.vectors))],
            "rows": table}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="stylegan2-sprites,stylegan2-shapes")
    parser.add_argument("--k", type=int, default=6)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--eval-samples", type=int, default=256)
    parser.add_argument("--pca-samples", type=int, default=10_000,
                        help="as bench_recovery_stylegan2.py")
    parser.add_argument("--per-range", type=int, default=None,
                        help="SeFa directions per layer range in the oracle's pool (default: "
                             "as find); TopDis's own rows always use find's pool")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    import torch

    from gan_directions.discovery.layer_pool import PER_RANGE

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    results = [study(m, args.k, args.steps, args.seed, args.alpha, args.eval_samples,
                     args.pca_samples, args.per_range or PER_RANGE)
               for m in args.models.split(",")]
    for result in results:
        print(f"\n{result['model']}: K={result['k']}, pool of {result['pool_size']} "
              f"({result['guarded']} pass the guard), effects at ±{result['alpha']} std on "
              f"{result['eval_samples']} latents")
        print(f"{'subset':<38}{'D':>8}{'MIG':>8}{'weak':>6}  members")
        for name, row in result["rows"].items():
            print(f"{name:<38}{row['disentanglement']:>8.3f}{row['mig_gap']:>8.3f}"
                  f"{row['weak']:>6}  {'; '.join(row['members'])}")
    print(f"\nwall {time.perf_counter() - started:.0f} s; oracle rows use the labels "
          "(an upper bound over the pool, not a method)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
