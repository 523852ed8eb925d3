"""Direction recovery on ``synthetic-shapes``: TopDis vs the baselines, plus CPU throughput.

For each method (topdis, vb, ganspace, sefa, random) and seed, find K = 6 directions in w (= z
for this model) and report the Hungarian-matched |cos| with the true directions and the DCI
disentanglement of the direction→factor effect matrix (mean ± std over seeds). The trained
methods get the same step budget and batch. Then steps/s of both trained methods at batch 32.

    python benchmarks/bench_find.py                # defaults: 600 steps, seeds 0-2
    python benchmarks/bench_find.py --steps 1000 --seeds 0-4 --workers 2

Each run uses one torch thread; ``--workers`` runs that many searches at once.
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

METHODS = ("topdis", "vb", "ganspace", "sefa", "random")


def run_one(job: tuple[str, int, int, int, dict]) -> dict:
    method, seed, steps, batch, topdis_options = job
    import torch

    torch.set_num_threads(1)
    from gan_directions.discovery import find_directions
    from gan_directions.generators.registry import load_generator

    generator = load_generator("synthetic-shapes")
    start = time.perf_counter()
    result = find_directions(generator, method=method, k=6, space="w", steps=steps,
                             batch=batch, seed=seed, quiet=True, **topdis_options)
    recovery = result.record["recovery"]
    return {"method": method, "seed": seed, "seconds": time.perf_counter() - start,
            "cos": recovery["matched_abs_cos"], "dci": recovery["disentanglement"],
            "steps_per_second": result.record["timing"]["steps_per_second"]}


def throughput(method: str, batch: int, steps: int) -> float:
    import torch

    torch.set_num_threads(1)
    from gan_directions.discovery import find_directions
    from gan_directions.generators.registry import load_generator

    generator = load_generator("synthetic-shapes")
    find_directions(generator, method=method, k=6, steps=3, batch=batch, quiet=True)  # warm-up
    result = find_directions(generator, method=method, k=6, steps=steps, batch=batch,
                             quiet=True)
    return result.record["timing"]["steps_per_second"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--topdis-options", default="",
                        help="TopDis settings as key=value,..., e.g. recon_weight=0")
    args = parser.parse_args()
    from gan_directions.directions import parse_seeds
    from gan_directions.discovery.overrides import parse_search_options

    seeds = parse_seeds(args.seeds)
    topdis_options = parse_search_options(args.topdis_options)
    jobs = [(method, seed, args.steps, args.batch, topdis_options if method == "topdis" else {})
            for method in args.methods.split(",") for seed in seeds]
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        rows = list(pool.map(run_one, jobs))
    print(f"synthetic-shapes, K=6, space w (= z), {args.steps} steps at batch {args.batch} "
          f"for trained methods, seeds {seeds}, {args.workers} worker(s) x 1 thread; "
          f"wall {time.perf_counter() - start:.0f} s")
    print(f"{'method':<9} {'matched |cos|':>16} {'DCI disent.':>16} {'s/run':>7}   (cos/DCI)")
    for method in args.methods.split(","):
        mine = [r for r in rows if r["method"] == method]
        cos = np.array([r["cos"] for r in mine])
        dci = np.array([r["dci"] for r in mine])
        seconds = np.median([r["seconds"] for r in mine])
        print(f"{method:<9} {cos.mean():>8.3f} ± {cos.std():.3f} {dci.mean():>8.3f} ± "
              f"{dci.std():.3f} {seconds:>7.2f}   per seed: "
              + " ".join(f"{c:.2f}/{d:.2f}" for c, d in zip(cos, dci, strict=True)))
    print("throughput at batch 32, one thread (median of one 30-step run each):")
    for method in ("topdis", "vb"):
        print(f"  {method:<7} {throughput(method, 32, 30):6.2f} steps/s")


if __name__ == "__main__":
    main()
