"""VAE training speed on CPU: seconds per step of each objective, interleaved, and TopDis's cost.

    python benchmarks/bench_vae.py --threads 1     # about 2 minutes on a quiet core

Every objective takes one step in turn, round after round, so a busy machine slows them alike and
the ratios stay meaningful; the medians over ``--steps`` rounds (after ``--warmup``) are printed
with each objective's ratio to plain β-VAE (TopDis target: <= 1.5x at batch 64); a lazy TopDis run
(``-every2``: TopDis on one step in two, at twice the weight) is timed per pair of consecutive
steps, halved; ``-batch2`` runs TopDis on a second batch, as the paper's β-VAE code does (one more
encode and decode per step). For β-VAE + TopDis the time spent in the four R-Cross-Barcodes
(giotto-ph) is timed separately, and one decoder pass (forward and backward, batch 64) is timed in
the same rounds: TopDis adds such a pass on the shifted batch, so 1 + (decoder pass / plain step)
is about the ratio TopDis cannot go below, whatever its barcodes cost (the shifted batch drops the
few latents that leave the CDF's range). The machine line gives the CPU, the torch threads, the
persistence helper processes, the allocator setting and the load average before and after: compare
ratios only between runs on equally quiet machines. ``--allocator glibc-default`` runs without the
training workflows' ``keep_freed_memory()``: page faults then add a similar fixed cost to every
step, which lowers the ratios. The study of trained models is ``benchmarks/vae_study.py``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch

from gan_directions.allocator import keep_freed_memory
from gan_directions.losses import topdis
from gan_directions.topology.ph import _helper_count
from gan_directions.vae.train import TrainConfig, Trainer
from gan_directions.worlds import get_dataset

SPEED_CONFIGS = {
    "betavae": dict(model="betavae"),
    "betavae+topdis": dict(model="betavae", topdis=5.0),
    "betavae+topdis+orth": dict(model="betavae", topdis=5.0, orthogonalize=True),
    "betavae+topdis-every2": dict(model="betavae", topdis=5.0, topdis_every=2),
    "betavae+topdis-batch2": dict(model="betavae", topdis=5.0, topdis_batch="second"),
    "tcvae": dict(model="tcvae"),
    "factorvae": dict(model="factorvae"),
    "factorvae+topdis+orth": dict(model="factorvae", topdis=6.0, orthogonalize=True),
}


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


class BarcodeTimer:
    """Wraps the barcode function TopDis calls and collects its wall time per call."""

    def __init__(self):
        self.inner = topdis.h1_pairs_many
        self.seconds: list[float] = []

    def __call__(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self.inner(*args, **kwargs)
        finally:
            self.seconds.append(time.perf_counter() - started)


def decoder_pass(trainer: Trainer) -> None:
    """One decoder forward and backward on a batch of latents, as TopDis's shifted batch takes."""
    z = torch.randn(trainer.config.batch, trainer.config.latent)
    trainer.vae.mean_image(z).sum().backward()
    trainer.vae.zero_grad(set_to_none=True)


def amortized(samples: list[float], every: int) -> list[float]:
    """Mean seconds per step over consecutive windows of ``every`` steps: a lazy TopDis run
    (one TopDis step in ``every``) pays its cost once per window."""
    usable = len(samples) - len(samples) % every
    return [sum(samples[i : i + every]) / every for i in range(0, usable, every)]


def speed(batch: int, steps: int, warmup: int, configs: list[str], allocator: str) -> None:
    dataset = get_dataset("dsprites")
    kept = allocator == "kept" and keep_freed_memory()
    print(f"{cpu_name()}, {os.cpu_count()} cores; torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread(s), {_helper_count()} persistence helper(s); "
          f"allocator: {'freed memory kept' if kept else 'glibc defaults'}; "
          f"load average {load()} (1/5/15 min)")
    print(f"batch {batch}, median of {steps} steps after {warmup} warm-up steps, interleaved")
    trainers = {name: Trainer(TrainConfig(batch=batch, **SPEED_CONFIGS[name]), dataset)
                for name in configs}
    timer = BarcodeTimer()
    topdis.h1_pairs_many = timer
    times: dict[str, list[float]] = {name: [] for name in trainers}
    decoder: list[float] = []
    barcodes: list[float] = []
    try:
        for round_index in range(warmup + steps):
            for name, trainer in trainers.items():
                timer.seconds.clear()
                start = time.perf_counter()
                trainer.step()
                if round_index >= warmup:
                    times[name].append(time.perf_counter() - start)
                    if name == "betavae+topdis":
                        barcodes.append(sum(timer.seconds))
            start = time.perf_counter()
            decoder_pass(trainers["betavae"])
            if round_index >= warmup:
                decoder.append(time.perf_counter() - start)
    finally:
        topdis.h1_pairs_many = timer.inner
    base = statistics.median(times["betavae"])
    for name, samples in times.items():
        seconds = statistics.median(amortized(samples, trainers[name].config.topdis_every))
        print(f"{name:<24} {seconds:8.4f} s/step   {seconds / base:5.2f}x vs betavae")
    if barcodes:
        overhead = statistics.median(times["betavae+topdis"]) - base
        spent = statistics.median(barcodes)
        print(f"betavae+topdis: barcodes {1000 * spent:.1f} ms/step (median), "
              f"{spent / overhead:.0%} of its {1000 * overhead:.1f} ms overhead; the rest is the "
              "shifted batch's decoder forward and backward")
    share = statistics.median(decoder) / base
    print(f"one decoder pass (forward and backward): {1000 * share * base:.1f} ms, "
          f"{share:.2f} of a plain step; TopDis cannot go much below {1 + share:.2f}x")
    print(f"load average after: {load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=30, help="timed steps per objective")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--allocator", choices=("kept", "glibc-default"), default="kept",
                        help="kept: as the training workflows run (keep_freed_memory)")
    parser.add_argument("--configs", default="betavae,betavae+topdis,betavae+topdis-every2",
                        help=f"comma-separated, from: {', '.join(SPEED_CONFIGS)}")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    configs = args.configs.split(",")
    unknown = [name for name in configs if name not in SPEED_CONFIGS]
    if unknown:
        parser.error(f"unknown config(s) {', '.join(unknown)}")
    if "betavae" not in configs:
        configs.insert(0, "betavae")
    speed(args.batch, args.steps, args.warmup, configs, args.allocator)


if __name__ == "__main__":
    main()
