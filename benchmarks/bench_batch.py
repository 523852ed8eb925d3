"""Wall time of an 8-run sweep on ``synthetic-shapes``: jobs 1 vs 2, local vs Ray, no-op rerun.

The sweep crosses two trained methods (topdis, vb) with four seeds; each run finds K = 3
directions in z. Each configuration runs into a fresh folder, side by side in every repeat
(so machine noise hits them alike):

- ``--jobs 1``: one run after another in this process, torch using every core;
- ``--jobs 1 --threads 1``: the same with one torch thread (for reference on a busy machine);
- ``--jobs 2``: two worker processes, cores / 2 torch threads each;
- ``--jobs 2 --executor ray``: the same on a local Ray instance (start-up included);
- no-op rerun: ``run_sweep`` again on a finished sweep (validation, status checks, results).

    python benchmarks/bench_batch.py                    # 2 repeats, 40 steps per run
    python benchmarks/bench_batch.py --repeats 3 --steps 80 --no-ray

Prints the median wall time of each configuration and the ratios between them.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

SWEEP = {
    "defaults": {"model": "synthetic-shapes", "space": "z", "k": 3, "batch": 16,
                 "pca_samples": 512, "recon_size": 16, "rtd_size": 16,
                 "grid": {"seed": [0, 1, 2, 3]}},
    "runs": [{"method": "topdis"}, {"method": "vb"}],
}


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--ray", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()

    from gan_directions.batch import run_sweep
    from gan_directions.batch.executors import available_cores

    sweep = {**SWEEP, "defaults": {**SWEEP["defaults"], "steps": args.steps}}
    configs = {"jobs 1": {"jobs": 1}, "jobs 1, 1 thr": {"jobs": 1, "threads": 1},
               "jobs 2": {"jobs": 2}}
    if args.ray:
        configs["ray, jobs 2"] = {"jobs": 2, "executor": "ray"}
    times: dict[str, list[float]] = {name: [] for name in [*configs, "no-op rerun"]}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            for name, options in configs.items():
                out = Path(tmp) / f"{name.replace(' ', '_').replace(',', '')}-{repeat}"
                seconds = timed(lambda out=out, options=options: _check(
                    run_sweep(sweep, out, quiet=True, **options)))
                times[name].append(seconds)
                print(f"repeat {repeat}: {name:<14} {seconds:7.1f} s", flush=True)
            seconds = timed(lambda out=out: _check(run_sweep(sweep, out, quiet=True, jobs=2)))
            times["no-op rerun"].append(seconds)
            print(f"repeat {repeat}: {'no-op rerun':<14} {seconds:7.2f} s", flush=True)
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"\n8-run sweep, {args.steps} steps per run, {available_cores()} cores, "
          f"median of {args.repeats}:")
    for name, value in medians.items():
        print(f"  {name:<14} {value:8.2f} s")
    print(f"  speed-up jobs 2 / jobs 1: {medians['jobs 1'] / medians['jobs 2']:.2f}x "
          f"(/ jobs 1 with 1 thread: {medians['jobs 1, 1 thr'] / medians['jobs 2']:.2f}x)")
    if args.ray:
        print(f"  ray / local at jobs 2:    {medians['ray, jobs 2'] / medians['jobs 2']:.2f}x "
              "wall time")
    print(f"  no-op rerun / jobs 1:     {medians['no-op rerun'] / medians['jobs 1']:.3f}")


def _check(result) -> None:
    if result.failed:
        raise SystemExit(f"runs failed: {[row['error'] for row in result.failed]}")
    if len(result.rows) != 8:
        raise SystemExit(f"expected 8 runs, got {len(result.rows)}")


if __name__ == "__main__":
    main()
