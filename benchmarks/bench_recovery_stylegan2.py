"""Direction recovery on ``stylegan2-shapes``: TopDis vs the baselines against ground truth.

For each space (w, z), method (topdis, vb, ganspace, sefa, random) and seed, find K directions
(the trained methods with the same steps and batch: equal budgets) and evaluate them on the same
``--eval-samples`` latents: the direction × factor effect matrix read by the model's factor
regressor at ±``--alpha`` std, its DCI disentanglement / completeness and MIG-style gap.
Prints mean ± std over seeds (SeFa has no z-space directions: n/a), then steps/s of ``find``
at batch 32 on one CPU thread, and writes everything to ``--json``.

    python benchmarks/bench_recovery_stylegan2.py                          # 600 steps, 3 seeds
    python benchmarks/bench_recovery_stylegan2.py --steps 5 --eval-samples 32 --seeds 0
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

METHODS = ("topdis", "vb", "ganspace", "sefa", "random")
SPACES = ("w", "z")
METRICS = ("disentanglement", "completeness", "mig_gap")
EVAL_SEED = 12345  # the evaluation latents are the same for every run


def run_one(job: dict) -> dict:
    import torch

    torch.set_num_threads(1)
    from gan_directions.discovery import find_directions
    from gan_directions.errors import InvalidInputError
    from gan_directions.evaluation import recovery_report
    from gan_directions.generators.registry import load_generator

    generator = load_generator(job["model"])
    start = time.perf_counter()
    try:
        result = find_directions(generator, method=job["method"], k=job["k"],
                                 space=job["space"], steps=job["steps"], batch=job["batch"],
                                 seed=job["seed"], pca_samples=job["pca_samples"], quiet=True)
    except InvalidInputError as error:
        return {**job, "skipped": str(error)}
    find_seconds = time.perf_counter() - start
    report = recovery_report(generator, result.directions, alpha=job["alpha"],
                             samples=job["eval_samples"], seed=EVAL_SEED)
    return {**job, "find_seconds": round(find_seconds, 2),
            **{m: report[m] for m in METRICS},
            "direction_names": report["direction_names"], "effects": report["effects"]}


def throughput(model: str, method: str, batch: int, steps: int, pca_samples: int) -> float:
    import torch

    torch.set_num_threads(1)
    from gan_directions.discovery import find_directions
    from gan_directions.generators.registry import load_generator

    generator = load_generator(model)
    find_directions(generator, method=method, k=6, steps=2, batch=batch,
                    pca_samples=pca_samples, quiet=True)  # warm-up
    result = find_directions(generator, method=method, k=6, steps=steps, batch=batch,
                             pca_samples=pca_samples, quiet=True)
    return result.record["timing"]["steps_per_second"]


def summary(rows: list[dict], space: str, method: str) -> dict:
    mine = [r for r in rows if r["space"] == space and r["method"] == method]
    if not mine or any("skipped" in r for r in mine):
        return {"skipped": mine[0]["skipped"] if mine else "not run"}
    out = {}
    for metric in METRICS:
        values = np.array([r[metric] for r in mine])
        out[metric] = {"mean": float(values.mean()), "std": float(values.std()),
                       "per_seed": values.round(4).tolist()}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="stylegan2-shapes")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--k", type=int, default=6)
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--spaces", default=",".join(SPACES))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--eval-samples", type=int, default=256)
    parser.add_argument("--pca-samples", type=int, default=10000)
    parser.add_argument("--throughput-steps", type=int, default=20,
                        help="steps timed per trained method at batch 32 (0: skip)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--json", type=Path, default=Path("outputs/bench_recovery_stylegan2.json"))
    args = parser.parse_args()
    from gan_directions.directions import parse_seeds

    seeds = parse_seeds(args.seeds)
    spaces, methods = args.spaces.split(","), args.methods.split(",")
    jobs = [{"model": args.model, "space": space, "method": method, "seed": seed,
             "k": args.k, "steps": args.steps, "batch": args.batch, "alpha": args.alpha,
             "eval_samples": args.eval_samples, "pca_samples": args.pca_samples}
            for space in spaces for method in methods for seed in seeds]
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        rows = list(pool.map(run_one, jobs))
    wall = time.perf_counter() - start
    table = {space: {method: summary(rows, space, method) for method in methods}
             for space in spaces}
    print(f"{args.model}: K={args.k}, {args.steps} steps at batch {args.batch} for trained "
          f"methods, seeds {seeds}, effects at ±{args.alpha} std on {args.eval_samples} "
          f"latents; {args.workers} worker(s) x 1 thread; wall {wall:.0f} s")
    print(f"{'space':<6}{'method':<9}" + "".join(f"{m:>22}" for m in METRICS))
    for space in spaces:
        for method in methods:
            cells = table[space][method]
            if "skipped" in cells:
                print(f"{space:<6}{method:<9}  n/a ({cells['skipped']})")
                continue
            print(f"{space:<6}{method:<9}" + "".join(
                f"{cells[m]['mean']:>14.3f} ± {cells[m]['std']:.3f}" for m in METRICS))
    speeds = {}
    if args.throughput_steps > 0:
        for method in ("topdis", "vb"):
            speeds[method] = throughput(args.model, method, 32, args.throughput_steps,
                                        args.pca_samples)
        print("find at batch 32, w space, one CPU thread: " + ", ".join(
            f"{m} {s:.3f} steps/s" for m, s in speeds.items()))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"settings": vars(args) | {"json": str(args.json)},
                                     "table": table, "runs": rows,
                                     "steps_per_second_batch32": speeds,
                                     "wall_seconds": round(wall, 1)}, indent=1) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
