"""Does the TopDis objective rank disentangled directions first, before any search?

On a model with known factors, take fixed candidate directions in w (the least-squares
supervised probe's, SeFa's, GANSpace's and random ones), and for each measure:

- its purity: the largest entry of its row of the effect matrix over the row's sum (1: it
  moves one factor only), from ``evaluation.effect_matrix`` at ±1 fixed shift unit;
- the TopDis RTD of a Gaussian-CDF shift along it (C = 1/8, batch 32, several seeded
  batches), its relative image change, and their ratio, in each RTD embedding.

It prints the Spearman correlation of purity with RTD, with RTD per unit of change and with
the change alone, and the means per candidate set. A search can only find disentangled
directions through an objective that correlates (negatively) with purity here.

    python benchmarks/bench_objective_validity.py                    # stylegan2-shapes
    python benchmarks/bench_objective_validity.py --model synthetic-shapes --random 12
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

EMBEDDINGS = ("pixels+squares", "features")


def candidate_sets(generator, k: int, randoms: int, pca_samples: int) -> dict[str, np.ndarray]:
    from gan_directions.discovery import find_directions
    from gan_directions.discovery.init import random_directions

    sets = {method: find_directions(generator, method=method, k=k, space="w", quiet=True,
                                    pca_samples=pca_samples, **options).directions.directions
            for method, options in (("probe", {"probe_refine_steps": 0}), ("sefa", {}),
                                    ("ganspace", {}))}
    sets["random"] = random_directions(generator.w_dim, randoms, 0)
    return sets


def measure(generator, sets: dict, k: int, batches: int, eval_samples: int,
            pca_samples: int) -> list[dict]:
    import torch

    from gan_directions.directions import DirectionSet
    from gan_directions.discovery.latents import LatentSpace
    from gan_directions.discovery.objectives import TopDisTerm
    from gan_directions.discovery.search import (
        SearchSettings,
        _topdis_parts,
        fixed_unit,
        rtd_embedding,
    )
    from gan_directions.evaluation.effects import effect_matrix

    latents = LatentSpace(generator, "w", None, 1.0, None, 64)
    stats = latents.statistics(pca_samples, 0)
    unit = fixed_unit(stats, k)
    mean = torch.as_tensor(stats.full_mean(), dtype=torch.float32)
    rtd_cls, shift_fn = _topdis_parts()
    terms = {name: TopDisTerm(latents, rtd_cls(card=50), shift_fn, C=1 / 8,
                              embed=rtd_embedding(SearchSettings(rtd_embedding=name),
                                                  generator.img_channels, "cpu"))
             for name in EMBEDDINGS}
    rows = []
    for set_name, directions in sets.items():
        directions = directions / np.linalg.norm(directions, axis=1, keepdims=True)
        effects = effect_matrix(generator, DirectionSet(
            directions, space="w", scales=np.full(len(directions), unit)), 1.0, eval_samples,
            12345)
        for index, direction in enumerate(directions):
            row = {"set": set_name, "index": index,
                   "purity": float(effects[index].max() / max(effects[index].sum(), 1e-12))}
            d = torch.as_tensor(direction, dtype=torch.float32)
            for name, term in terms.items():
                values = [term(d, mean, torch.tensor(unit), 32,
                               torch.Generator().manual_seed(100 + b)) for b in range(batches)]
                with torch.no_grad():
                    row[name] = float(np.mean([v.rtd for v in values if v is not None]))
                    row[f"{name} change"] = float(np.mean([v.change for v in values
                                                           if v is not None]))
            rows.append(row)
    return rows


def report(rows: list[dict]) -> None:
    from scipy.stats import spearmanr

    purity = np.array([r["purity"] for r in rows])
    for name in EMBEDDINGS:
        rtd = np.array([r[name] for r in rows])
        change = np.array([r[f"{name} change"] for r in rows])
        print(f"{name}: Spearman(purity, RTD) {spearmanr(purity, rtd)[0]:+.3f}, "
              f"(purity, RTD/change) {spearmanr(purity, rtd / change)[0]:+.3f}, "
              f"(purity, change) {spearmanr(purity, change)[0]:+.3f}")
        for set_name in dict.fromkeys(r["set"] for r in rows):
            mine = [r for r in rows if r["set"] == set_name]
            print(f"  {set_name:<9} purity {np.mean([r['purity'] for r in mine]):.3f}  "
                  f"RTD {np.mean([r[name] for r in mine]):.3f}  change "
                  f"{np.mean([r[f'{name} change'] for r in mine]):.3f}  RTD/change "
                  f"{np.mean([r[name] / r[f'{name} change'] for r in mine]):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="stylegan2-shapes")
    parser.add_argument("--k", type=int, default=6)
    parser.add_argument("--random", type=int, default=24, help="random candidate directions")
    parser.add_argument("--batches", type=int, default=4, help="RTD batches per direction")
    parser.add_argument("--eval-samples", type=int, default=96)
    parser.add_argument("--pca-samples", type=int, default=10000)
    parser.add_argument("--json", type=Path, default=Path("outputs/bench_objective_validity.json"))
    args = parser.parse_args()
    import torch

    from gan_directions.generators.registry import load_generator

    torch.set_num_threads(1)
    generator = load_generator(args.model)
    started = time.perf_counter()
    sets = candidate_sets(generator, args.k, args.random, args.pca_samples)
    rows = measure(generator, sets, args.k, args.batches, args.eval_samples, args.pca_samples)
    print(f"{args.model}: {len(rows)} directions, {time.perf_counter() - started:.0f} s on one "
          "CPU thread")
    report(rows)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"settings": vars(args) | {"json": str(args.json)},
                                     "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
