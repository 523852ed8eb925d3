"""VAE training speed on CPU, and a short β-VAE vs β-VAE+TopDis study on procedural dSprites.

    python benchmarks/bench_vae.py                 # seconds per step at batch 64 (about 1 min)
    python benchmarks/bench_vae.py --study runs/s  # train + evaluate 2 configs x 3 seeds (long)

The speed part prints the median seconds per training step for each objective and its ratio to
plain β-VAE (target for TopDis: <= 1.5x). The study trains each configuration with
``train_vae`` into ``OUT/<config>-s<seed>``, evaluates it with ``evaluate_vae`` (``--fast``
metrics unless ``--full-metrics``) and prints mean ± std per metric.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from gan_directions.runs.layout import EVAL_FAST_JSON, EVAL_JSON, RUN_RECORD, VAE_CHECKPOINT
from gan_directions.vae.train import TrainConfig, Trainer, train_vae
from gan_directions.worlds import get_dataset

SPEED_CONFIGS = {
    "betavae": dict(model="betavae"),
    "betavae+topdis": dict(model="betavae", topdis=5.0),
    "betavae+topdis+orth": dict(model="betavae", topdis=5.0, orthogonalize=True),
    "tcvae": dict(model="tcvae"),
    "factorvae": dict(model="factorvae"),
}
STUDY_CONFIGS = {
    "betavae": dict(model="betavae", beta=4.0),
    "betavae+topdis": dict(model="betavae", beta=4.0, topdis=5.0),
}


def speed(batch: int, steps: int, warmup: int) -> None:
    """Median seconds per step; the objectives take turns step by step, so a busy machine
    slows them alike and the ratios stay meaningful."""
    dataset = get_dataset("dsprites")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {batch}, "
          f"median of {steps} steps after {warmup} warm-up steps (interleaved)")
    trainers = {name: Trainer(TrainConfig(batch=batch, **options), dataset)
                for name, options in SPEED_CONFIGS.items()}
    times: dict[str, list[float]] = {name: [] for name in trainers}
    for round_index in range(warmup + steps):
        for name, trainer in trainers.items():
            start = time.perf_counter()
            trainer.step()
            if round_index >= warmup:
                times[name].append(time.perf_counter() - start)
    base = statistics.median(times["betavae"])
    for name, samples in times.items():
        seconds = statistics.median(samples)
        print(f"{name:<22} {seconds:8.4f} s/step   {seconds / base:5.2f}x vs betavae")


def _numbers(metrics: dict, prefix: str = ""):
    for key, value in metrics.items():
        if isinstance(value, dict):
            yield from _numbers(value, f"{prefix}{key}.")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            yield f"{prefix}{key}", float(value)


def study(out: Path, seeds: list[int], steps: int, lr: float, delay: int, full: bool) -> None:
    from gan_directions.vae.evaluate import evaluate_vae

    runs = [(name, seed) for seed in seeds for name in STUDY_CONFIGS]
    for name, seed in runs:  # train everything first, seed by seed, so pairs finish together
        run = out / f"{name}-s{seed}"
        if not (run / RUN_RECORD).is_file():
            config = TrainConfig(steps=steps, lr=lr, seed=seed, topdis_delay=delay,
                                 image_every=steps, checkpoint_every=250,
                                 **STUDY_CONFIGS[name])
            resume = (run / VAE_CHECKPOINT).is_file()
            started = time.perf_counter()
            train_vae(config, run, resume=resume, overwrite=not resume, quiet=True)
            print(f"trained {run} in {time.perf_counter() - started:.0f} s", flush=True)
    rows: dict[str, list[dict[str, float]]] = {}
    for name, seed in runs:
        run = out / f"{name}-s{seed}"
        result_path = run / (EVAL_JSON if full else EVAL_FAST_JSON)
        if not result_path.is_file():
            result = evaluate_vae(run, fast=not full, rlt=False)
            result_path.write_text(json.dumps(result, indent=2, default=str))
            print(f"evaluated {run} in {result['metrics_seconds']} s", flush=True)
        result = json.loads(result_path.read_text())
        rows.setdefault(name, []).append(dict(_numbers(result["metrics"])))
    keys = sorted({k for runs in rows.values() for r in runs for k in r})
    print(f"\nprocedural dSprites, {steps} steps, lr {lr}, TopDis delay {delay}, "
          f"seeds {seeds}, {'full' if full else 'fast'} metrics (mean ± std)")
    print(f"{'metric':<40}" + "".join(f"{n:>24}" for n in rows))
    for key in keys:
        cells = []
        for runs in rows.values():
            values = [r[key] for r in runs if key in r]
            cells.append(f"{np.mean(values):.3f} ± {np.std(values):.3f}" if values else "-")
        print(f"{key:<40}" + "".join(f"{c:>24}" for c in cells))
    summary = {name: runs for name, runs in rows.items()}
    (out / "study.json").write_text(json.dumps(summary, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=15, help="timed steps per objective")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--study", type=Path, default=None, help="run the study into this folder")
    parser.add_argument("--study-steps", type=int, default=1500)
    parser.add_argument("--study-lr", type=float, default=1e-3)
    parser.add_argument("--study-delay", type=int, default=500)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--full-metrics", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.study is None:
        speed(args.batch, args.steps, args.warmup)
    else:
        seeds = [int(s) for s in args.seeds.split(",")]
        study(args.study, seeds, args.study_steps, args.study_lr, args.study_delay,
              args.full_metrics)


if __name__ == "__main__":
    main()
