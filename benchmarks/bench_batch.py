"""Wall time of an 8-run sweep on ``synthetic-shapes``: jobs 1 vs 2, local vs Ray, no-op rerun.

The sweep crosses two trained methods (topdis, vb) with four seeds; each run finds K = 3
directions in z. Every configuration is one fresh ``gandir batch`` process into a fresh folder
(start-up, imports and compilation included, as a user sees it), and every repeat runs all
configurations side by side, in a rotating order, so machine noise hits them alike:

- ``--jobs 1``: one run after another in the command's process, torch using every core;
- ``--jobs 1 --threads 1``: the same with one torch thread (a reference on a busy machine);
- ``--jobs 2``: two worker processes, cores / 2 torch threads each;
- ``--jobs 2 --executor ray``: the same on a local Ray instance (its start-up included);
- no-op rerun: the ``--jobs 2`` command again on its finished sweep.

    python benchmarks/bench_batch.py                    # 2 repeats, 20 steps per run
    python benchmarks/bench_batch.py --repeats 3 --steps 80 --no-ray

Prints the median wall time of each configuration and the ratios between them.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SWEEP = """
[defaults]
model = "synthetic-shapes"
space = "z"
k = 3
batch = 16
pca_samples = 512
recon_size = 16
rtd_size = 16
steps = {steps}
grid = {{seed = [0, 1, 2, 3]}}

[[runs]]
method = "topdis"

[[runs]]
method = "vb"
"""


def batch(sweep: Path, out: Path, *options: str) -> float:
    command = [sys.executable, "-m", "gan_directions.cli.main", "batch", str(sweep), "--out",
               str(out), "--quiet", *options]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode or "8 runs" not in done.stdout:
        raise SystemExit(f"gandir batch {' '.join(options)} failed:\n{done.stdout}{done.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--ray", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()

    from gan_directions.batch.executors import available_cores

    configs = {"jobs 1": [], "jobs 1, 1 thr": ["--threads", "1"], "jobs 2": ["--jobs", "2"]}
    if args.ray:
        configs["ray, jobs 2"] = ["--jobs", "2", "--executor", "ray"]
    names = list(configs)
    times: dict[str, list[float]] = {name: [] for name in [*names, "no-op rerun"]}
    with tempfile.TemporaryDirectory() as tmp:
        sweep = Path(tmp) / "bench-sweep.toml"
        sweep.write_text(SWEEP.format(steps=args.steps))
        for repeat in range(args.repeats):
            order = names[repeat % len(names):] + names[:repeat % len(names)]
            for name in order:
                out = Path(tmp) / f"{name.replace(' ', '_').replace(',', '')}-{repeat}"
                times[name].append(batch(sweep, out, *configs[name]))
                print(f"repeat {repeat}: {name:<14} {times[name][-1]:7.1f} s", flush=True)
                if name == "jobs 2":
                    times["no-op rerun"].append(batch(sweep, out, *configs[name]))
                    print(f"repeat {repeat}: {'no-op rerun':<14} "
                          f"{times['no-op rerun'][-1]:7.2f} s", flush=True)
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


if __name__ == "__main__":
    main()
